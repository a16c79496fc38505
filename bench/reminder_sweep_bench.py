"""How long sweeping 10,000 due reminders takes, through the real twilio client to the local fake of
Twilio's REST API (tests/support/fake_twilio.py, in a process of its own, as Twilio is elsewhere;
--fake-in-process runs it in a thread of this process instead).

Setup (not timed): a migrated SQLite file (WAL, synchronous=FULL, as served) with one counsellor,
10,000 appointments, each with an encrypted phone number and one reminder row that is due now.
Timed: TextService.sweep() until every reminder has been claimed, composed, sent and settled, in
batches of --concurrency (sms.max_concurrent_sends). Afterwards it checks that Twilio got each
reminder exactly once.

Usage: .venv/bin/python bench/reminder_sweep_bench.py [--reminders 10000] [--concurrency 50]
                                                     [--fake-in-process]
Target (docs/performance.md): under 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.adapters.crypto import DataCiphers, FieldCipher, PhoneIndex
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.tables import appointment_texts, appointments, staff_users
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.adapters.sms.twilio import TwilioConfig, TwilioSmsSender
from server.config.i18n import Catalogs
from server.domain.booking.kinds import KindRules
from server.services.events import EventBus
from server.services.reminders import TextPolicy, TextService
from tests.support.fake_twilio import FakeTwilio

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Europe/Stockholm")
KINDS = {"phone": KindRules("phone", timedelta(minutes=45), timedelta(minutes=15))}
INSERT_BATCH = 500


async def seed(database: Database, cipher: FieldCipher, index: PhoneIndex, count: int, now: datetime) -> None:
    async with database.write() as connection:
        await connection.execute(
            staff_users.insert().values(
                id=1,
                username="bench",
                display_name="bench",
                password_hash="-",
                role="counsellor",
                languages=["sv"],
                active=True,
                created_at=now,
            )
        )
    for first in range(0, count, INSERT_BATCH):
        rows, texts = [], []
        for number in range(first, min(first + INSERT_BATCH, count)):
            phone = f"+4670{number:07d}"
            start = now + timedelta(hours=1, minutes=number % 600)
            appointment_id = str(uuid.uuid4())
            rows.append(
                {
                    "id": appointment_id,
                    "reference": f"B{number:07d}",
                    "kind": "phone",
                    "language": "sv",
                    "start_at": start,
                    "end_at": start + timedelta(minutes=45),
                    "busy_until": start + timedelta(hours=1),
                    "counsellor_id": 1,
                    "state": "booked",
                    "manage_hash": uuid.uuid4().hex,
                    "phone": cipher.encrypt(phone),
                    "phone_hash": index(phone),
                    "created_at": now,
                    "version": 1,
                }
            )
            texts.append(
                {
                    "appointment_id": appointment_id,
                    "purpose": "reminder",
                    "offset_seconds": 7200,
                    "due_at": now - timedelta(seconds=1),
                    "state": "pending",
                    "attempts": 0,
                    "updated_at": now,
                }
            )
        async with database.write() as connection:
            await connection.execute(appointments.insert(), rows)
            await connection.execute(appointment_texts.insert(), texts)


@contextlib.contextmanager
def fake_twilio(in_process: bool) -> Iterator[dict[str, str]]:
    """The fake's url and credentials, in this process or in a child process."""
    if in_process:
        with FakeTwilio() as fake:
            yield {
                "url": fake.url,
                "account_sid": fake.account_sid,
                "auth_token": fake.auth_token,
                "sender": fake.sender,
            }
        return
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_twilio"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield json.loads(child.stdout.readline())
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def texts_per_number(fake: dict[str, str]) -> collections.Counter[str]:
    """Every message the fake holds, counted by recipient (one page holds them all)."""
    url = f"{fake['url']}/2010-04-01/Accounts/{fake['account_sid']}/Messages.json?PageSize=1000000"
    token = base64.b64encode(f"{fake['account_sid']}:{fake['auth_token']}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return collections.Counter(message["to"] for message in json.load(response)["messages"])


async def run(count: int, concurrency: int, in_process: bool) -> None:
    with tempfile.TemporaryDirectory() as directory, fake_twilio(in_process) as fake:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        key = os.urandom(32)
        cipher, index = FieldCipher(key), PhoneIndex(key)
        now = datetime.now(UTC)
        await seed(database, cipher, index, count, now)
        sender = TwilioSmsSender(
            TwilioConfig(
                fake["account_sid"],
                fake["auth_token"],
                fake["sender"],
                fake["url"],
                "http://127.0.0.1",
                timedelta(seconds=10),
            )
        )
        await sender.open()
        policy = TextPolicy(
            zone=ZONE,
            kinds=KINDS,
            sender_name="",
            send_timeout=timedelta(seconds=10),
            max_concurrent=concurrency,
            reconcile_after=timedelta(minutes=2),
            max_attempts=3,
            phone_retention=timedelta(days=30),
        )
        texts = TextService(
            SqlUnitOfWork(database, DataCiphers.from_key(key)),
            sender,
            lambda: datetime.now(UTC),
            policy,
            Catalogs(ROOT / "web" / "i18n").text,
            EventBus(),
        )
        began = time.perf_counter()
        report = await texts.sweep()
        elapsed = time.perf_counter() - began
        await sender.close()
        async with database.read() as connection:
            from server.adapters.db.booking_store import BookingStore

            states = await BookingStore(connection, cipher, index).count_texts_by_state()
        await database.dispose()
        per_number = texts_per_number(fake)
    where = "in this process" if in_process else "in its own process"
    print(f"{count} due reminders, {concurrency} sends at a time, fake Twilio on loopback {where}")
    print(f"swept in {elapsed:.1f} s: {report.sent / elapsed:.0f} reminders/s; states {dict(states)}")
    duplicates = sum(1 for seen in per_number.values() if seen > 1)
    print(
        f"Twilio got {len(per_number)} numbers, {sum(per_number.values())} texts, {duplicates} numbers twice"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--fake-in-process", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.reminders, args.concurrency, args.fake_in_process))


if __name__ == "__main__":
    main()
