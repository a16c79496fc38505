"""The generated permission matrix: every role x action x ownership (and the facts an escalation can
have) over the real HTTP routes and socket events, against a real server. What each case must
answer comes from the rules as data (server/domain/permissions.py), which the unit tests hold
against the words of issue 4; here the server must enforce exactly that, with 404 where the
caller may not even know the escalation exists, and leave an audit row for every read and change
it allows, and none for what it refuses."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import socketio

from server.domain.permissions import (
    ESCALATION_ACTIONS,
    SCOPES,
    Action,
    Fact,
    Ownership,
    allowed,
    reads_conversations,
)
from server.domain.staff import Role
from tests.e2e.escalation_helpers import (
    ESCALATIONS,
    Member,
    Team,
    assert_audit_has_no_content,
    audit_rows,
    draft_body,
    execute,
    query,
)
from tests.support.clients import Harness, HttpResult, SocketClient, connect_error_code
from tests.support.server import ServerProcess

ROUTE, OTHER_ROUTE = "spanga-tensta", "rinkeby-kista"
OBJECT = (Ownership.OWN, Ownership.ROUTE, Ownership.OTHER)

# One account per role and ownership, plus the ones that set situations up.
ACTORS: dict[tuple[Role, Ownership], tuple[str, str | None]] = {
    (Role.COUNSELLOR, Ownership.OWN): ("drafter", None),
    (Role.COUNSELLOR, Ownership.ROUTE): ("c-route", ROUTE),
    (Role.COUNSELLOR, Ownership.OTHER): ("c-other", None),
    (Role.SUPERVISOR, Ownership.OWN): ("s-drafter", None),
    (Role.SUPERVISOR, Ownership.ROUTE): ("s-route", ROUTE),
    (Role.SUPERVISOR, Ownership.OTHER): ("s-other", None),
    (Role.SOCIAL_SERVICES, Ownership.OWN): ("ss-own", ROUTE),
    (Role.SOCIAL_SERVICES, Ownership.ROUTE): ("ss-route", ROUTE),
    # A social services user of another route.
    (Role.SOCIAL_SERVICES, Ownership.OTHER): ("ss-other", OTHER_ROUTE),
    (Role.ADMIN, Ownership.OWN): ("a-own", None),
    (Role.ADMIN, Ownership.ROUTE): ("a-route", ROUTE),
    (Role.ADMIN, Ownership.OTHER): ("a-other", None),
    (Role.COORDINATOR, Ownership.OWN): ("k-own", None),
    (Role.COORDINATOR, Ownership.ROUTE): ("k-route", ROUTE),
    (Role.COORDINATOR, Ownership.OTHER): ("k-other", None),
}
HELPERS = [("approver", Role.SUPERVISOR.value, None), ("liaison", Role.SOCIAL_SERVICES.value, ROUTE)]


@dataclass(frozen=True)
class Situation:
    """Where an escalation is when the action is tried."""

    name: str
    share_transcript: bool = False

    @property
    def facts(self) -> frozenset[Fact]:
        facts = set()
        if self.name in {"sent", "acknowledged"}:
            facts.add(Fact.DELIVERED)
        if self.share_transcript:
            facts.add(Fact.TRANSCRIPT_SHARED)
        return frozenset(facts)


AWAITING, SENT_BACK, SENT, ACKNOWLEDGED = (
    Situation("awaiting_approval"),
    Situation("sent_back"),
    Situation("sent"),
    Situation("acknowledged"),
)
SHARED = Situation("sent", share_transcript=True)

Call = Callable[[Member, str], Awaitable[HttpResult]]

OBJECT_ACTIONS: dict[Action, tuple[list[Situation], Call]] = {
    Action.ESCALATION_READ: ([AWAITING, SENT], lambda m, e: m.get(f"/api/escalations/{e}")),
    Action.ESCALATION_TRANSCRIPT: ([SENT, SHARED], lambda m, e: m.get(f"/api/escalations/{e}/transcript")),
    Action.ESCALATION_APPROVE: ([AWAITING], lambda m, e: m.post(f"/api/escalations/{e}/approve")),
    Action.ESCALATION_SEND_BACK: (
        [AWAITING],
        lambda m, e: m.post(f"/api/escalations/{e}/send-back", {"reason": "more detail"}),
    ),
    Action.ESCALATION_RESUBMIT: (
        [SENT_BACK],
        lambda m, e: m.post(f"/api/escalations/{e}/resubmit", _resubmission()),
    ),
    Action.ESCALATION_ACKNOWLEDGE: ([SENT], lambda m, e: m.post(f"/api/escalations/{e}/acknowledge")),
    Action.ESCALATION_OUTCOME: (
        [ACKNOWLEDGED],
        lambda m, e: m.post(f"/api/escalations/{e}/outcome", {"state": "received"}),
    ),
}


def _resubmission() -> dict[str, Any]:
    body = draft_body("unused", summary="resubmitted")
    del body["conversation_id"]
    return body


def expected_status(role: Role, action: Action, ownership: Ownership, facts: frozenset[Fact]) -> int:
    if not allowed(role, Action.ESCALATION_READ, ownership, facts):
        return 404
    return 200 if allowed(role, action, ownership, facts) else 403


@dataclass
class Outcome:
    case: str
    status: int | str
    expected: int | str


@pytest.fixture
async def team(server: ServerProcess) -> Any:
    async with Harness(server) as harness:
        team = Team(harness)
        accounts = [(name, role.value, route) for (role, _own), (name, route) in ACTORS.items()]
        await team.add([*accounts, *HELPERS])
        yield team
        await team.close()


def test_every_object_action_and_every_role_and_ownership_is_walked() -> None:
    walked = set(OBJECT_ACTIONS) | {
        Action.ESCALATION_CREATE,
        Action.ESCALATION_LIST,
        Action.ESCALATION_AUDIT,
        Action.ESCALATION_SUBSCRIBE,
    }
    assert walked == set(ESCALATION_ACTIONS)
    assert {role for role, _own in ACTORS} == set(Role)
    for action in OBJECT_ACTIONS:
        assert SCOPES[action] == set(OBJECT)


async def prepare(team: Team, situation: Situation, drafter: str, conversation_id: str) -> str:
    body = draft_body(conversation_id, share_transcript=situation.share_transcript)
    created = await team[drafter].post("/api/escalations", body)
    assert created.status == 201, created.body
    escalation_id = str(created.body["escalation_id"])
    steps: list[tuple[str, str, Any]] = {
        "awaiting_approval": [],
        "sent_back": [("approver", "send-back", {"reason": "more"})],
        "sent": [("approver", "approve", None)],
        "acknowledged": [("approver", "approve", None), ("liaison", "acknowledge", None)],
    }[situation.name]
    for who, verb, payload in steps:
        result = await team[who].post(f"/api/escalations/{escalation_id}/{verb}", payload)
        assert result.status == 200, (verb, result.body)
    return escalation_id


async def test_the_matrix_over_http_and_sockets(team: Team, server: ServerProcess) -> None:
    conversations = {
        "drafter": (await team.held_conversation("drafter"))[0],
        "s-drafter": (await team.held_conversation("s-drafter"))[0],
    }
    outcomes: list[Outcome] = []
    allowed_audit: set[tuple[int, str, str]] = set()
    refused_audit: set[tuple[int, str, str]] = set()

    # Actions on one escalation.
    for action, (situations, call) in OBJECT_ACTIONS.items():
        for (role, ownership), situation in itertools.product(ACTORS, situations):
            actor = team[ACTORS[role, ownership][0]]
            drafter = actor.name if ownership is Ownership.OWN and actor.name in conversations else "drafter"
            escalation_id = await prepare(team, situation, drafter, conversations[drafter])
            if ownership is Ownership.OWN and drafter != actor.name:
                execute(server, "UPDATE escalations SET drafter_id = ? WHERE id = ?", actor.id, escalation_id)
            result = await call(actor, escalation_id)
            expected = expected_status(role, action, ownership, situation.facts)
            case = f"{role.value} {action.value} {ownership.value} {situation.name}"
            if situation.share_transcript:
                case += "+shared"
            outcomes.append(Outcome(case, result.status, expected))
            row = (actor.id, action.value, escalation_id)
            (allowed_audit if expected == 200 else refused_audit).add(row)

    # Drafting: "own" is holding the conversation.
    for role in Role:
        for ownership in (Ownership.OWN, Ownership.OTHER):
            actor = team[ACTORS[role, ownership][0]]
            if ownership is Ownership.OTHER:
                conversation_id = conversations["drafter"]
            elif actor.name in conversations:
                conversation_id = conversations[actor.name]
            else:
                conversation_id = (await team.held_conversation("drafter"))[0]
                execute(
                    server,
                    "UPDATE conversations SET counsellor_id = ? WHERE id = ?",
                    actor.id,
                    conversation_id,
                )
            result = await actor.post("/api/escalations", draft_body(conversation_id))
            refused = 403 if reads_conversations(role) else 404
            expected = 201 if allowed(role, Action.ESCALATION_CREATE, ownership) else refused
            outcomes.append(Outcome(f"{role.value} create {ownership.value}", result.status, expected))
            if result.status == 201:
                allowed_audit.add((actor.id, Action.ESCALATION_CREATE.value, result.body["escalation_id"]))

    # Lists, the audit view and the socket subscription have no single object.
    for role in Role:
        actor = team[ACTORS[role, Ownership.OTHER][0]]
        listed = await actor.get("/api/escalations")
        expected = 200 if allowed(role, Action.ESCALATION_LIST, Ownership.NONE) else 403
        outcomes.append(Outcome(f"{role.value} list", listed.status, expected))
        trail = await actor.get("/api/escalations/audit")
        expected = 200 if allowed(role, Action.ESCALATION_AUDIT, Ownership.NONE) else 403
        outcomes.append(Outcome(f"{role.value} audit", trail.status, expected))
        if trail.status == 200:
            allowed_audit.add((actor.id, Action.ESCALATION_AUDIT.value, "*"))
        subscribed = await _subscribe(team, actor)
        expected_code = "ok" if allowed(role, Action.ESCALATION_SUBSCRIBE, Ownership.NONE) else "forbidden"
        outcomes.append(Outcome(f"{role.value} subscribe /escalations", subscribed, expected_code))

    wrong = [o for o in outcomes if o.status != o.expected]
    assert not wrong, "\n".join(f"{o.case}: got {o.status}, expected {o.expected}" for o in wrong)
    assert len(outcomes) >= len(Role) * 3 * 9

    # The issue's own examples, whatever the table says.
    by_case = {o.case: o.status for o in outcomes}
    assert by_case["counsellor escalation.approve own awaiting_approval"] == 403
    assert by_case["supervisor escalation.approve own awaiting_approval"] == 403
    assert by_case["supervisor escalation.approve other awaiting_approval"] == 200
    assert by_case["social_services escalation.acknowledge other sent"] == 404
    assert by_case["social_services escalation.acknowledge route sent"] == 200
    assert by_case["social_services escalation.transcript route sent"] == 403
    assert by_case["social_services escalation.transcript route sent+shared"] == 200

    await _lists_show_exactly_what_each_may_read(team, server, allowed_audit)

    rows = set(audit_rows(server))
    missing = allowed_audit - {(a, b, c) for a, b, c in rows if a is not None}
    assert not missing, f"allowed reads or changes without an audit row: {sorted(missing)[:10]}"
    leaked = refused_audit & rows
    assert not leaked, f"refused attempts left audit rows: {sorted(leaked)[:10]}"
    assert_audit_has_no_content(server)


async def _subscribe(team: Team, actor: Member) -> str:
    socket = SocketClient(team.harness.url, ESCALATIONS)
    team.sockets.append(socket)
    try:
        await socket.connect(headers=actor.cookie_header)
    except socketio.exceptions.ConnectionError:
        return connect_error_code(socket.connect_errors[-1] if socket.connect_errors else None) or "refused"
    await socket.log.wait_for("ready")
    return "ok"


def readable_by(member: Member, role: Role, row: tuple[Any, ...]) -> bool:
    _id, drafter_id, route, backup_route, state, consent, share = row
    if drafter_id == member.id:
        ownership = Ownership.OWN
    elif member.route is not None and member.route in {route, backup_route}:
        ownership = Ownership.ROUTE
    else:
        ownership = Ownership.OTHER
    facts = set()
    if state in {"sent", "acknowledged", "received", "under_assessment", "closed_with_feedback"}:
        facts.add(Fact.DELIVERED)
    if consent and share:
        facts.add(Fact.TRANSCRIPT_SHARED)
    return allowed(role, Action.ESCALATION_READ, ownership, frozenset(facts))


async def _lists_show_exactly_what_each_may_read(
    team: Team, server: ServerProcess, allowed_audit: set[tuple[int, str, str]]
) -> None:
    rows = query(
        server,
        "SELECT id, drafter_id, route, backup_route, state, consent, share_transcript FROM escalations",
    )
    for (role, _ownership), (name, _route) in ACTORS.items():
        member = team[name]
        result = await member.get("/api/escalations")
        if not allowed(role, Action.ESCALATION_LIST, Ownership.NONE):
            assert result.status == 403
            continue
        listed = {item["escalation_id"] for item in result.body["escalations"]}
        expected = {row[0] for row in rows if readable_by(member, role, row)}
        assert listed == expected, name
        allowed_audit.update((member.id, Action.ESCALATION_LIST.value, e) for e in listed)


async def test_socket_pushes_reach_exactly_those_who_may_read(team: Team, server: ServerProcess) -> None:
    """``changed`` carries an id only, and only to readers: the drafter, supervisors, and the route
    once the escalation is delivered; never another route's social services user."""
    conversation_id = (await team.held_conversation("drafter"))[0]
    listeners: dict[str, SocketClient] = {}
    for (role, _ownership), (name, _route) in ACTORS.items():
        if allowed(role, Action.ESCALATION_SUBSCRIBE, Ownership.NONE):
            listeners[name] = await team.escalations_socket(name)
    refused = SocketClient(team.harness.url, "/counsellor")
    team.sockets.append(refused)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(headers=team["ss-route"].cookie_header)
    assert connect_error_code(refused.connect_errors[-1]) == "forbidden"

    marks = {name: socket.log.mark() for name, socket in listeners.items()}
    created = await team["drafter"].post("/api/escalations", draft_body(conversation_id))
    escalation_id = created.body["escalation_id"]
    await _assert_heard(team, server, listeners, marks, escalation_id)

    marks = {name: socket.log.mark() for name, socket in listeners.items()}
    approved = await team["approver"].post(f"/api/escalations/{escalation_id}/approve")
    assert approved.status == 200
    await _assert_heard(team, server, listeners, marks, escalation_id)
    assert "ss-route" in {n for n, s in listeners.items() if s.log.named("changed", marks[n])}
    assert not listeners["ss-other"].log.named("changed", 0)


