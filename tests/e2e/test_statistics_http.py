"""GET /api/stats against a real server: the contract of docs/protocol.md, who may read it, and
clear 422s for bad weeks and unknown dimensions."""

from __future__ import annotations

from tests.support.clients import Harness, Staff
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

STATS = "/api/stats"


async def signed_in(harness: Harness, name: str, role: str) -> Staff:
    extra = ("--route", "spanga-tensta") if role == "social_services" else ()
    harness.server.add_user(name, role, DEFAULT_PASSWORD, *extra)
    return await harness.sign_in(name, connect=False)


async def test_overseers_read_the_table_and_others_are_refused(server: ServerProcess) -> None:
    async with Harness(server) as h:
        supervisor = await signed_in(h, "sam", "supervisor")
        admin = await signed_in(h, "ada", "admin")
        counsellor = await signed_in(h, "cora", "counsellor")
        liaison = await signed_in(h, "sol", "social_services")
        query = f"{STATS}?from=2026-W01&to=2026-W52&by=perspective,language"
        for reader in (supervisor, admin):
            answer = await reader.api.request("GET", query)
            assert answer.status == 200, answer.body
            assert answer.body == {
                "from": "2026-W01",
                "to": "2026-W52",
                "by": ["perspective", "language"],
                "min_cell": 5,
                "rows": [],
                "total": 0,
            }
        for refused in (counsellor, liaison):
            answer = await refused.api.request("GET", query)
            assert answer.status == 403, answer.body
            assert answer.body["error"]["code"] == "forbidden"
        anonymous = await h.api().request("GET", query)
        assert anonymous.status == 401


async def test_bad_weeks_and_unknown_dimensions_get_a_clear_422(server: ServerProcess) -> None:
    async with Harness(server) as h:
        supervisor = await signed_in(h, "sam", "supervisor")
        cases = {
            "from=2026-5&to=2026-W52&by=topic": ("invalid_week", "from must be an ISO week"),
            "from=2026-W01&to=2025-W53&by=topic": ("invalid_week", "2025-W53 is not a week of 2025"),
            "from=2026-W10&to=2026-W01&by=topic": ("invalid_week", "to must not be before from"),
            "to=2026-W01&by=topic": ("invalid_week", "from must be an ISO week"),
            "from=2026-W01&to=2026-W52&by=colour": ("invalid_dimension", "unknown dimension 'colour'"),
            "from=2026-W01&to=2026-W52&by=topic,language,week": ("invalid_dimension", "one or two"),
            "from=2026-W01&to=2026-W52": ("invalid_dimension", "one or two"),
        }
        for query, (code, words) in cases.items():
            answer = await supervisor.api.request("GET", f"{STATS}?{query}")
            assert answer.status == 422, (query, answer.body)
            assert answer.body["error"]["code"] == code, query
            assert words in answer.body["error"]["message"], (query, answer.body)
