"""The webhook client against a real local HTTP server: signed JSON in, and an outcome out that
says whether the receiver took it (accepted), refused it (failed) or may or may not have acted
(unknown: 5xx, 429, a timeout or a dropped connection), which is never resent blindly."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web

from server.adapters.webhook import SIGNATURE_HEADER, WebhookClient, new_session, verify
from server.services.ports.sms import SmsOutcome

SECRET = b"shared-route-secret"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, object]], asyncio.Event]]:
    received: list[dict[str, object]] = []
    release = asyncio.Event()

    async def hook(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        received.append(
            {
                "status": request.match_info["status"],
                "payload": json.loads(body),
                "signed": verify(
                    SECRET, request.headers[SIGNATURE_HEADER], body, time.time(), timedelta(minutes=5)
                ),
            }
        )
        if request.match_info["status"] == "hang":
            await release.wait()
        if request.match_info["status"] == "drop":
            assert request.transport is not None
            request.transport.close()
        return web.Response(
            status=int(request.match_info["status"]) if request.match_info["status"].isdigit() else 200
        )

    app = web.Application()
    app.router.add_post("/hook/{status}", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", received, release
    release.set()
    await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("200", SmsOutcome.ACCEPTED),
        ("204", SmsOutcome.ACCEPTED),
        ("400", SmsOutcome.FAILED),
        ("410", SmsOutcome.FAILED),
        ("429", SmsOutcome.UNKNOWN),
        ("503", SmsOutcome.UNKNOWN),
        ("hang", SmsOutcome.UNKNOWN),
        ("drop", SmsOutcome.UNKNOWN),
    ],
)
async def test_outcomes(
    receiver: tuple[str, list[dict[str, object]], asyncio.Event], status: str, outcome: str
) -> None:
    url, received, _release = receiver
    async with new_session(timedelta(seconds=1)) as session:
        result = await WebhookClient(session).post(f"{url}/{status}", SECRET, {"escalation_id": "e-1"})
    assert result == outcome
    assert received == [{"status": status, "payload": {"escalation_id": "e-1"}, "signed": True}]
