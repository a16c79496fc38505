"""A bare python-socketio + aiohttp relay: the baseline Kinline's figures are read against.

It speaks only the subset of docs/protocol.md that bench/chat_load.py drives, and does the
minimum a relay with the same delivery guarantee must do, as well as a simple relay can: every
message is committed to a SQLite file (WAL, synchronous=FULL, UNIQUE(conversation_id,
client_id), a per-conversation seq) before it is acked, the messages that arrive in the same loop
turn share one transaction (group commit), a reconnect replays from the file, and it runs on
uvloop when uvloop is installed. No sessions, no permissions, no encryption, no bots, no audit,
no counsellor `queue` event.

Its queue: POST /api/conversations puts a conversation at the end of one waiting list (one line
for every language, no priority); a counsellor `claim` takes it off. After each claim the waiting
relatives that connected with `queue_events` get one `queue` broadcast (docs/protocol.md), encoded
once, and work out their own position; the others get a personal `status` each. With
`--queue status` every waiting relative gets a personal `status`, the simplest way.

    .venv/bin/python bench/bare_relay.py --port 8765 --db /tmp/bare_relay.db
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import secrets
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

MAX_TEXT_LENGTH = 4000
LINE = "all"  # the relay's one queue: every language, no priority
WAITING_ROOM = "waiting"  # the waiting relatives that take `queue` broadcasts
QUEUE_MODES = ("broadcast", "status")

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

SELECT_MESSAGE = (
    "SELECT id, conversation_id, seq, sender, text, sent_at FROM messages"
    " WHERE conversation_id = ? AND client_id = ?"
)
POSITION = (
    "SELECT COUNT(*) FROM conversations w WHERE w.state = 'waiting' AND w.seq_in_queue <= c.seq_in_queue"
)

NewMessage = tuple[str, str, str, str]  # conversation_id, client_id, sender, text
Stored = tuple[dict[str, Any], bool]  # the message, and whether it is new


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """Plain sqlite3 on the event loop thread: each call is one whole transaction and blocks the
    loop for its fsync (about 0.3 ms here), so no other call ever runs in between. Running it on a
    thread instead, as aiosqlite does, was slower on a 2-core machine (the GIL hand-offs cost more
    than the fsync they hide) and would let a claim and a connect interleave."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def open(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        self._conn = conn

    def close(self) -> None:
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

    def state(self, conversation_id: str) -> tuple[str, int | None]:
        """The conversation's state and, while it waits, its place in the queue (1 = next)."""
        state, position = self.conn.execute(
            f"SELECT state, ({POSITION}) FROM conversations c WHERE id = ?", (conversation_id,)
        ).fetchone()
        return state, position if state == "waiting" else None

    def waiting_in_order(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM conversations WHERE state = 'waiting' ORDER BY seq_in_queue"
        ).fetchall()
        return [row[0] for row in rows]

    def claim(self, conversation_id: str) -> int | None:
        """Take a waiting conversation off the queue; return the place it had, None if it was
        not waiting."""
        with self.conn:
            row = self.conn.execute(
                f"SELECT ({POSITION}) FROM conversations c WHERE id = ? AND state = 'waiting'",
                (conversation_id,),
            ).fetchone()
            if row is None:
                return None
            self.conn.execute("UPDATE conversations SET state = 'active' WHERE id = ?", (conversation_id,))
        return int(row[0])

    def messages_after(self, conversation_id: str, after_seq: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, conversation_id, seq, sender, text, sent_at FROM messages"
            " WHERE conversation_id = ? AND seq > ? ORDER BY seq",
            (conversation_id, after_seq),
        ).fetchall()
        return [message_payload(row) for row in rows]

    def store_messages(self, batch: list[NewMessage]) -> list[Stored]:
        """Store a batch in one transaction (one fsync); a repeated client_id stores nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            stored = [self._store_one(*message) for message in batch]
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return stored

    def _store_one(self, conversation_id: str, client_id: str, sender: str, text: str) -> Stored:
        existing = self.conn.execute(SELECT_MESSAGE, (conversation_id, client_id)).fetchone()
        if existing:
            return message_payload(existing), False
        (seq,) = self.conn.execute(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
            (conversation_id,),
        ).fetchone()
        sent_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        (message_id,) = self.conn.execute(
            "INSERT INTO messages (conversation_id, seq, client_id, sender, text, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (conversation_id, seq, client_id, sender, text, sent_at),
        ).fetchone()
        return message_payload((message_id, conversation_id, seq, sender, text, sent_at)), True


class GroupCommit:
    """The messages stored in one loop turn share one transaction; each caller gets its message
    only after the COMMIT that holds it (the idea of server/adapters/db/group_commit.py, on the
    loop)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[NewMessage, asyncio.Future[Stored]]] = []

    async def store_message(self, conversation_id: str, client_id: str, sender: str, text: str) -> Stored:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Stored] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._commit)
        self._pending.append(((conversation_id, client_id, sender, text), future))
        return await future

    def _commit(self) -> None:
        batch, self._pending = self._pending, []
        try:
            stored = self.store.store_messages([message for message, _ in batch])
        except Exception as failure:
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        for (_, future), result in zip(batch, stored, strict=True):
            if not future.done():
                future.set_result(result)


