"""Count tables over contact records, by one or two dimensions, with small counts suppressed.

The rule (docs/statistics.md): a cell with 0 < count < ``min_cell`` is suppressed (its count is
not returned). What is returned must not let anyone work a suppressed count out again:

- a *line* is a set of cells whose sum is public: the whole table (the grand total) and, in a
  table by two dimensions, each row and each column (the same query by one dimension returns
  them as its cells);
- in a line that holds suppressed cells, a reader knows their sum and a least value for each
  (1 by one dimension, 0 by two). That sum pins a cell when the line holds exactly one suppressed
  cell, or when every suppressed cell in it is at that least value. Then the smallest
  unsuppressed cell of the line is suppressed too (secondary suppression), and this repeats
  until no line pins a cell;
- a line with no cell left to suppress cannot be repaired: for the whole table, the total is then
  withheld (null). A grand total under ``min_cell`` is withheld as well.

By one dimension, only values with records are returned. By two, every combination of the values
seen on each axis is returned, zeros included, so an empty cell can be hidden as a secondary and a
reader cannot tell a hidden empty cell from a hidden small one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from server.domain.errors import InvalidInput

# The dimension names of the API and the record field each one groups by.
DIMENSIONS: Mapping[str, str] = {
    "perspective": "perspective",
    "topic": "topic",
    "language": "language",
    "outcome": "outcome",
    "channel": "channel",
    "district": "route",
    "milieu": "milieu",
    "week": "week",
    "duration": "duration_bucket",
    "survey": "survey",
    "came_back": "came_back",
    "escalation_kind": "escalation_kind",
}

Value = str | bool | None
Key = tuple[Value, ...]


@dataclass(frozen=True)
class Cell:
    key: Key
    count: int | None

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Table:
    by: tuple[str, ...]
    min_cell: int
    cells: tuple[Cell, ...]
    total: int | None


def parse_dimensions(text: str) -> tuple[str, ...]:
    """``a`` or ``a,b``: one or two known, different dimensions."""
    names = tuple(part.strip() for part in text.split(",")) if text else ()
    if not 1 <= len(names) <= 2:
        raise InvalidInput(
            "by names one or two dimensions, e.g. perspective,language", code="invalid_dimension"
        )
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise InvalidInput(
            f"unknown dimension {unknown[0]!r}; use {', '.join(DIMENSIONS)}", code="invalid_dimension"
        )
    if len(set(names)) != len(names):
        raise InvalidInput("by names a dimension twice", code="invalid_dimension")
    return names


def _sort_key(key: Key) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if value is None else (1, str(value)) for value in key)


def _grid(counts: Mapping[Key, int], dimensions: int) -> dict[Key, int]:
    """The cells a table returns: by one dimension, every value with a count; by two, every
    combination of the values seen on each axis, zeros included."""
    present = {key: count for key, count in counts.items() if count > 0}
    if dimensions == 1:
        return present
    rows = {key[0] for key in present}
    columns = {key[1] for key in present}
    return {(row, column): present.get((row, column), 0) for row in rows for column in columns}


def _lines(keys: Iterable[Key], dimensions: int) -> list[list[Key]]:
    """The sets of cells whose sums are public: rows and columns of a two-way table, then the
    whole table (last)."""
    ordered = sorted(keys, key=_sort_key)
    lines: list[list[Key]] = []
    if dimensions == 2:
        for axis in (0, 1):
            groups: dict[Value, list[Key]] = defaultdict(list)
            for key in ordered:
                groups[key[axis]].append(key)
            lines.extend(groups.values())
    lines.append(ordered)
    return lines


def _pins(hidden: Sequence[int], least: int) -> bool:
    """Whether a known sum of these hidden counts, each known to be at least ``least``, pins one."""
    return len(hidden) == 1 or (len(hidden) > 1 and sum(hidden) == least * len(hidden))


def suppress(cells: Mapping[Key, int], dimensions: int, min_cell: int) -> tuple[set[Key], bool]:
    """The cells to hide, and whether the grand total may be shown. ``cells`` is the grid the
    table returns; the least a hidden count can be is 1 by one dimension (zeros are not returned)
    and 0 by two (a hidden cell may be an empty one, hidden as a secondary)."""
    least = 1 if dimensions == 1 else 0
    hidden = {key for key, count in cells.items() if 0 < count < min_cell}
    lines = _lines(cells, dimensions)
    total_shown = True
    changed = True
    while changed:
        changed = False
        for index, line in enumerate(lines):
            inside = [cells[key] for key in line if key in hidden]
            if not inside or not _pins(inside, least):
                continue
            open_cells = [key for key in line if key not in hidden]
            if open_cells:
                hidden.add(min(open_cells, key=lambda key: (cells[key], _sort_key(key))))
                changed = True
            elif index == len(lines) - 1:
                total_shown = False
    total = sum(cells.values())
    if 0 < total < min_cell:
        total_shown = False
    return hidden, total_shown


def build_table(counts: Mapping[Key, int], by: tuple[str, ...], min_cell: int) -> Table:
    """``counts``: the number of records per key (values in the order of ``by``)."""
    grid = _grid(counts, len(by))
    hidden, total_shown = suppress(grid, len(by), min_cell)
    cells = tuple(
        Cell(key, None if key in hidden else count)
        for key, count in sorted(grid.items(), key=lambda item: _sort_key(item[0]))
    )
    return Table(by, min_cell, cells, sum(grid.values()) if total_shown else None)
