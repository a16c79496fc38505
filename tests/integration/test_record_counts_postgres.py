"""contact_counts on a real PostgreSQL (its own upsert, a real boolean ``came_back``): records written
by RecordStore and survey answers keep every table by one or two dimensions over the weekly counts
equal to a GROUP BY over contact_records, as tests/integration/test_record_counts.py shows on
SQLite; and migration 0011 fills the counts from records already there."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.statistics.records import Survey
from server.domain.statistics.tables import Key
from tests.integration.test_record_counts import FIRST, LAST, QUERIES, counted, random_record
from tests.support.services import postgres_server


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


async def migrate(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[Database]:
    """A fresh schema for each test: everything dropped, then migrated to ``head`` by the test."""
    database = Database(postgres_url)
    async with database.write() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    yield database
    await database.dispose()


@pytest.fixture
async def uow(database: Database) -> AsyncIterator[SqlUnitOfWork]:
    uow = SqlUnitOfWork(database, DataCiphers.from_key(bytes(32)))
    yield uow
    await uow.close()


async def grouped(database: Database, columns: tuple[str, ...]) -> dict[Key, int]:
    """The same table straight from the records, with PostgreSQL's own GROUP BY."""
    names = ", ".join(columns)
    async with database.read() as connection:
        rows = await connection.execute(
            text(
                f"SELECT {names}, COUNT(*) FROM contact_records "
                f"WHERE week BETWEEN :first AND :last GROUP BY {names}"
            ),
            {"first": FIRST, "last": LAST},
        )
        return {tuple(row[:-1]): int(row[-1]) for row in rows}


async def test_counts_follow_every_record_and_survey_answer_on_postgresql(
    postgres_url: str, database: Database, uow: SqlUnitOfWork
) -> None:
    await migrate(postgres_url)
    rng = random.Random(23)
    keys = []
    async with uow.write() as repos:
        for _ in range(120):
            keys.append(await repos.records.add(random_record(rng)))
    async with uow.write() as repos:
        answered = [await repos.records.answer_survey(key, Survey.NO) for key in keys[:40]]
        again = await repos.records.answer_survey(keys[0], Survey.YES)
    assert any(answered) and not all(answered)
    assert not again, "a second answer changes nothing"

    expected = {columns: await grouped(database, columns) for columns in QUERIES}
    assert sum(expected[("week",)].values()) > 0, "the range holds records"
    assert await counted(uow) == expected


async def test_the_migration_fills_the_counts_from_existing_records_on_postgresql(
    postgres_url: str, database: Database, uow: SqlUnitOfWork
) -> None:
    await migrate(postgres_url, "0010_contact_records")
    rng = random.Random(7)
    rows = []
    for index in range(150):
        record = random_record(rng)
        rows.append(
            {
                "record_key": f"key-{index}",
                "week": record.week,
                "route": record.route,
                "language": record.language,
                "topic": record.topic,
                "perspective": record.perspective,
                "milieu": record.milieu,
                "outcome": record.outcome,
                "duration_bucket": record.duration_bucket,
                "channel": record.channel.value,
                "escalation_kind": record.escalation_kind,
                "came_back": record.came_back,
                "survey": record.survey.value if record.survey else None,
            }
        )
    async with database.write() as connection:
        await connection.execute(
            text(
                "INSERT INTO contact_records VALUES (:record_key, :week, :route, :language, :topic, "
                ":perspective, :milieu, :outcome, :duration_bucket, :channel, :escalation_kind, "
                ":came_back, :survey)"
            ),
            rows,
        )
    await migrate(postgres_url)

    expected = {columns: await grouped(database, columns) for columns in QUERIES}
    assert await counted(uow) == expected
