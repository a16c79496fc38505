"""How long computing four weeks of free slots takes for 50 counsellors.

Two figures:

  domain   the pure computation (server/domain/booking/slots.py): 50 counsellors with weekly
           availability, languages, days off and busy appointments, one kind, 28 days
  service  GET /api/slots's path without HTTP: BookingService.slots on a real SQLite file
           (read counsellors, busy appointments and group sessions, then compute)

Usage: .venv/bin/python bench/slots_bench.py [--counsellors 50] [--days 28] [--rounds 30]
Prints the median, the 95th percentile and the best of the rounds, and how many slots came out.
Target (docs/performance.md): under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.tables import appointments, booking_profiles, staff_users
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.booking.availability import (
    Availability,
    DateException,
    WeeklyWindow,
    availability_to_plain,
)
from server.domain.booking.kinds import KindRules
from server.domain.booking.slots import Busy, BusyIndex, Counsellor, SlotQuery, available_slots
from server.services.booking import BookingPolicy, BookingService
from server.services.events import EventBus

ZONE = ZoneInfo("Europe/Stockholm")
LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
KIND = KindRules("phone", timedelta(minutes=45), timedelta(minutes=15), min_notice=timedelta(hours=2))


def build_counsellors(count: int, days: int, now: datetime, seed: int = 7) -> tuple[list[Counsellor], dict]:
    """Counsellors with one or two windows on most weekdays, a few days off, every one Swedish-
    speaking, and about a third of their slots already booked."""
    rng = random.Random(seed)
    counsellors, busy = [], {}
    first_day = now.astimezone(ZONE).date()
    for counsellor_id in range(1, count + 1):
        weekly = []
        for weekday in range(7):
            if weekday >= 5 and rng.random() < 0.7:
                continue
            start = rng.choice([8, 9, 10]) * 60
            weekly.append(WeeklyWindow(weekday, start, start + rng.choice([4, 5]) * 60))
            if rng.random() < 0.5:
                afternoon = rng.choice([14, 15]) * 60
                weekly.append(WeeklyWindow(weekday, afternoon, afternoon + rng.choice([3, 4, 5]) * 60))
        days_off = tuple(
            DateException(first_day + timedelta(days=rng.randrange(days)), False)
            for _ in range(rng.randrange(4))
        )
        languages = ("sv", *rng.sample(LANGUAGES[1:], rng.randrange(3)))
        counsellors.append(Counsellor(counsellor_id, Availability(languages, tuple(weekly), days_off)))
        busy[counsellor_id] = [
            Busy(start, start + KIND.step)
            for start in (
                datetime.combine(first_day + timedelta(days=rng.randrange(days)), datetime.min.time(), ZONE)
                .replace(hour=rng.choice([9, 10, 11]))
                .astimezone(UTC)
                for _ in range(days * 2)
            )
        ]
    return counsellors, busy


def timed(function, rounds: int) -> tuple[list[float], object]:
    durations, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = function()
        durations.append((time.perf_counter() - began) * 1000)
    return durations, result


def report(name: str, durations: list[float], slots: int) -> None:
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(
        f"{name:8s} median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   "
        f"best {ordered[0]:7.1f} ms   ({slots} slots, {len(ordered)} rounds)"
    )


async def service_rounds(
    counsellors: list[Counsellor], busy: dict, now: datetime, days: int, rounds: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        key = os.urandom(32)
        uow = SqlUnitOfWork(database, DataCiphers.from_key(key))
        async with database.write() as connection:
            for counsellor in counsellors:
                plain = availability_to_plain(counsellor.availability)
                await connection.execute(
                    staff_users.insert().values(
                        id=counsellor.id,
                        username=f"c{counsellor.id}",
                        display_name=f"c{counsellor.id}",
                        password_hash="-",
                        role="counsellor",
                        languages=plain["languages"],
                        active=True,
                        created_at=now,
                    )
                )
                await connection.execute(
                    booking_profiles.insert().values(
                        user_id=counsellor.id,
                        weekly=plain["weekly"],
                        exceptions=plain["exceptions"],
                        last_assignment=0,
                        updated_at=now,
                    )
                )
                for index, interval in enumerate(busy[counsellor.id]):
                    await connection.execute(
                        appointments.insert().values(
                            id=f"{counsellor.id}-{index}",
                            reference=f"R{counsellor.id:03d}{index:03d}",
                            kind="phone",
                            language="sv",
                            start_at=interval.start,
                            end_at=interval.start + KIND.duration,
                            busy_until=interval.end,
                            counsellor_id=counsellor.id,
                            state="booked",
                            created_at=now,
                            version=1,
                        )
                    )
        policy = BookingPolicy(ZONE, {"phone": KIND}, LANGUAGES, (timedelta(hours=24),), "SE")
        service = BookingService(uow, lambda: now, policy, None, None, EventBus())  # type: ignore[arg-type]
        durations = []
        found = []
        for _ in range(rounds):
            began = time.perf_counter()
            found = await service.slots("phone", "sv", now, now + timedelta(days=days))
            durations.append((time.perf_counter() - began) * 1000)
        report("service", durations, len(found))
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counsellors", type=int, default=50)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    now = datetime.combine(date(2026, 3, 16), datetime.min.time(), ZONE).astimezone(
        UTC
    )  # spans the March change
    counsellors, busy = build_counsellors(args.counsellors, args.days, now)
    query = SlotQuery(KIND, "sv", now, now + timedelta(days=args.days), now)
    print(
        f"{args.counsellors} counsellors, {args.days} days from {now:%Y-%m-%d} (Europe/Stockholm), kind phone"
    )
    durations, slots = timed(
        lambda: available_slots(query, ZONE, counsellors, BusyIndex(busy), {}), args.rounds
    )
    report("domain", durations, len(slots))  # type: ignore[arg-type]
    asyncio.run(service_rounds(counsellors, busy, now, args.days, args.rounds))


if __name__ == "__main__":
    main()
