"""Suppression in the statistics tables (server/domain/statistics/tables.py): small counts are
hidden, and nothing one answer returns (its cells and its grand total) lets a reader work a hidden
count out again. Rows and columns of a two-way table get secondary suppression too, against
differencing with the one-way answer; that is a mitigation, not a proof (docs/statistics.md)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.errors import InvalidInput
from server.domain.statistics.tables import Key, Table, build_table, parse_dimensions

Constraint = tuple[tuple[Key, ...], int]


def feasible_values(
    hidden: list[Key], known: Mapping[Key, int], constraints: list[Constraint], cap: int, least: int
) -> dict[Key, set[int]]:
    """Values each hidden cell can take (each at least ``least``, at most ``cap``) in some assignment
    that agrees with every published sum; for each cell it stops at the second value found. Each value is
    tried on its own with an existence search, which finds one agreeing assignment quickly or prunes."""
    lines = [
        (cells, total - sum(known.get(cell, 0) for cell in cells if cell not in hidden))
        for cells, total in constraints
    ]
    lines = [([cell for cell in cells if cell in hidden], rest) for cells, rest in lines]

    def consistent(assignment: dict[Key, int]) -> bool:
        for cells, rest in lines:
            assigned = sum(assignment[cell] for cell in cells if cell in assignment)
            missing = sum(1 for cell in cells if cell not in assignment)
            if assigned + missing * least > rest or (missing == 0 and assigned != rest):
                return False
        return True

    def exists(assignment: dict[Key, int], order: list[Key]) -> bool:
        if not consistent(assignment):
            return False
        if not order:
            return True
        first, rest = order[0], order[1:]
        return any(exists({**assignment, first: value}, rest) for value in range(least, cap + 1))

    seen: dict[Key, set[int]] = {}
    for key in hidden:
        others = [cell for cell in hidden if cell != key]
        seen[key] = set()
        for value in range(least, cap + 1):
            if exists({key: value}, others):
                seen[key].add(value)
                if len(seen[key]) >= 2:
                    break
    return seen


def published(table: Table) -> tuple[dict[Key, int], list[Key]]:
    shown = {cell.key: cell.count for cell in table.cells if cell.count is not None}
    return shown, [cell.key for cell in table.cells if cell.count is None]


def assert_nothing_recoverable(counts: dict[Key, int], min_cell: int) -> None:
    """From one answer by two dimensions: its cells and its grand total."""
    two_way = build_table(counts, ("a", "b"), min_cell)
    shown, hidden = published(two_way)
    for cell in two_way.cells:
        assert cell.suppressed == (cell.count is None)
        assert cell.count is None or cell.count == counts.get(cell.key, 0)
    assert not any(0 < count < min_cell for count in shown.values()), "a small count is shown"
    every = tuple(cell.key for cell in two_way.cells)
    constraints: list[Constraint] = [] if two_way.total is None else [(every, two_way.total)]
    cap = sum(counts.values()) + 3
    # A two-way table returns every combination, zeros included: a hidden cell may be empty.
    for key, values in feasible_values(hidden, shown, constraints, cap, least=0).items():
        assert len(values) >= 2, f"{key} can be worked out: it must be {values}"


grids = st.integers(1, 3).flatmap(
    lambda rows: st.integers(1, 3).flatmap(
        lambda columns: st.lists(st.integers(0, 9), min_size=rows * columns, max_size=rows * columns).map(
            lambda values: {(f"r{i // columns}", f"c{i % columns}"): v for i, v in enumerate(values)}
        )
    )
)


@settings(max_examples=120, deadline=None)
@given(counts=grids, min_cell=st.integers(2, 5))
def test_no_suppressed_count_can_be_recovered(counts: dict[Key, int], min_cell: int) -> None:
    assert_nothing_recoverable(counts, min_cell)


@settings(max_examples=120, deadline=None)
@given(values=st.lists(st.integers(0, 12), min_size=1, max_size=6), min_cell=st.integers(2, 5))
def test_one_way_tables_reveal_nothing_through_the_total(values: list[int], min_cell: int) -> None:
    counts: dict[Key, int] = {(f"v{i}",): v for i, v in enumerate(values)}
    table = build_table(counts, ("a",), min_cell)
    shown, hidden = published(table)
    constraints: list[Constraint] = (
        [] if table.total is None else [(tuple(c.key for c in table.cells), table.total)]
    )
    for key, found in feasible_values(hidden, shown, constraints, sum(values) + 3, least=1).items():
        assert len(found) >= 2, f"{key} must be {found}"


def test_a_small_cell_is_suppressed_and_the_next_smallest_with_it() -> None:
    table = build_table({("sv",): 20, ("ar",): 3, ("so",): 7, ("en",): 9}, ("language",), 5)
    assert {cell.key[0]: cell.count for cell in table.cells} == {"ar": None, "en": 9, "so": None, "sv": 20}
    assert table.total == 39


def test_two_hidden_ones_hide_a_third_cell_since_their_sum_would_pin_both() -> None:
    table = build_table({("a",): 1, ("b",): 1, ("c",): 6, ("d",): 8}, ("x",), 5)
    assert [cell.count for cell in table.cells] == [None, None, None, 8]


def test_the_total_is_withheld_when_every_cell_is_one_hidden_cell() -> None:
    table = build_table({("a",): 3}, ("x",), 5)
    assert table.cells[0].suppressed and table.total is None


def test_a_row_with_one_hidden_cell_gets_a_second_one() -> None:
    counts: dict[Key, int] = {("sv", "chat"): 40, ("sv", "phone"): 2, ("ar", "chat"): 30, ("ar", "phone"): 9}
    table = build_table(counts, ("language", "channel"), 5)
    hidden = {cell.key for cell in table.cells if cell.suppressed}
    # sv/phone is small; its row and its column each need a second hidden cell.
    assert hidden == {("sv", "phone"), ("ar", "phone"), ("sv", "chat"), ("ar", "chat")}
    assert table.total == 81


def test_zero_counts_are_not_returned_and_large_tables_keep_their_counts() -> None:
    table = build_table({("a", "x"): 0, ("a", "y"): 12, ("b", "x"): 30, ("b", "y"): 7}, ("p", "q"), 5)
    assert [(cell.key, cell.count) for cell in table.cells] == [
        (("a", "x"), 0),
        (("a", "y"), 12),
        (("b", "x"), 30),
        (("b", "y"), 7),
    ]
    assert table.total == 49


def test_none_sorts_first_and_stays_a_key() -> None:
    table = build_table({(None,): 6, ("islamist",): 9}, ("milieu",), 5)
    assert [cell.key for cell in table.cells] == [(None,), ("islamist",)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("perspective", ("perspective",)),
        ("perspective,language", ("perspective", "language")),
        ("week, district", ("week", "district")),
    ],
)
def test_dimensions_parse(text: str, expected: tuple[str, ...]) -> None:
    assert parse_dimensions(text) == expected


@pytest.mark.parametrize("text", ["", "colour", "perspective,perspective", "a,b,c", "topic,"])
def test_bad_dimensions_are_refused_clearly(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_dimensions(text)
    assert raised.value.code == "invalid_dimension"