def status_payload(state: str, position: int | None, queue_round: int | None) -> dict[str, Any]:
    return {
        "state": state,
        "queue_position": position,
        "estimated_wait_seconds": None,
        "line": LINE if state == "waiting" else None,
        "round": queue_round,
    }


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


class Queue:
    """Who waits for queue news, and how they get it. `round` counts the claims (an append at the
    end of the queue moves nobody, so it needs no round)."""

    def __init__(self, sio: socketio.AsyncServer, store: Store, mode: str) -> None:
        self.sio = sio
        self.store = store
        self.broadcast = mode == "broadcast"
        self.round = 0
        self.subscribers: dict[str, set[str]] = collections.defaultdict(set)  # conversation -> sids
        self.personal: collections.Counter[str] = collections.Counter()  # conversation -> sockets

    def status(self, conversation_id: str) -> dict[str, Any]:
        state, position = self.store.state(conversation_id)
        return status_payload(state, position, self.round if self.broadcast else None)

    async def join(self, sid: str, conversation_id: str, queue_events: bool) -> dict[str, Any]:
        """A relative's socket connects: its status, read in the same loop turn as it joins."""
        if queue_events and self.broadcast:
            self.subscribers[conversation_id].add(sid)
            await self.sio.enter_room(sid, WAITING_ROOM, namespace="/relative")
        else:
            self.personal[conversation_id] += 1
        return self.status(conversation_id)

    def leave(self, sid: str, conversation_id: str) -> None:
        sids = self.subscribers.get(conversation_id)
        if sids is not None and sid in sids:
            sids.discard(sid)
            if not sids:
                del self.subscribers[conversation_id]
        else:
            self.personal[conversation_id] -= 1
            if self.personal[conversation_id] <= 0:
                del self.personal[conversation_id]

    async def claimed(self, conversation_id: str, vacated: int) -> None:
        """After a claim: the claimed relative's status, then the others' news."""
        for sid in self.subscribers.pop(conversation_id, set()):
            await self.sio.leave_room(sid, WAITING_ROOM, namespace="/relative")
            self.personal[conversation_id] += 1  # an active conversation's status is personal
        if self.broadcast:
            self.round += 1
        await self.sio.emit(
            "status",
            status_payload("active", None, self.round if self.broadcast else None),
            to=relative_room(conversation_id),
            namespace="/relative",
        )
        if self.broadcast:
            await self.sio.emit(
                "queue",
                {
                    "round": self.round,
                    "views": {LINE: {"vacated": [vacated], "inserted": []}},
                    "wait_per_position": 0.0,
                },
                to=WAITING_ROOM,
                namespace="/relative",
            )
        for position, waiting_id in enumerate(self.store.waiting_in_order(), 1):
            if waiting_id in self.personal:
                await self.sio.emit(
                    "status",
                    status_payload("waiting", position, self.round if self.broadcast else None),
                    to=relative_room(waiting_id),
                    namespace="/relative",
                )


