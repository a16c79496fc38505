"""Monitoring against real server processes: /metrics behind its bearer token, /readyz with the
database and Redis up and down, and JSON log lines that still hold nothing identifying."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import aiohttp
import pytest

from tests.support.booking import FAST_BOOKING_ENV, PHONE, BookingClient, eventually
from tests.support.clients import Harness
from tests.support.privacy import (
    CANARY_MESSAGE,
    CANARY_REPLY,
    CANARY_WRONG_PASSWORD,
    NEVER_LOGGED,
    findings,
)
from tests.support.server import ServerProcess
from tests.support.services import postgres_server, redis_server

TOKEN = "metrics-token-for-the-test-5f1c2a"
METRICS_ENV = {"KINLINE_OBSERVABILITY__METRICS_TOKEN": TOKEN}

EVERY_METRIC = (
    "kinline_conversations",
    "kinline_counsellors_online",
    "kinline_messages_posted_total",
    "kinline_ack_latency_seconds_bucket",
    "kinline_ack_latency_seconds_count",
    "kinline_delivery_latency_seconds_bucket",
    "kinline_delivery_latency_seconds_count",
    "kinline_sms_texts",
    "kinline_reminder_lag_seconds",
    "kinline_escalations_open",
    "kinline_escalations_near_deadline",
    "kinline_escalations_deadline_missed",
    "kinline_retention_purged_total",
    "kinline_backend_errors_total",
)


def samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value for every sample line of a Prometheus text exposition."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def families(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and line[0] != "#"}


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers or {}) as response:
        return response.status, await response.text(), dict(response.headers)


async def scrape(server: ServerProcess) -> dict[str, float]:
    status, body, headers = await get(f"{server.url}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain")
    return samples(body)


async def test_metrics_are_not_served_without_a_configured_token_and_readyz_answers(
    server: ServerProcess,
) -> None:
    status, body, _ = await get(f"{server.url}/metrics", {"Authorization": "Bearer anything"})
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, body, _ = await get(f"{server.url}/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    status, body, _ = await get(f"{server.url}/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


async def test_metrics_need_the_bearer_token(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(METRICS_ENV)
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": "Basic x"},
    ):
        status, body, response_headers = await get(f"{server.url}/metrics", headers)
        assert status == 401, headers
        assert json.loads(body)["error"]["code"] == "not_authenticated"
        assert response_headers["WWW-Authenticate"] == "Bearer"
        assert "kinline_" not in body


async def test_a_scrape_after_some_traffic_finds_every_metric(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A conversation with a message each way, a booking whose confirmation goes through the SMS
    outbox, then one scrape: every metric is there, and the traffic shows in it."""
    server = server_factory({**METRICS_ENV, **FAST_BOOKING_ENV}, start=False)
    server.add_user("alice")
    server.start()
    before = await scrape(server)
    assert sorted(set(EVERY_METRIC) - families("\n".join(before))) == []
    assert before['kinline_sms_texts{state="delivered"}'] == 0
    async with Harness(server) as h:
        started = await h.start_conversation()
        relative = await h.relative(started.token, after_seq=0)
        alice = await h.sign_in("alice")
        assert (await alice.socket.claim(started.conversation_id))["ok"] is True
        assert (await relative.send(CANARY_MESSAGE))["ok"] is True
        assert (await alice.socket.send(started.conversation_id, CANARY_REPLY))["ok"] is True

        booking = BookingClient(alice.api, h.api())
        await booking.open_all_week()
        booked = await booking.book(await booking.next_start(lead_seconds=3600))
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: ("confirmation", "delivered") in states,
            what="the confirmation in the outbox",
        )
        after = await scrape(server)

    names = families("\n".join(after))
    assert sorted(set(EVERY_METRIC) - names) == []
    assert after['kinline_conversations{state="active"}'] == 1
    assert after['kinline_conversations{state="waiting"}'] == 0
    assert after["kinline_counsellors_online"] == 1
    assert after['kinline_messages_posted_total{sender="relative"}'] == 1
    assert after['kinline_messages_posted_total{sender="counsellor"}'] >= 1
    assert after["kinline_ack_latency_seconds_count"] == 2
    assert after["kinline_delivery_latency_seconds_count"] >= 2
    assert after['kinline_sms_texts{state="delivered"}'] == 1
    assert after["kinline_reminder_lag_seconds"] == 0
    assert after['kinline_backend_errors_total{backend="database"}'] == 0
    text = "\n".join(after)
    assert PHONE not in text and CANARY_MESSAGE not in text and started.conversation_id not in text


@pytest.fixture
def backends() -> Iterator[tuple[ExitStack, ExitStack, dict[str, str]]]:
    """A PostgreSQL and a Redis server, each stoppable on its own during the test."""
    with ExitStack() as database, ExitStack() as redis:
        env = {
            "KINLINE_DATABASE_URL": database.enter_context(postgres_server()),
            "KINLINE_SCALE__REDIS_URL": redis.enter_context(redis_server()),
        }
        yield database, redis, env


async def test_readyz_names_the_backend_that_is_down(
    server_factory: Callable[..., ServerProcess], backends: tuple[ExitStack, ExitStack, dict[str, str]]
) -> None:
    database, redis, env = backends
    server = server_factory({**env, **METRICS_ENV})
    status, body, _ = await get(f"{server.url}/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})

    redis.close()
    status, body, _ = await get(f"{server.url}/readyz")
    assert (status, json.loads(body)) == (503, {"status": "unavailable", "down": ["redis"]})
    assert (await scrape(server))['kinline_backend_errors_total{backend="redis"}'] >= 1

    database.close()
    status, body, _ = await get(f"{server.url}/readyz")
    assert (status, json.loads(body)) == (503, {"status": "unavailable", "down": ["database", "redis"]})
    status, body, _ = await get(f"{server.url}/healthz")
    assert status == 200, "liveness does not depend on the backends"
    assert "postgresql" not in body and "redis://" not in body


async def test_json_logs_are_one_object_per_line_and_hold_nothing_identifying(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"KINLINE_LOG__FORMAT": "json"}, separate_stdout=True, start=False)
    server.add_user("alice")
    server.start()
    async with Harness(server) as h:
        started = await h.start_conversation()
        relative = await h.relative(started.token, after_seq=0)
        alice = await h.sign_in("alice")
        await alice.socket.claim(started.conversation_id)
        assert (await relative.send(CANARY_MESSAGE))["ok"] is True
        wrong = await h.api().request(
            "POST", "/api/auth/login", json={"username": "alice", "password": CANARY_WRONG_PASSWORD}
        )
        assert wrong.status == 401
    server.stop()
    lines = server.log().splitlines()
    assert lines, "the server logged nothing"
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry), line
    assert any(json.loads(line)["logger"] == "kinline" for line in lines)
    assert findings([("json log", server.log())], NEVER_LOGGED) == []
