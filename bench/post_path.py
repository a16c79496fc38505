"""The message-post path without sockets: ChatService.post_message on a real SQLite file
(WAL, synchronous=FULL, as served), many concurrent posts over many conversations.

Prints messages per second and CPU per message, so the cost of the storage path can be read
apart from socket.io. Run: .venv/bin/python bench/post_path.py [--messages 4000] [--conversations 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from server.services.chat import ChatPolicy, ChatService
from server.services.events import EventBus
from server.services.ports.clock import system_clock


async def measure(messages: int, conversations: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        uow = SqlUnitOfWork(database, DataCiphers.from_key(os.urandom(32)))
        policy = ChatPolicy(
            hours=OpeningHours("Europe/Stockholm", always_open=True),
            languages=("sv",),
            topics=("worried_about_someone",),
            outcomes=("other",),
            capacity=1,
            max_text_length=4000,
            token_lifetime=timedelta(days=1),
            default_wait=timedelta(minutes=5),
            online_window=timedelta(minutes=30),
        )
        chat = ChatService(uow, EventBus(), system_clock, policy)
        ids = [(await chat.start_conversation("sv", None)).conversation.id for _ in range(conversations)]
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(
            *(
                chat.post_message(ids[i % conversations], str(uuid.uuid4()), "a message", Sender.RELATIVE)
                for i in range(messages)
            )
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"{messages} posts over {conversations} conversations: {messages / wall:.0f} msg/s, "
            f"{cpu / messages * 1e6:.0f} us CPU per message (this process, incl. the SQLite thread)"
        )
        await uow.close()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--conversations", type=int, default=200)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(measure(args.messages, args.conversations))
    except ImportError:
        asyncio.run(measure(args.messages, args.conversations))


if __name__ == "__main__":
    main()
