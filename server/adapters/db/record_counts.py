"""Weekly counts of contact records by every pair of record fields (``contact_counts``).

Each record adds one to its week's total, to one row per field it has and to one row per pair of
fields, so a table by any one or two dimensions over a range of weeks is a sum over at most
weeks x values_a x values_b rows, however many records there are. The counts are changed in the
same transaction as the records (RecordStore), and the migration 0011 fills them from the records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from sqlalchemy import Boolean, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.tables import contact_counts, contact_records
from server.domain.statistics.tables import DIMENSIONS, Key, Value

WEEK = "week"
FIELDS = tuple(sorted(set(DIMENSIONS.values()) - {WEEK}))
NONE = ""
_BOOLEAN = frozenset(name for name in FIELDS if isinstance(contact_records.c[name].type, Boolean))


def _stored(value: Value) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


def _read(field: str, stored: str) -> Value:
    if field in _BOOLEAN:
        return stored == "1"
    return None if stored == NONE else stored


def cells(values: Mapping[str, Value], delta: int) -> list[dict[str, Any]]:
    """The count rows one record (its fields by name) changes, each by ``delta``."""
    week = values[WEEK]
    stored = {name: _stored(values[name]) for name in FIELDS}
    keys = [(NONE, NONE, NONE, NONE)]
    keys += [(name, NONE, stored[name], NONE) for name in FIELDS]
    keys += [(a, b, stored[a], stored[b]) for a, b in combinations(FIELDS, 2)]
    return [
        {"field_a": a, "field_b": b, "week": week, "value_a": va, "value_b": vb, "count": delta}
        for a, b, va, vb in keys
    ]


async def change(connection: AsyncConnection, values: Mapping[str, Value], delta: int) -> None:
    rows = cells(values, delta)
    dialect = connection.dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite.insert(contact_counts)
    elif dialect == "postgresql":
        statement = postgresql.insert(contact_counts)
    else:
        raise NotImplementedError(f"no upsert for {dialect}")
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in contact_counts.primary_key],
        set_={"count": contact_counts.c.count + statement.excluded.count},
    )
    await connection.execute(statement, rows)


async def counts(
    connection: AsyncConnection, columns: Sequence[str], first_week: str, last_week: str
) -> dict[Key, int]:
    """Records per distinct value of ``columns`` (record fields, at most two) over the weeks."""
    fields = sorted(name for name in columns if name != WEEK)
    if len(fields) > 2 or len(set(columns)) != len(columns):
        raise ValueError(f"not one or two distinct fields: {columns}")
    field_a, field_b = (*fields, NONE, NONE)[:2]
    value_of = {
        field_a: contact_counts.c.value_a,
        field_b: contact_counts.c.value_b,
        WEEK: contact_counts.c.week,
    }
    grouped = [value_of[name] for name in columns]
    total = func.sum(contact_counts.c.count)
    rows = await connection.execute(
        select(*grouped, total)
        .where(
            contact_counts.c.field_a == field_a,
            contact_counts.c.field_b == field_b,
            contact_counts.c.week.between(first_week, last_week),
        )
        .group_by(*grouped)
        .having(total > 0)
    )
    return {
        tuple(
            value if name == WEEK else _read(name, value)
            for name, value in zip(columns, row[:-1], strict=True)
        ): int(row[-1])
        for row in rows
    }
