"""The statistics table for 100,000 contact records over 52 weeks, split by two dimensions, on
SQLite (issue 12: under 200 ms). Prints the median of the full answer (StatisticsService.table:
the weekly counts, the grid and the suppression) next to a bare ``SELECT ... COUNT(*) GROUP BY``
over the records themselves in the same run (what the answer cost before contact_counts).
The records are written before migration 0011, which then fills the counts from them.
Run: .venv/bin/python bench/stats_bench.py [--records N] [--by a,b]"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.statistics.buckets import BUCKETS
from server.domain.statistics.records import MILIEUS, PERSPECTIVES, TOPIC_PERSPECTIVES
from server.domain.statistics.tables import DIMENSIONS
from server.services.statistics import StatisticsPolicy, StatisticsService

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
OUTCOMES = ("supported", "referred", "information", "no_contact", "other", "abandoned", "attended")
CHANNELS = ("chat", "phone", "visit", "group")
ROUNDS = 30


def fill(path: Path, records: int) -> None:
    rng = random.Random(12)
    rows = [
        (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            f"2026-W{rng.randint(1, 52):02d}",
            rng.choice(("spanga-tensta", "rinkeby-kista")),
            rng.choice(LANGUAGES),
            rng.choice(tuple(TOPIC_PERSPECTIVES)),
            rng.choice(PERSPECTIVES),
            rng.choice((None, *MILIEUS)),
            rng.choice(OUTCOMES),
            rng.choice(BUCKETS),
            rng.choice(CHANNELS),
            None,
            rng.random() < 0.2,
            rng.choice((None, "yes", "partly", "no", "skipped")),
        )
        for _ in range(records)
    ]
    with sqlite3.connect(path) as db:
        db.executemany(f"INSERT INTO contact_records VALUES ({','.join('?' * 13)})", rows)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def measure(path: Path, by: str) -> tuple[float, float]:
    database = Database(f"sqlite+aiosqlite:///{path}")
    uow = SqlUnitOfWork(database, DataCiphers.from_key(bytes(32)))
    service = StatisticsService(uow, StatisticsPolicy())
    full: list[float] = []
    try:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            await service.table("2026-W01", "2026-W52", by)
            full.append(time.perf_counter() - started)
    finally:
        await uow.close()
        await database.dispose()
    columns = ", ".join(DIMENSIONS[name] for name in by.split(","))
    bare: list[float] = []
    with sqlite3.connect(path) as db:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            db.execute(
                f"SELECT {columns}, COUNT(*) FROM contact_records "
                f"WHERE week BETWEEN '2026-W01' AND '2026-W52' GROUP BY {columns}"
            ).fetchall()
            bare.append(time.perf_counter() - started)
    return median_ms(full), median_ms(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--by", default="week,language")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stats.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url, "0010_contact_records")
        fill(path, args.records)
        started = time.perf_counter()
        upgrade(url)
        migrated = time.perf_counter() - started
        with sqlite3.connect(path) as db:
            ((cells,),) = db.execute("SELECT COUNT(*) FROM contact_counts").fetchall()
        full, bare = asyncio.run(measure(path, args.by))
    print(f"{args.records} records, 52 weeks, by {args.by} (median of {ROUNDS}):")
    print(f"  migration 0011 filled {cells} count rows in {migrated:.1f} s")
    print(f"  GET /api/stats path (weekly counts + grid + suppression): {full:.1f} ms")
    print(f"  bare COUNT(*) GROUP BY over the records (baseline):       {bare:.1f} ms")
    print(f"  ratio: {full / bare:.2f}")


if __name__ == "__main__":
    main()
