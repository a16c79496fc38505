"""The generated staff-account permission matrix: every role x staff.* action x ownership of
server/domain/permissions.py, performed as the real request that serves it against one real
server. "own" is the actor's own account, "other" a fresh colleague's, "none" the list or a new
account. A request succeeds exactly when ``permissions.allowed`` says so, and is refused with 403
``forbidden`` otherwise (a counsellor gets 403 everywhere)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from server.app import create_app
from server.config.settings import load_settings
from server.domain.permissions import SCOPES, STAFF_ACTIONS, Action, Ownership, allowed
from server.domain.staff import Role
from tests.e2e.matrix_helpers import module_server, sign_in_accounts
from tests.support.clients import Harness, Staff
from tests.support.server import ServerProcess

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ACTOR_NAMES = {role: f"acct-{role.value.replace('_', '-')}" for role in Role}
PREFIX = "/api/staff/accounts"
# Each action: the request that performs it on an account (None: on no account), and the body.
MAPPING: dict[Action, tuple[str, str, Any]] = {
    Action.STAFF_LIST: ("GET", PREFIX, None),
    Action.STAFF_ADD: ("POST", PREFIX, {"role": "counsellor"}),
    Action.STAFF_EDIT: ("PATCH", PREFIX + "/{username}", {"role": "counsellor"}),
    Action.STAFF_PASSWORD_RESET: ("POST", PREFIX + "/{username}/password-reset", None),
    Action.STAFF_TOTP_RESET: ("DELETE", PREFIX + "/{username}/totp", None),
}

CASES = [
    pytest.param(role, action, ownership, id=f"{role.value}-{action.value}-{ownership.value}")
    for action in sorted(STAFF_ACTIONS)
    for ownership in sorted(SCOPES[action])
    for role in Role
]


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory.mktemp("account-permissions"), artifacts_dir, {}) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def staff(accounts_server: ServerProcess) -> AsyncIterator[dict[str, Staff]]:
    async with Harness(accounts_server) as harness:
        yield await sign_in_accounts(
            accounts_server, harness, [(name, role) for role, name in ACTOR_NAMES.items()]
        )


@MODULE_LOOP
@pytest.mark.parametrize(("role", "action", "ownership"), CASES)
async def test_the_server_allows_exactly_what_the_table_allows(
    accounts_server: ServerProcess, staff: dict[str, Staff], role: Role, action: Action, ownership: Ownership
) -> None:
    actor = staff[ACTOR_NAMES[role]]
    method, path, body = MAPPING[action]
    case = f"{role.value.replace('_', '-')}-{action.value.split('.')[1].replace('_', '-')}"
    if ownership is Ownership.OWN:
        target = actor.user["username"]
    elif ownership is Ownership.OTHER:
        target = f"t-{case}"
        await asyncio.to_thread(accounts_server.add_user, target)
    else:
        target = ""
    if action is Action.STAFF_ADD:
        body = {**body, "username": f"n-{case}"}
    answer = await actor.api.request(method, path.format(username=target), json=body)
    success = 201 if action is Action.STAFF_ADD else 200
    expected = success if allowed(role, action, ownership) else 403
    code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
    assert answer.status == expected, (
        f"{method} {path} as {role.value} ({ownership.value}): {answer.status} {code}"
    )
    if expected == 403:
        assert code == "forbidden"
    # The actor's own session survives whatever was refused or done to others.
    assert (await actor.api.request("GET", "/api/me")).status == 200


def test_every_staff_action_is_mapped_to_a_request() -> None:
    assert set(MAPPING) == set(STAFF_ACTIONS)


def test_every_account_route_is_performed_by_some_action() -> None:
    app = create_app(load_settings())
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource and route.resource.canonical.startswith(PREFIX) and route.method != "HEAD"
    }
    assert served == {(method, path) for method, path, _body in MAPPING.values()}


def test_some_role_may_and_some_may_not_do_each_staff_action() -> None:
    """Both branches of the matrix run: otherwise it could not fail for a wrongly allowed role."""
    for action in STAFF_ACTIONS:
        answers = {allowed(role, action, ownership) for role in Role for ownership in SCOPES[action]}
        assert answers == {True, False}, action
