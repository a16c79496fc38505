"""contact_counts against the records themselves: written by RecordStore (and a survey answer) or
filled by migration 0011, every table by one or two dimensions over the weekly counts equals a
GROUP BY over contact_records on the same real SQLite file."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from itertools import combinations
from pathlib import Path

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.statistics.records import Channel, ContactRecord, Survey
from server.domain.statistics.tables import DIMENSIONS, Key
from tests.integration.wiring import sqlite_url

WEEKS = ("2026-W01", "2026-W02", "2026-W03")
FIRST, LAST = "2026-W02", "2026-W03"
QUERIES = [(name,) for name in sorted(set(DIMENSIONS.values()))] + list(
    combinations(sorted(set(DIMENSIONS.values())), 2)
)


def random_record(rng: random.Random) -> ContactRecord:
    return ContactRecord(
        week=rng.choice(WEEKS),
        route=rng.choice(("spanga-tensta", "rinkeby-kista")),
        language=rng.choice(("sv", "ar")),
        topic=rng.choice(("worry", "exit")),
        perspective=rng.choice(("support", "exit")),
        milieu=rng.choice((None, "right_wing")),
        outcome=rng.choice(("supported", "referred")),
        duration_bucket=rng.choice(("under_10m", "10_30m")),
        channel=rng.choice(tuple(Channel)),
        escalation_kind=rng.choice((None, "concern")),
        came_back=rng.random() < 0.5,
        survey=rng.choice((None, Survey.YES)),
    )


def grouped(path: Path, columns: tuple[str, ...]) -> dict[Key, int]:
    names = ", ".join(columns)
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            f"SELECT {names}, COUNT(*) FROM contact_records WHERE week BETWEEN ? AND ? GROUP BY {names}",
            (FIRST, LAST),
        ).fetchall()
    return {
        tuple(bool(v) if n == "came_back" else v for n, v in zip(columns, row[:-1], strict=True)): row[-1]
        for row in rows
    }


async def counted(uow: SqlUnitOfWork) -> dict[tuple[str, ...], dict[Key, int]]:
    async with uow.read() as repos:
        return {columns: await repos.records.counts(columns, FIRST, LAST) for columns in QUERIES}


async def test_counts_follow_every_record_and_survey_answer(uow: SqlUnitOfWork, migrated: Path) -> None:
    rng = random.Random(11)
    keys = []
    async with uow.write() as repos:
        for _ in range(120):
            keys.append(await repos.records.add(random_record(rng)))
    async with uow.write() as repos:
        answered = [await repos.records.answer_survey(key, Survey.PARTLY) for key in keys[:40]]
    assert any(answered) and not all(answered)

    assert await counted(uow) == {columns: grouped(migrated, columns) for columns in QUERIES}


async def test_the_migration_fills_the_counts_from_existing_records(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await asyncio.to_thread(upgrade, sqlite_url(path), "0010_contact_records")
    rng = random.Random(5)
    with sqlite3.connect(path) as raw:
        for index in range(150):
            record = random_record(rng)
            raw.execute(
                "INSERT INTO contact_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"key-{index}",
                    record.week,
                    record.route,
                    record.language,
                    record.topic,
                    record.perspective,
                    record.milieu,
                    record.outcome,
                    record.duration_bucket,
                    record.channel.value,
                    record.escalation_kind,
                    record.came_back,
                    record.survey.value if record.survey else None,
                ),
            )
    await asyncio.to_thread(upgrade, sqlite_url(path))

    database = Database(sqlite_url(path))
    uow = SqlUnitOfWork(database, DataCiphers.from_key(bytes(32)))
    try:
        assert await counted(uow) == {columns: grouped(path, columns) for columns in QUERIES}
    finally:
        await uow.close()
        await database.dispose()
