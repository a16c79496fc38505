"""Shared by the escalation e2e tests: staff accounts per role (and route), held conversations,
draft bodies, the /escalations socket, and direct looks into the server's SQLite file."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from server.adapters.webhook import SIGNATURE_HEADER, verify
from server.config.paths import config_dir
from server.config.settings import SupervisionSettings
from tests.support.clients import SESSION_COOKIE, Api, Harness, HttpResult, SocketClient
from tests.support.server import DEFAULT_PASSWORD, ServerProcess, free_port

ESCALATIONS = "/escalations"
SUMMARY_CANARY = "canary-escalation Kvastfibbla 6120"
RELATION_CANARY = "canary-relation Gullviva 3377"
CONTACT_CANARY = "+46701740677"
FEEDBACK_CANARY = "canary-feedback Mjölkört 9021"
CANARIES = (SUMMARY_CANARY, RELATION_CANARY, CONTACT_CANARY, FEEDBACK_CANARY)

AGE_BAND = {
    "child_concern": "0-12",
    "consent_referral": "26+",
    "imminent_danger": "18-25",
    "sig_referral": "13-17",
}


def draft_body(
    conversation_id: str,
    kind: str = "child_concern",
    route: str = "spanga-tensta",
    *,
    share_transcript: bool = False,
    **changes: Any,
) -> dict[str, Any]:
    consent = share_transcript or kind in {"consent_referral", "sig_referral"}
    body: dict[str, Any] = {
        "conversation_id": conversation_id,
        "route": route,
        "kind": kind,
        "summary": f"{SUMMARY_CANARY} {kind}",
        "indicators": ["child_exposed"] if kind == "child_concern" else [],
        "consent": consent,
        "subject": {"age_band": AGE_BAND[kind], "relation": RELATION_CANARY},
    }
    if kind == "consent_referral":
        body["contact"] = {"phone": CONTACT_CANARY, "preferred_time": "kvällar"}
    if share_transcript:
        body["share_transcript"] = True
    body.update(changes)
    return body


@dataclass
class Member:
    """A signed-in staff member with an HTTP session; ``id`` is their staff id."""

    name: str
    role: str
    api: Api
    user: dict[str, Any]
    route: str | None = None

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.api.session_cookie()}"}

    async def get(self, path: str) -> HttpResult:
        return await self.api.request("GET", path)

    async def post(self, path: str, body: Any = None) -> HttpResult:
        return await self.api.request("POST", path, json=body)


@dataclass
class Team:
    """Staff accounts on one server; ``close()`` ends the sockets it opened."""

    harness: Harness
    members: dict[str, Member] = field(default_factory=dict)
    sockets: list[SocketClient] = field(default_factory=list)

    async def close(self) -> None:
        await asyncio.gather(*(socket.close() for socket in self.sockets), return_exceptions=True)

    @property
    def server(self) -> ServerProcess:
        return self.harness.server

    def __getitem__(self, name: str) -> Member:
        return self.members[name]

    async def add(self, accounts: Iterable[tuple[str, str, str | None]]) -> None:
        """(name, role, route) accounts made through the real CLI, then signed in."""
        accounts = list(accounts)

        def create(name: str, role: str, route: str | None) -> None:
            extra = ("--route", route) if route and role == "social_services" else ()
            self.server.add_user(name, role, DEFAULT_PASSWORD, *extra)

        await asyncio.gather(*(asyncio.to_thread(create, *account) for account in accounts))
        for name, role, route in accounts:
            if route and role != "social_services":
                execute(self.server, "UPDATE staff_users SET route = ? WHERE username = ?", route, name)
        for name, role, route in accounts:
            api = self.harness.api()
            user = await api.login(name)
            self.members[name] = Member(name, role, api, user, route)

    async def held_conversation(self, holder: str, language: str = "sv") -> tuple[str, str, str]:
        """(conversation_id, token, resume_code) of a new conversation ``holder`` has claimed."""
        started = await self.harness.start_conversation(language)
        socket = self.harness.counsellor_socket()
        await socket.connect(headers=self[holder].cookie_header)
        ack = await socket.claim(started.conversation_id)
        assert ack["ok"], ack
        await socket.close()
        return started.conversation_id, started.token, started.resume_code

    async def escalations_socket(self, name: str) -> SocketClient:
        socket = SocketClient(self.harness.url, ESCALATIONS)
        self.sockets.append(socket)
        await socket.connect(headers=self[name].cookie_header)
        await socket.log.wait_for("ready")
        return socket


def execute(server: ServerProcess, sql: str, *params: Any) -> None:
    """A write behind the API's back, for situations the API cannot make (on purpose)."""
    with sqlite3.connect(server.db_path, timeout=30) as db:
        db.execute(sql, params)


