"""The queue is served in one order (server/domain/conversations.py QUEUE_ORDER): sorting in
Python, the SQLAlchemy statements and the raw SQLite strings built from it agree, ties included."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, insert, select

from server.adapters.db.queue_order import (
    RAW_ORDER_BY,
    RAW_SERVED_BEFORE,
    order_by,
    raw_served_before,
    served_before,
)
from server.adapters.db.tables import conversations, sqlite_utc_text
from server.domain import conversations as rules
from server.domain.conversations import Conversation, State

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

# Every combination of two priorities and two start times, each twice with ids that sort against
# the insertion order: a tie on priority and time leaves only the id to decide.
QUEUE = [
    Conversation(
        id=f"{name}-{priority}-{minutes}",
        language="sv",
        topic=rules.DEFAULT_TOPIC,
        state=State.WAITING,
        created_at=T0 + timedelta(minutes=minutes),
        priority=priority,
    )
    for minutes, priority, name in itertools.product((1, 0), (0, rules.DANGER_PRIORITY), ("b", "a"))
]
SERVED = sorted(QUEUE, key=rules.queue_order_key)


def test_the_python_order_is_priority_then_waiting_time_then_id() -> None:
    expected = sorted(QUEUE, key=lambda c: (-c.priority, c.created_at, c.id))
    assert [c.id for c in SERVED] == [c.id for c in expected]


@pytest.fixture
def engine():  # type: ignore[no-untyped-def]
    engine = create_engine("sqlite://")
    conversations.create(engine)
    with engine.begin() as connection:
        for c in QUEUE:
            connection.execute(
                insert(conversations).values(
                    id=c.id,
                    language=c.language,
                    topic=c.topic,
                    state=c.state.value,
                    priority=c.priority,
                    created_at=c.created_at,
                    resume_hash=c.id,
                )
            )
    yield engine
    engine.dispose()


def test_sqlalchemy_serves_in_the_same_order(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        ids = connection.execute(select(conversations.c.id).order_by(*order_by(conversations))).scalars()
        assert list(ids) == [c.id for c in SERVED]
        for position, conversation in enumerate(SERVED):
            ahead = connection.execute(
                select(func.count())
                .select_from(conversations)
                .where(served_before(conversations, conversation))
            ).scalar_one()
            assert ahead == position, conversation.id


def test_raw_sqlite_serves_in_the_same_order(engine) -> None:  # type: ignore[no-untyped-def]
    def stored(value: object) -> object:
        return sqlite_utc_text(value) if isinstance(value, datetime) else value

    raw = engine.raw_connection()
    try:
        rows = raw.execute(f"SELECT id FROM conversations ORDER BY {RAW_ORDER_BY}").fetchall()
        assert [row[0] for row in rows] == [c.id for c in SERVED]
        for position, conversation in enumerate(SERVED):
            (ahead,) = raw.execute(
                f"SELECT COUNT(*) FROM conversations WHERE {RAW_SERVED_BEFORE}",
                raw_served_before(conversation, stored),
            ).fetchone()
            assert ahead == position, conversation.id
    finally:
        raw.close()
