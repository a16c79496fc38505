"""GET /api/slots against a real server: limited per client address (under the in-memory HMAC, as
new conversations are) by limits.slot_queries_per_minute, with the usual 429 rate_limited; 0 means
unlimited (docs/protocol.md, config/default.toml)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from tests.support.clients import Api, Harness, HttpResult
from tests.support.server import ServerProcess

LIMIT_SETTING = "KINLINE_LIMITS__SLOT_QUERIES_PER_MINUTE"


async def query_slots(api: Api, **changes: str) -> HttpResult:
    options = await api.request("GET", "/api/booking/options")
    now = datetime.now(UTC)
    query = {
        "kind": options.body["kinds"][0]["id"],
        "language": "sv",
        "from": now.isoformat(),
        "to": (now + timedelta(days=7)).isoformat(),
        **changes,
    }
    return await api.request("GET", f"/api/slots?{urlencode(query)}")


async def test_slot_queries_beyond_the_limit_answer_429_rate_limited(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env={LIMIT_SETTING: "3"}, name="slot-limit")
    async with Harness(server) as h:
        first, second = h.api(), h.api()
        answers = [await query_slots(first), await query_slots(second), await query_slots(first)]
        assert [a.status for a in answers] == [200, 200, 200]
        assert all(isinstance(a.body["slots"], list) for a in answers)

        refused = await query_slots(second)
        assert refused.status == 429
        assert set(refused.body) == {"error"}
        assert set(refused.body["error"]) == {"code", "message"}
        assert refused.body["error"]["code"] == "rate_limited"

        # The limit is on slot queries only: the rest of booking still answers.
        assert (await first.request("GET", "/api/booking/options")).status == 200
    assert "127.0.0.1" not in server.log_for_privacy_scan()


async def test_a_malformed_query_is_answered_422_without_counting(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env={LIMIT_SETTING: "1"}, name="slot-limit-invalid")
    async with Harness(server) as h:
        api = h.api()
        for _ in range(3):
            malformed = await query_slots(api, **{"from": "yesterday"})
            assert (malformed.status, malformed.body["error"]["code"]) == (422, "invalid_time")
        assert (await query_slots(api)).status == 200
        assert (await query_slots(api)).status == 429


async def test_zero_means_unlimited(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(env={LIMIT_SETTING: "0"}, name="slot-limit-off")
    async with Harness(server) as h:
        api = h.api()
        statuses = [(await query_slots(api)).status for _ in range(30)]
    assert statuses == [200] * 30