def query(server: ServerProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def audit_rows(server: ServerProcess) -> list[tuple[int | None, str, str]]:
    """(actor_id, action, escalation_id) of every escalation audit row, oldest first."""
    return [
        (actor, action, object_id)
        for actor, action, object_id in query(
            server,
            "SELECT actor_id, action, object_id FROM audit_log WHERE object_type = 'escalation' ORDER BY id",
        )
    ]


def assert_audit_has_no_content(server: ServerProcess) -> None:
    """The audit log says who, when, which escalation and what action, and at most a configured
    reason id (a supervisor's read); nothing else."""
    columns = [row[1] for row in query(server, "PRAGMA table_info(audit_log)")]
    assert columns == ["id", "at", "actor_id", "action", "object_type", "object_id", "detail"]
    reasons = {row[0] for row in query(server, "SELECT DISTINCT detail FROM audit_log")}
    assert reasons <= {None, *SupervisionSettings().read_reasons}
    cells = " ".join(str(cell) for row in query(server, "SELECT * FROM audit_log") for cell in row)
    for canary in CANARIES:
        assert canary not in cells


def assert_stored_encrypted(db_path: Path) -> None:
    """No canary text in the clear anywhere in the database file."""
    with sqlite3.connect(db_path) as db:
        dump = "\n".join(db.iterdump())
    for canary in CANARIES:
        assert canary not in dump


class WebhookReceiver:
    """A route's webhook endpoint on a free loopback port, in the test's own event loop. Every call
    is kept with whether its signature checked out."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.port = free_port()
        self.calls: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    def url(self, route: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{route}"

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hooks/{route}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify(
            self.secret, request.headers.get(SIGNATURE_HEADER, ""), body, time.time(), timedelta(minutes=5)
        )
        async with self._arrived:
            self.calls.append(
                {
                    "route": request.match_info["route"],
                    "signed": signed,
                    "raw": body,
                    "payload": json.loads(body),
                }
            )
            self._arrived.notify_all()
        return web.json_response({"ok": True})

    def of(self, escalation_id: str, event: str | None = None) -> list[dict[str, Any]]:
        return [
            call
            for call in self.calls
            if call["payload"]["escalation_id"] == escalation_id and event in (None, call["payload"]["event"])
        ]

    async def wait_for(self, escalation_id: str, event: str, timeout: float = 30.0) -> dict[str, Any]:
        async with self._arrived:
            async with asyncio.timeout(timeout):
                await self._arrived.wait_for(lambda: bool(self.of(escalation_id, event)))
        return self.of(escalation_id, event)[0]


def routes_file(
    directory: Path,
    receiver: WebhookReceiver | None,
    secret_env: str,
    ack_deadline: str | None = None,
    extra_on_call: str | None = None,
) -> Path:
    """The shipped routes file with webhooks pointed at ``receiver``, optionally a short deadline on
    spanga-tensta and an on-call number on rinkeby-kista."""
    text = (config_dir() / "escalation.toml").read_text(encoding="utf-8")
    if ack_deadline:
        text = text.replace(
            'ack_deadline = "4h"\nbackup_route = "rinkeby-kista"',
            f'ack_deadline = "{ack_deadline}"\nbackup_route = "rinkeby-kista"',
            1,
        )
    if extra_on_call:
        text = text.replace(
            'backup_route = "spanga-tensta"',
            f'backup_route = "spanga-tensta"\non_call_sms = "{extra_on_call}"',
            1,
        )
    if receiver is not None:
        for route in ("spanga-tensta", "rinkeby-kista"):
            text += (
                f'\n[routes.{route}.webhook]\nurl = "{receiver.url(route)}"\nsecret_env = "{secret_env}"\n'
            )
    path = directory / "escalation-routes.toml"
    path.write_text(text, encoding="utf-8")
    return path
