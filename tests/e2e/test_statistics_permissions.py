"""The generated statistics permission matrix: every role x statistics action of
server/domain/permissions.py, performed as each real request that serves it (the table, its plots
and its downloads) against one real server. A call succeeds, with its own content type, exactly
when ``permissions.allowed`` says so, and is refused with 403 ``forbidden`` otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from server.app import create_app
from server.config.settings import load_settings
from server.domain.permissions import SCOPES, STATISTICS_ACTIONS, Action, Ownership, allowed
from server.domain.staff import Role
from tests.e2e.matrix_helpers import module_server, sign_in_accounts
from tests.support.clients import Harness, Staff
from tests.support.server import ServerProcess

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ACTOR_NAMES = {role: f"stats-{role.value.replace('_', '-')}" for role in Role}
QUERY = "from=2026-W01&to=2026-W52&by=week,language"
STATISTICS_PREFIX = "/api/stats"
# Each statistics action, the requests that perform it, and the content type each answers with.
MAPPING: dict[Action, dict[str, str]] = {
    Action.STATISTICS_READ: {
        f"/api/stats?{QUERY}": "application/json",
        f"/api/stats.svg?{QUERY}&chart=line&lang=en": "image/svg+xml",
        f"/api/stats.csv?{QUERY}": "text/csv",
        f"/api/stats.json?{QUERY}": "application/json",
    },
}

CASES = [
    pytest.param(role, action, ownership, id=f"{role.value}-{action.value}-{ownership.value}")
    for action in sorted(STATISTICS_ACTIONS)
    for ownership in sorted(SCOPES[action])
    for role in Role
]


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory.mktemp("statistics-permissions"), artifacts_dir, {}) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def staff(stats_server: ServerProcess) -> AsyncIterator[dict[str, Staff]]:
    async with Harness(stats_server) as harness:
        yield await sign_in_accounts(
            stats_server, harness, [(name, role) for role, name in ACTOR_NAMES.items()]
        )


@MODULE_LOOP
@pytest.mark.parametrize(("role", "action", "ownership"), CASES)
async def test_the_server_allows_exactly_what_the_table_allows(
    staff: dict[str, Staff], role: Role, action: Action, ownership: Ownership
) -> None:
    actor = staff[ACTOR_NAMES[role]]
    permitted = allowed(role, action, ownership)
    wrong: list[str] = []
    for path, content_type in MAPPING[action].items():
        answer = await actor.api.request("GET", path)
        if permitted:
            got = (answer.status, answer.headers.get("Content-Type", "").split(";")[0])
            if got != (200, content_type):
                wrong.append(f"GET {path}: answered {got}, expected (200, {content_type!r})")
        else:
            code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
            if (answer.status, code) != (403, "forbidden"):
                wrong.append(f"GET {path}: answered {answer.status} {code}, expected 403 forbidden")
    assert not wrong, "\n".join(wrong)


def test_every_statistics_action_is_mapped_to_requests() -> None:
    assert set(MAPPING) == set(STATISTICS_ACTIONS)
    assert all(MAPPING.values())


def test_every_statistics_route_is_performed_by_some_action() -> None:
    app = create_app(load_settings())
    served = {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource
        and route.resource.canonical.startswith(STATISTICS_PREFIX)
        and route.method != "HEAD"
    }
    probed = {path.split("?")[0] for paths in MAPPING.values() for path in paths}
    assert served == probed


def test_some_role_may_and_some_may_not_read_statistics() -> None:
    """Both branches of the matrix run: otherwise it could not fail for a wrongly allowed role."""
    for action in STATISTICS_ACTIONS:
        answers = {allowed(role, action, ownership) for role in Role for ownership in SCOPES[action]}
        assert answers == {True, False}, action
