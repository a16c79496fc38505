"""The queue order of server/domain/conversations.py (QUEUE_ORDER) as SQL: for SQLAlchemy and for
the raw SQLite strings of sqlite_hot_paths.py, so both paths serve the queue in the one order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_

from server.domain.conversations import QUEUE_ORDER, Conversation, SortKey


def order_by(table: Table) -> list[ColumnElement[Any]]:
    """ORDER BY in the order the queue is served."""
    return [table.c[key.field].desc() if key.descending else table.c[key.field] for key in QUEUE_ORDER]


def served_before(table: Table, conversation: Conversation) -> ColumnElement[bool]:
    """The rows served before ``conversation``: ahead on the first key, or level with it and ahead
    on the rest."""

    def ahead(keys: Sequence[SortKey]) -> ColumnElement[bool]:
        key, *rest = keys
        column, value = table.c[key.field], getattr(conversation, key.field)
        first = column > value if key.descending else column < value
        return or_(first, and_(column == value, ahead(rest))) if rest else first

    return ahead(QUEUE_ORDER)


def _raw_ahead(keys: Sequence[SortKey]) -> str:
    key, *rest = keys
    first = f"{key.field} {'>' if key.descending else '<'} ?"
    return f"({first} OR ({key.field} = ? AND {_raw_ahead(rest)}))" if rest else first


#: Raw SQL: ORDER BY in the order the queue is served.
RAW_ORDER_BY = ", ".join(f"{key.field} DESC" if key.descending else key.field for key in QUEUE_ORDER)
#: Raw SQL: the rows served before a conversation; its parameters come from ``raw_served_before``.
RAW_SERVED_BEFORE = _raw_ahead(QUEUE_ORDER)


def raw_served_before(conversation: Conversation, to_sql: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The parameters of RAW_SERVED_BEFORE; ``to_sql`` turns a field value into its stored form."""
    values = [to_sql(getattr(conversation, key.field)) for key in QUEUE_ORDER]
    return (*(value for value in values[:-1] for _ in range(2)), values[-1])