def build_app(db_path: Path, queue_mode: str) -> web.Application:
    store = Store(db_path)
    commits = GroupCommit(store)
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
    queue = Queue(sio, store, queue_mode)
    relative_conversation: dict[str, str] = {}
    relative_sids: dict[str, set[str]] = collections.defaultdict(set)  # conversation -> sids
    replayed: dict[str, int] = {}  # sid -> the highest seq its connect replayed

    async def create_conversation(request: web.Request) -> web.Response:
        body = await request.json()
        created = store.create_conversation(str(body.get("language", "sv")))
        return web.json_response(created, status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @sio.on("connect", namespace="/relative")
    async def relative_connect(sid: str, _environ: dict[str, Any], auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        conversation_id = store.conversation_for_token(str(auth.get("token", "")))
        if conversation_id is None:
            raise socketio.exceptions.ConnectionRefusedError({"code": "invalid_token"})
        relative_conversation[sid] = conversation_id
        # Join first, then read: a message committed before the read and emitted after it (its
        # group's handlers resume in a later loop turn) is replayed, never lost; the live emit
        # skips this socket for it (`replayed`), so it is sent once.
        await sio.enter_room(sid, relative_room(conversation_id), namespace="/relative")
        relative_sids[conversation_id].add(sid)
        status = await queue.join(sid, conversation_id, bool(auth.get("queue_events")))
        missed = store.messages_after(conversation_id, int(auth.get("after_seq") or 0))
        replayed[sid] = missed[-1]["seq"] if missed else 0
        await sio.emit("status", status, to=sid, namespace="/relative")
        for message in missed:
            await sio.emit("message", message, to=sid, namespace="/relative")

    @sio.on("disconnect", namespace="/relative")
    async def relative_disconnect(sid: str, *_: Any) -> None:
        conversation_id = relative_conversation.pop(sid, None)
        replayed.pop(sid, None)
        if conversation_id is not None:
            queue.leave(sid, conversation_id)
            relative_sids[conversation_id].discard(sid)
            if not relative_sids[conversation_id]:
                del relative_sids[conversation_id]

    @sio.on("queue_status", namespace="/relative")
    async def relative_queue_status(sid: str, _data: Any) -> dict[str, Any]:
        return {"ok": True, "status": queue.status(relative_conversation[sid])}

    @sio.on("send_message", namespace="/relative")
    async def relative_send(sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return error("invalid_request", "payload must be an object")
        if problem := text_problem(data.get("text")):
            return problem
        conversation_id = relative_conversation[sid]
        message, created = await commits.store_message(
            conversation_id, str(data["client_id"]), "relative", data["text"]
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
        vacated = store.claim(conversation_id)
        if vacated is None:
            return error("already_claimed", "conversation is not waiting")
        await sio.enter_room(sid, counsellor_room(conversation_id), namespace="/counsellor")
        await queue.claimed(conversation_id, vacated)
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
        message, created = await commits.store_message(
            conversation_id, str(data["client_id"]), "counsellor", data["text"]
        )
        if created:
            seen = [s for s in relative_sids.get(conversation_id, ()) if replayed.get(s, 0) >= message["seq"]]
            await sio.emit(
                "message",
                message,
                to=relative_room(conversation_id),
                skip_sid=seen or None,
                namespace="/relative",
            )
            await sio.emit(
                "message",
                message,
                to=counsellor_room(conversation_id),
                skip_sid=sid,
                namespace="/counsellor",
            )
        return {"ok": True, "message": message}

    async def store_ctx(_: web.Application) -> Any:
        store.open()
        yield
        store.close()

    app = web.Application()
    app.cleanup_ctx.append(store_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/conversations", create_conversation)
    sio.attach(app)
    return app


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def default_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", type=Path, default=Path("/tmp/bare_relay.db"))
    parser.add_argument("--keep-db", action="store_true", help="reuse an existing database file")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default=default_loop(),
        help="event loop (default: uvloop when it is installed)",
    )
    parser.add_argument(
        "--queue",
        choices=QUEUE_MODES,
        default="broadcast",
        help="after a claim: one `queue` broadcast to the relatives that connected with"
        " queue_events (personal `status` to the rest), or a personal `status` to every one",
    )
    args = parser.parse_args()
    if not args.keep_db:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    loop = new_event_loop(args.loop)
    print(f"bare relay on http://{args.host}:{args.port} ({args.loop}, queue {args.queue}), db {args.db}")
    web.run_app(
        build_app(args.db, args.queue),
        host=args.host,
        port=args.port,
        backlog=4096,
        access_log=None,
        print=None,
        loop=loop,
    )


if __name__ == "__main__":
    main()