async def _assert_heard(
    team: Team,
    server: ServerProcess,
    listeners: dict[str, SocketClient],
    marks: dict[str, int],
    escalation_id: str,
) -> None:
    for socket in listeners.values():
        await socket.barrier()
    (row,) = query(
        server,
        "SELECT id, drafter_id, route, backup_route, state, consent, share_transcript FROM escalations"
        " WHERE id = ?",
        escalation_id,
    )
    for (role, _ownership), (name, _route) in ACTORS.items():
        if name not in listeners:
            continue
        heard = [
            e
            for e in listeners[name].log.named("changed", marks[name])
            if e == {"escalation_id": escalation_id}
        ]
        assert len(heard) == (1 if readable_by(team[name], role, row) else 0), (name, row[4])


async def test_without_a_session_every_escalation_route_answers_401(server: ServerProcess) -> None:
    async with Harness(server) as harness:
        api = harness.api()
        for method, path in [
            ("GET", "/api/escalations"),
            ("POST", "/api/escalations"),
            ("GET", "/api/escalations/config"),
            ("GET", "/api/escalations/audit"),
            ("GET", "/api/escalations/x"),
            ("GET", "/api/escalations/x/transcript"),
            ("POST", "/api/escalations/x/approve"),
            ("POST", "/api/escalations/x/send-back"),
            ("POST", "/api/escalations/x/resubmit"),
            ("POST", "/api/escalations/x/acknowledge"),
            ("POST", "/api/escalations/x/outcome"),
        ]:
            result = await api.request(method, path)
            assert result.status == 401, (method, path, result.body)
        socket = SocketClient(harness.url, ESCALATIONS)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await socket.connect()
        assert connect_error_code(socket.connect_errors[-1]) == "not_authenticated"
        await socket.close()
