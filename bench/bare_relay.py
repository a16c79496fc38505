"""A bare python-socketio + aiohttp relay: the baseline Kinline's figures are read against.

It speaks only the subset of docs/protocol.md that bench/chat_load.py drives, and does the
minimum a relay with the same delivery guarantee must do: every message is committed to a
SQLite file (WAL, synchronous=FULL, one transaction per message, UNIQUE(conversation_id,
client_id), a per-conversation seq) before it is acked, and a reconnect replays from the file.
No sessions, no permissions, no encryption, no bots, no audit, no counsellor `queue` event.

    .venv/bin/python bench/bare_relay.py --port 8765 --db /tmp/bare_relay.db
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import secrets
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

MAX_TEXT_LENGTH = 4000

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    seq_in_queue INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    resume_code TEXT NOT NULL,
    language TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_state ON conversations (state, seq_in_queue);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    UNIQUE (conversation_id, client_id),
    UNIQUE (conversation_id, seq)
);
"""


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """Plain sqlite3; each call is one whole transaction, never interleaved with another.

    By default calls run on the event loop thread and block it for the fsync (about 0.3 ms
    here). With `on_thread` they run on one dedicated thread instead, as aiosqlite does; on a
    2-core machine the GIL hand-offs that costs are slower than the fsync they hide.
    """

    def __init__(self, path: Path, on_thread: bool) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite") if on_thread else None
        self._path = path
        self._conn: sqlite3.Connection | None = None

    async def run(self, fn: Any, *args: Any) -> Any:
        if self._executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def open(self) -> None:
        await self.run(self._open)

    async def close(self) -> None:
        await self.run(self._close)
        if self._executor is not None:
            self._executor.shutdown()

    def _open(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        self._conn = conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def create_conversation(self, language: str) -> dict[str, str]:
        conversation_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        resume_code = secrets.token_hex(6)
        with self.conn:
            self.conn.execute(
                "INSERT INTO conversations"
                " (id, token_hash, resume_code, language, state, created_at)"
                " VALUES (?, ?, ?, ?, 'waiting', ?)",
                (conversation_id, token_hash(token), resume_code, language, time.time()),
            )
        return {"conversation_id": conversation_id, "token": token, "resume_code": resume_code}

    def conversation_for_token(self, token: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM conversations WHERE token_hash = ?", (token_hash(token),)
        ).fetchone()
        return row[0] if row else None

    def status(self, conversation_id: str) -> dict[str, Any]:
        state, position = self.conn.execute(
            "SELECT state, (SELECT COUNT(*) FROM conversations w WHERE w.state = 'waiting'"
            " AND w.seq_in_queue <= c.seq_in_queue) FROM conversations c WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        return status_payload(state, position if state == "waiting" else None)

    def waiting_in_order(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM conversations WHERE state = 'waiting' ORDER BY seq_in_queue"
        ).fetchall()
        return [row[0] for row in rows]

    def claim(self, conversation_id: str) -> bool:
        with self.conn:
            cursor = self.conn.execute(
                "UPDATE conversations SET state = 'active' WHERE id = ? AND state = 'waiting'",
                (conversation_id,),
            )
        return cursor.rowcount == 1

    def messages_after(self, conversation_id: str, after_seq: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, conversation_id, seq, sender, text, sent_at FROM messages"
            " WHERE conversation_id = ? AND seq > ? ORDER BY seq",
            (conversation_id, after_seq),
        ).fetchall()
        return [message_payload(row) for row in rows]

    def store_message(
        self, conversation_id: str, client_id: str, sender: str, text: str
    ) -> tuple[dict[str, Any], bool]:
        """Return the message and whether it is new; a repeated client_id stores nothing."""
        select = (
            "SELECT id, conversation_id, seq, sender, text, sent_at FROM messages"
            " WHERE conversation_id = ? AND client_id = ?"
        )
        existing = self.conn.execute(select, (conversation_id, client_id)).fetchone()
        if existing:
            return message_payload(existing), False
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            (seq,) = self.conn.execute(
                "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
                (conversation_id,),
            ).fetchone()
            sent_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            self.conn.execute(
                "INSERT INTO messages (conversation_id, seq, client_id, sender, text, sent_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, seq, client_id, sender, text, sent_at),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        stored = self.conn.execute(select, (conversation_id, client_id)).fetchone()
        return message_payload(stored), True


def status_payload(state: str, position: int | None) -> dict[str, Any]:
    return {"state": state, "queue_position": position, "estimated_wait_seconds": None}


def message_payload(row: tuple[Any, ...]) -> dict[str, Any]:
    message_id, conversation_id, seq, sender, text, sent_at = row
    return {
        "id": message_id,
        "conversation_id": conversation_id,
        "seq": seq,
        "sender": sender,
        "text": text,
        "sent_at": sent_at,
    }


def relative_room(conversation_id: str) -> str:
    return f"relative:{conversation_id}"


def counsellor_room(conversation_id: str) -> str:
    return f"counsellor:{conversation_id}"


def text_problem(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text.strip():
        return error("empty_text", "text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        return error("text_too_long", "text is too long")
    return None


def build_app(db_path: Path, db_on_thread: bool) -> web.Application:
    store = Store(db_path, db_on_thread)
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
    relative_conversation: dict[str, str] = {}

    async def push_queue_positions() -> None:
        for position, conversation_id in enumerate(await store.run(store.waiting_in_order), 1):
            await sio.emit(
                "status",
                status_payload("waiting", position),
                to=relative_room(conversation_id),
                namespace="/relative",
            )

    async def create_conversation(request: web.Request) -> web.Response:
        body = await request.json()
        created = await store.run(store.create_conversation, str(body.get("language", "sv")))
        return web.json_response(created, status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @sio.on("connect", namespace="/relative")
    async def relative_connect(sid: str, _environ: dict[str, Any], auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        conversation_id = await store.run(store.conversation_for_token, str(auth.get("token", "")))
        if conversation_id is None:
            raise socketio.exceptions.ConnectionRefusedError({"code": "invalid_token"})
        relative_conversation[sid] = conversation_id
        # Join first, then read: a message committed in between is sent live and replayed,
        # never lost. With SQLite on the loop nothing runs in between, so it is sent once.
        await sio.enter_room(sid, relative_room(conversation_id), namespace="/relative")
        after_seq = int(auth.get("after_seq") or 0)
        missed = await store.run(store.messages_after, conversation_id, after_seq)
        status = await store.run(store.status, conversation_id)
        await sio.emit("status", status, to=sid, namespace="/relative")
        for message in missed:
            await sio.emit("message", message, to=sid, namespace="/relative")

    @sio.on("disconnect", namespace="/relative")
    async def relative_disconnect(sid: str, *_: Any) -> None:
        relative_conversation.pop(sid, None)

    @sio.on("send_message", namespace="/relative")
    async def relative_send(sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return error("invalid_request", "payload must be an object")
        if problem := text_problem(data.get("text")):
            return problem
        conversation_id = relative_conversation[sid]
        message, created = await store.run(
            store.store_message, conversation_id, str(data["client_id"]), "relative", data["text"]
        )
        if created:
            await sio.emit("message", message, to=counsellor_room(conversation_id), namespace="/counsellor")
        return {"ok": True, "message": message}

    @sio.on("connect", namespace="/counsellor")
    async def counsellor_connect(sid: str, _environ: dict[str, Any], _auth: Any) -> None:
        return None

    @sio.on("claim", namespace="/counsellor")
    async def counsellor_claim(sid: str, data: Any) -> dict[str, Any]:
        conversation_id = str(data.get("conversation_id")) if isinstance(data, dict) else ""
        if not await store.run(store.claim, conversation_id):
            return error("already_claimed", "conversation is not waiting")
        await sio.enter_room(sid, counsellor_room(conversation_id), namespace="/counsellor")
        await sio.emit(
            "status",
            status_payload("active", None),
            to=relative_room(conversation_id),
            namespace="/relative",
        )
        await push_queue_positions()
        return {"ok": True, "conversation": {"conversation_id": conversation_id, "state": "active"}}

    @sio.on("send_message", namespace="/counsellor")
    async def counsellor_send(sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return error("invalid_request", "payload must be an object")
        if problem := text_problem(data.get("text")):
            return problem
        conversation_id = str(data.get("conversation_id"))
        if counsellor_room(conversation_id) not in sio.rooms(sid, namespace="/counsellor"):
            return error("not_holder", "claim the conversation first")
        message, created = await store.run(
            store.store_message, conversation_id, str(data["client_id"]), "counsellor", data["text"]
        )
        if created:
            await sio.emit("message", message, to=relative_room(conversation_id), namespace="/relative")
            await sio.emit(
                "message",
                message,
                to=counsellor_room(conversation_id),
                skip_sid=sid,
                namespace="/counsellor",
            )
        return {"ok": True, "message": message}

    async def store_ctx(_: web.Application) -> Any:
        await store.open()
        yield
        await store.close()

    app = web.Application()
    app.cleanup_ctx.append(store_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/conversations", create_conversation)
    sio.attach(app)
    return app


def new_event_loop() -> asyncio.AbstractEventLoop:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", type=Path, default=Path("/tmp/bare_relay.db"))
    parser.add_argument("--keep-db", action="store_true", help="reuse an existing database file")
    parser.add_argument(
        "--db-thread", action="store_true", help="run SQLite on a thread, not on the event loop"
    )
    args = parser.parse_args()
    if not args.keep_db:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    loop = new_event_loop()
    print(f"bare relay on http://{args.host}:{args.port} ({type(loop).__module__}), db {args.db}")
    web.run_app(
        build_app(args.db, args.db_thread),
        host=args.host,
        port=args.port,
        backlog=4096,
        access_log=None,
        print=None,
        loop=loop,
    )


if __name__ == "__main__":
    main()
