"""The generated operations permission matrix: every role x operations action of
server/domain/permissions.py (the retention report), performed as the real request that serves it
against one real server. A call succeeds exactly when ``permissions.allowed`` says so, and is
refused with 403 ``forbidden`` otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from server.app import create_app
from server.config.settings import load_settings
from server.domain.permissions import OPERATIONS_ACTIONS, SCOPES, Action, Ownership, allowed
from server.domain.staff import Role
from tests.e2e.matrix_helpers import module_server, sign_in_accounts
from tests.support.clients import Harness, Staff
from tests.support.server import ServerProcess

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ACTOR_NAMES = {role: f"ops-{role.value.replace('_', '-')}" for role in Role}
OPERATIONS_PATHS = ("/api/staff/retention",)
# Each operations action and the requests that perform it.
MAPPING: dict[Action, tuple[str, ...]] = {
    Action.RETENTION_READ: ("/api/staff/retention",),
}

CASES = [
    pytest.param(role, action, ownership, id=f"{role.value}-{action.value}-{ownership.value}")
    for action in sorted(OPERATIONS_ACTIONS)
    for ownership in sorted(SCOPES[action])
    for role in Role
]


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory.mktemp("operations-permissions"), artifacts_dir, {}) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def staff(ops_server: ServerProcess) -> AsyncIterator[dict[str, Staff]]:
    async with Harness(ops_server) as harness:
        yield await sign_in_accounts(
            ops_server, harness, [(name, role) for role, name in ACTOR_NAMES.items()]
        )


@MODULE_LOOP
@pytest.mark.parametrize(("role", "action", "ownership"), CASES)
async def test_the_server_allows_exactly_what_the_table_allows(
    staff: dict[str, Staff], role: Role, action: Action, ownership: Ownership
) -> None:
    actor = staff[ACTOR_NAMES[role]]
    permitted = allowed(role, action, ownership)
    wrong: list[str] = []
    for path in MAPPING[action]:
        answer = await actor.api.request("GET", path)
        if permitted:
            if answer.status != 200 or not isinstance(answer.body, dict) or "totals" not in answer.body:
                wrong.append(
                    f"GET {path}: answered {answer.status} {answer.body!r}, expected 200 and a report"
                )
        else:
            code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
            if (answer.status, code) != (403, "forbidden"):
                wrong.append(f"GET {path}: answered {answer.status} {code}, expected 403 forbidden")
    assert not wrong, "\n".join(wrong)


def test_every_operations_action_is_mapped_to_requests() -> None:
    assert set(MAPPING) == set(OPERATIONS_ACTIONS)
    assert all(MAPPING.values())


def test_every_operations_route_is_performed_by_some_action() -> None:
    app = create_app(load_settings())
    served = {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource and route.resource.canonical.startswith(OPERATIONS_PATHS) and route.method != "HEAD"
    }
    assert served == {path for paths in MAPPING.values() for path in paths}


def test_some_role_may_and_some_may_not() -> None:
    """Both branches of the matrix run: otherwise it could not fail for a wrongly allowed role."""
    for action in OPERATIONS_ACTIONS:
        answers = {allowed(role, action, ownership) for role in Role for ownership in SCOPES[action]}
        assert answers == {True, False}, action
