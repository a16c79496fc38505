"""What the supervisors' live view costs the event loop at 200 active conversations (issue 12:
under 5 %). One push is the whole of OverviewPush.push but the socket write: the read
(SupervisionService.overview: live conversations with their last message, drafts, escalations,
staff, loads, last activity), the shape (wire.overview) and the JSON encoding (json_codec.dumps).
Pushes come at most once per ``supervision.push_interval`` (1 s), so the share of the loop is
the cost of one push over that interval, however many messages arrive meanwhile.

In the same run, as the baseline, it times what those messages cost themselves: one message
posted through ChatService.post_message (the hot path, group commit on SQLite); the second figure
is how many messages cost as much as one push. The event loop's own share is the CPU time of its
thread (time.thread_time) during a push; the rest of a push's wall time waits on aiosqlite's thread.

Run: .venv/bin/python bench/overview_bench.py [--active 200] [--waiting 50] [--rounds 50]"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.conversations import Sender
from server.domain.hours import OpeningHours
from server.domain.staff import Role, StaffUser
from server.domain.supervision import AlertRules
from server.services.chat import ChatPolicy, ChatService
from server.services.events import EventBus
from server.services.ports.clock import system_clock
from server.services.supervision import SupervisionPolicy, SupervisionService
from server.transports import wire
from server.transports.sockets import json_codec

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
COUNSELLORS = 70
MESSAGES_EACH = 20
PUSH_INTERVAL = 1.0


async def add_counsellors(uow: SqlUnitOfWork) -> list[StaffUser]:
    users = []
    async with uow.write() as repos:
        for index in range(COUNSELLORS):
            user_id = await repos.staff.add_user(
                f"c{index}", f"Counsellor {index}", "x", Role.COUNSELLOR, system_clock(), None
            )
            user = await repos.staff.get_user(user_id)
            assert user is not None
            users.append(user)
    return users


async def fill(chat: ChatService, users: list[StaffUser], active: int, waiting: int) -> list[str]:
    ids = []
    for index in range(active + waiting):
        started = await chat.start_conversation(LANGUAGES[index % len(LANGUAGES)], None)
        ids.append(started.conversation.id)
        if index < active:
            await chat.claim(started.conversation.id, users[index % len(users)])
            for _ in range(MESSAGES_EACH):
                await chat.post_message(started.conversation.id, str(uuid.uuid4()), "hej", Sender.RELATIVE)
    return ids[:active]


def milliseconds(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


async def measure(path: Path, active: int, waiting: int, rounds: int) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")
    uow = SqlUnitOfWork(database, DataCiphers.from_key(bytes(32)))
    policy = ChatPolicy(
        hours=OpeningHours(timezone="Europe/Stockholm", always_open=True),
        languages=LANGUAGES,
        topics=("worried_about_someone",),
        outcomes=("supported",),
        capacity=10,
        max_text_length=4000,
        token_lifetime=timedelta(days=1),
        default_wait=timedelta(minutes=5),
        online_window=timedelta(minutes=30),
    )
    events = EventBus()
    chat = ChatService(uow, events, system_clock, policy)
    supervision = SupervisionService(
        uow,
        events,
        system_clock,
        chat,
        SupervisionPolicy(
            AlertRules(timedelta(minutes=10), timedelta(hours=1)), timedelta(minutes=3), ("quality",)
        ),
    )
    try:
        users = await add_counsellors(uow)
        conversations = await fill(chat, users, active, waiting)
        pushes, loop_cpu, sizes = [], [], []
        for _ in range(rounds):
            started, cpu = time.perf_counter(), time.thread_time()
            encoded = json_codec.dumps(wire.overview(await supervision.overview()))
            pushes.append(time.perf_counter() - started)
            loop_cpu.append(time.thread_time() - cpu)
            sizes.append(len(encoded))
        posts = []
        for index in range(rounds * 10):
            conversation_id = conversations[index % len(conversations)]
            started = time.perf_counter()
            await chat.post_message(conversation_id, str(uuid.uuid4()), "hej igen", Sender.RELATIVE)
            posts.append(time.perf_counter() - started)
    finally:
        await uow.close()
        await database.dispose()
    push_median, push_p95 = milliseconds(pushes)
    cpu_median, cpu_p95 = milliseconds(loop_cpu)
    post_median, _ = milliseconds(posts)
    print(f"{active} active + {waiting} waiting conversations, {COUNSELLORS} counsellors, {rounds} pushes:")
    size = statistics.median(sizes) / 1024
    print(
        f"  one push (read, shape, JSON; {size:.0f} KiB): median {push_median:.1f} ms, p95 {push_p95:.1f} ms"
    )
    print(f"  of which CPU on the event loop's thread: median {cpu_median:.1f} ms, p95 {cpu_p95:.1f} ms")
    share, worst, whole = (value / (PUSH_INTERVAL * 10) for value in (cpu_median, cpu_p95, push_median))
    print(f"  event loop share at one push per {PUSH_INTERVAL:.0f} s: {share:.2f} % (p95 {worst:.2f} %);")
    print(f"    counting the whole push as if it held the loop: {whole:.2f} %")
    print(
        f"  baseline, one message posted (same run): median {post_median:.2f} ms;"
        f" one push costs as much as {push_median / post_median:.0f} messages"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--active", type=int, default=200)
    parser.add_argument("--waiting", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "overview.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        asyncio.run(measure(path, args.active, args.waiting, args.rounds))


if __name__ == "__main__":
    main()
