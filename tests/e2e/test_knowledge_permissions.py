"""The generated knowledge permission matrix: every role x knowledge action of
server/domain/permissions.py, performed as every real staff request that serves it, for every
collection (articles, resources, canned-answers, danger-words), against one real server. A call
succeeds exactly when ``permissions.allowed`` says so and is refused with 403 ``forbidden``
otherwise, changing nothing. The public routes answer anyone."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from server.app import create_app
from server.config.settings import load_settings
from server.domain.permissions import KNOWLEDGE_ACTIONS, SCOPES, Action, Ownership, allowed
from server.domain.staff import Role
from server.transports.http.knowledge_routes import COLLECTIONS, PREVIEW_PATH, staff_paths
from tests.e2e.matrix_helpers import module_server, sign_in_accounts
from tests.support.clients import Harness, HttpResult, Staff
from tests.support.server import ServerProcess

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ACTOR_NAMES = {role: f"knowledge-{role.value.replace('_', '-')}" for role in Role}
OWNER = "knowledge-owner"


KEYED = frozenset({"canned-answers", "danger-words"})


def body(collection: str, title: str, key: str | None = None) -> dict[str, Any]:
    """An item for the collection; canned answers and danger words need a key of their own."""
    keyed = collection in KEYED
    return {
        "key": (key or f"k-{uuid.uuid4().hex[:12]}") if keyed else "",
        "texts": {"sv": {"title": title, "body": "matrix text"}},
    }


Probe = Callable[[Staff, str, int], Awaitable[HttpResult]]


def request(method: str, tail: str, json: Callable[[str], Any] | None = None) -> tuple[str, str, Probe]:
    async def call(actor: Staff, collection: str, item_id: int) -> HttpResult:
        path = f"/api/staff/{collection}" + tail.format(item_id=item_id)
        return await actor.api.request(method, path, json=json(collection) if json else None)

    return method, "/api/staff/{collection}" + tail, call


EDITS = [
    request("POST", "", lambda c: body(c, "created")),
    request("PUT", "/{item_id}", lambda c: body(c, "changed")),
    request("POST", "/{item_id}/publish"),
    request("POST", "/{item_id}/unpublish"),
    request("DELETE", "/{item_id}"),
]
READS = [
    request("GET", ""),
    request("GET", "?q=matrix"),
    request("GET", "/{item_id}"),
    request("GET", "/{item_id}/versions"),
]
MAPPING = {Action.KNOWLEDGE_EDIT: EDITS, Action.KNOWLEDGE_READ_INTERNAL: READS}
CASES = [
    pytest.param(role, action, ownership, id=f"{role.value}-{action.value}-{ownership.value}")
    for action in sorted(KNOWLEDGE_ACTIONS)
    for ownership in sorted(SCOPES[action])
    for role in Role
]


@pytest.fixture(scope="module")
def knowledge_server(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory.mktemp("knowledge-permissions"), artifacts_dir, {}) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def staff(knowledge_server: ServerProcess) -> AsyncIterator[dict[str, Staff]]:
    accounts = [(name, role) for role, name in ACTOR_NAMES.items()] + [(OWNER, Role.COORDINATOR)]
    async with Harness(knowledge_server) as harness:
        yield await sign_in_accounts(knowledge_server, harness, accounts)


async def fresh_item(owner: Staff, collection: str, title: str) -> int:
    payload = body(collection, title)
    created = await owner.api.request("POST", f"/api/staff/{collection}", json=payload)
    assert created.status == 201, created.body
    return int(created.body["item"]["id"])


async def snapshot(owner: Staff, collection: str, item_id: int) -> Any:
    found = await owner.api.request("GET", f"/api/staff/{collection}/{item_id}")
    return found.status, found.body


@MODULE_LOOP
@pytest.mark.parametrize(("role", "action", "ownership"), CASES)
async def test_the_server_allows_exactly_what_the_table_allows(
    staff: dict[str, Staff], role: Role, action: Action, ownership: Ownership
) -> None:
    actor, owner = staff[ACTOR_NAMES[role]], staff[OWNER]
    permitted = allowed(role, action, ownership)
    wrong: list[str] = []
    for collection in COLLECTIONS:
        for number, (method, path, call) in enumerate(MAPPING[action]):
            item_id = await fresh_item(owner, collection, f"m-{role.value.replace('_', '-')}-{number}")
            before = await snapshot(owner, collection, item_id)
            answer = await call(actor, collection, item_id)
            case = f"{method} {path.format(collection=collection, item_id=item_id)}"
            if permitted:
                if answer.status not in (200, 201, 204):
                    wrong.append(f"{case}: answered {answer.status} {answer.body}, expected success")
            else:
                code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
                if (answer.status, code) != (403, "forbidden"):
                    wrong.append(f"{case}: answered {answer.status} {code}, expected 403 forbidden")
                if await snapshot(owner, collection, item_id) != before:
                    wrong.append(f"{case}: refused, yet the item changed")
    assert not wrong, "\n".join(wrong)


@MODULE_LOOP
async def test_the_search_across_the_bank_is_read_internal(staff: dict[str, Staff]) -> None:
    for role in Role:
        answer = await staff[ACTOR_NAMES[role]].api.request("GET", "/api/staff/knowledge/search?q=112")
        permitted = allowed(role, Action.KNOWLEDGE_READ_INTERNAL, Ownership.NONE)
        assert answer.status == (200 if permitted else 403), role
        if permitted:
            assert any(item["contact"]["phone"] == "112" for item in answer.body["items"]), role


@MODULE_LOOP
async def test_the_editors_preview_is_knowledge_edit_and_sanitised(staff: dict[str, Staff]) -> None:
    hostile = (
        "# Hej\n\n**stark** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    for role in Role:
        answer = await staff[ACTOR_NAMES[role]].api.request("POST", PREVIEW_PATH, json={"body": hostile})
        if not allowed(role, Action.KNOWLEDGE_EDIT, Ownership.NONE):
            assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden"), role
            continue
        assert answer.status == 200, (role, answer.body)
        html = answer.body["html"]
        assert "<strong>stark</strong>" in html and "<h1>" not in html, html
        assert "<script" not in html and "<img" not in html and 'href="javascript' not in html, html
        assert "&lt;script&gt;" in html, html


@MODULE_LOOP
async def test_the_public_routes_answer_anyone(knowledge_server: ServerProcess) -> None:
    async with Harness(knowledge_server) as harness:
        api = harness.api()
        resources = await api.request("GET", "/api/resources?language=sv&district=spanga-tensta")
        articles = await api.request("GET", "/api/articles?language=sv")
    assert resources.status == 200 and resources.body["resources"]
    assert articles.status == 200 and articles.body["articles"]


def test_every_knowledge_action_is_mapped_and_every_staff_route_walked() -> None:
    assert set(MAPPING) == set(KNOWLEDGE_ACTIONS)
    app = create_app(load_settings())
    prefixes = (*(f"/api/staff/{collection}" for collection in COLLECTIONS), "/api/staff/knowledge")
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource and route.resource.canonical.startswith(prefixes) and route.method != "HEAD"
    }
    assert served == set(staff_paths())
    probed = {
        (method, path.split("?")[0].format(collection=collection, item_id="{item_id}"))
        for probes in MAPPING.values()
        for method, path, _call in probes
        for collection in COLLECTIONS
    } | {("GET", "/api/staff/knowledge/search"), ("POST", PREVIEW_PATH)}
    assert probed == served


def test_some_role_may_and_some_may_not() -> None:
    for action in KNOWLEDGE_ACTIONS:
        answers = {allowed(role, action, ownership) for role in Role for ownership in SCOPES[action]}
        assert answers == {True, False}, action
    assert allowed(Role.COORDINATOR, Action.KNOWLEDGE_EDIT, Ownership.NONE)
    assert not allowed(Role.COUNSELLOR, Action.KNOWLEDGE_EDIT, Ownership.NONE)
    assert not allowed(Role.SOCIAL_SERVICES, Action.KNOWLEDGE_EDIT, Ownership.NONE)
