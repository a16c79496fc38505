"""GET /api/slots/languages against a real server: the languages with at least one free time of a
kind, following the counsellors' languages and their busy time; the interpreter kind in every
language a Swedish-speaking counsellor can hold with an interpreter; bad input answered 422 and the
slot query limit shared with /api/slots (docs/protocol.md, docs/booking.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from tests.support.booking import PHONE, BookingClient
from tests.support.clients import Api, Harness, HttpResult
from tests.support.server import ServerProcess

ENV = {
    "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__KINDS__INTERPRETER_CALL__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__BOOKINGS_PER_MINUTE": "0",
}


async def languages(api: Api, kind: str = "phone", days: float = 7, **changes: str) -> HttpResult:
    now = datetime.now(UTC)
    query = {"kind": kind, "from": now.isoformat(), "to": (now + timedelta(days=days)).isoformat(), **changes}
    return await api.request("GET", f"/api/slots/languages?{urlencode(query)}")


async def test_the_languages_with_free_times_follow_the_counsellors(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(ENV, start=False)
    server.add_user("sara")
    server.add_user("amal")
    server.start()
    async with Harness(server) as h:
        public = h.api()
        empty = await languages(public)
        assert (empty.status, empty.body) == (200, {"kind": "phone", "languages": []})

        sara, amal = h.api(), h.api()
        await sara.login("sara")
        await amal.login("amal")
        await BookingClient(sara, public).open_all_week(("sv",))
        await BookingClient(amal, public).open_all_week(("ar", "fa"))

        found = await languages(public)
        assert found.status == 200
        assert found.body == {"kind": "phone", "languages": ["sv", "ar", "fa"]}
        interpreted = await languages(public, "interpreter_call")
        assert interpreted.body == {"kind": "interpreter_call", "languages": ["sv", "ar", "so", "fa", "ti"]}

        # The same answer as asking /api/slots language by language.
        booking = BookingClient(sara, public)
        for code in ("sv", "en", "ar", "so", "fa", "ti"):
            assert bool(await booking.slots("phone", code, hours=7 * 24)) == (code in found.body["languages"])

        # Amal stops taking calls: Arabic and Persian have no free times left.
        await BookingClient(amal, public).open_all_week(("sv",))
        assert (await languages(public)).body["languages"] == ["sv"]
        start = await booking.next_start(60, "interpreter_call", "so")
        booked = await booking.book(start, PHONE, kind="interpreter_call", language="so")
        assert booked["reference"]
    assert "127.0.0.1" not in server.log_for_privacy_scan()


async def test_bad_queries_are_answered_422(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(ENV, name="slot-languages-bad")
    async with Harness(server) as h:
        api = h.api()
        now = datetime.now(UTC)
        for changes, code in [
            ({"from": "yesterday"}, "invalid_time"),
            ({"to": "2026-01-02T00:00:00"}, "invalid_time"),
            ({"to": (now - timedelta(days=1)).isoformat()}, "invalid_time"),
            ({"kind": "tarot"}, "unknown_kind"),
            ({"kind": ""}, "unknown_kind"),
            ({"to": (now + timedelta(days=90)).isoformat()}, "range_too_long"),
        ]:
            refused = await languages(api, **changes)
            assert refused.status == 422, (changes, refused.body)
            assert set(refused.body) == {"error"} and refused.body["error"]["code"] == code, changes
        missing = await api.request("GET", "/api/slots/languages?kind=phone")
        assert (missing.status, missing.body["error"]["code"]) == (422, "invalid_time")
        assert (await languages(api)).status == 200


async def test_the_limit_is_shared_with_slots_and_unreadable_times_do_not_count(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({**ENV, "KINLINE_LIMITS__SLOT_QUERIES_PER_MINUTE": "3"}, name="slot-languages")
    async with Harness(server) as h:
        api = h.api()
        for _ in range(3):
            unreadable = await languages(api, **{"from": "yesterday"})
            assert (unreadable.status, unreadable.body["error"]["code"]) == (422, "invalid_time")
        now = datetime.now(UTC)
        slot_query = {
            "kind": "phone",
            "language": "sv",
            "from": now.isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        }
        counted = [
            await languages(api),
            await api.request("GET", f"/api/slots?{urlencode(slot_query)}"),
            await languages(api, "visit"),
        ]
        assert [answer.status for answer in counted] == [200, 200, 200]
        limited = await languages(api)
        assert (limited.status, limited.body["error"]["code"]) == (429, "rate_limited")
        assert set(limited.body["error"]) == {"code", "message"}
