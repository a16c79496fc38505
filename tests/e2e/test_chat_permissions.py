"""The generated chat permission matrix: every role x chat action x ownership of
server/domain/permissions.py, performed as the real /counsellor socket events and HTTP requests
against one real server. Each call must succeed exactly when ``permissions.allowed`` says so and
otherwise be refused with ``not_holder`` (holding the conversation would have allowed it) or
``forbidden``, or told ``not_found`` when the role may never read conversations (as for an unknown
id, so an id reveals nothing); a role without the chat console is refused already at the
/counsellor connect. A
permitted call has its effect and leaves its audit row; a refused one changes nothing and leaves no
audit row. tests/unit/test_chat_permissions.py holds the table itself against the chat's promises."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import socketio

from server.app import create_app
from server.config.settings import load_settings
from server.domain.permissions import CHAT_ACTIONS, SCOPES, Action, Ownership, allowed, reads_conversations
from server.domain.staff import Role
from server.transports.http.knowledge_routes import staff_paths as knowledge_staff_paths
from server.transports.sockets.base import LIFECYCLE_EVENTS
from server.transports.sockets.counsellor import CounsellorNamespace
from tests.e2e.escalation_helpers import execute, query
from tests.e2e.matrix_helpers import module_server, sign_in_accounts
from tests.e2e.test_booking_permissions import booking_staff_routes
from tests.support.clients import Api, CounsellorSocket, Harness, Staff, connect_error_code, new_client_id
from tests.support.server import ServerProcess

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ACTOR_NAMES = {role: f"matrix-{role.value.replace('_', '-')}" for role in Role}
COLLEAGUE = "matrix-colleague"
RECEIVER = "matrix-receiver"
OUTCOME = "supported"
CONSOLE_PATHS = ("/api/staff/conversations", "/api/staff/canned", "/api/staff/audit")
# The table lets a holder claim; the permission passes and the state machine answers instead.
PERMITTED_STATE_ANSWERS: dict[tuple[Action, Ownership], str] = {}


@dataclass(frozen=True)
class Situation:
    """Where a conversation is when the action is tried. ``holder`` is "actor", "colleague" or None
    (nobody claimed it)."""

    name: str
    holder: str | None
    closed: bool = False


HELD_BY_ACTOR = Situation("held by the actor", "actor")
HELD_BY_COLLEAGUE = Situation("held by a colleague", "colleague")
WAITING = Situation("waiting in the queue", None)
CLOSED_FROM_ACTOR = Situation("closed while the actor held it", "actor", closed=True)
CLOSED_FROM_COLLEAGUE = Situation("closed while a colleague held it", "colleague", closed=True)
LEFT_WAITING = Situation("left by the relative while waiting", None, closed=True)

OPEN = {Ownership.OWN: (HELD_BY_ACTOR,), Ownership.OTHER: (HELD_BY_COLLEAGUE, WAITING)}
CLOSED = {Ownership.OWN: (CLOSED_FROM_ACTOR,), Ownership.OTHER: (CLOSED_FROM_COLLEAGUE, LEFT_WAITING)}
CLAIMABLE = {Ownership.OWN: (HELD_BY_ACTOR,), Ownership.OTHER: (WAITING,)}
ACTIVE = {Ownership.OWN: (HELD_BY_ACTOR,), Ownership.OTHER: (HELD_BY_COLLEAGUE,)}
NO_CONVERSATION: dict[Ownership, tuple[Situation | None, ...]] = {Ownership.NONE: (None,)}


@dataclass(frozen=True)
class Snapshot:
    """What a chat call can change about one conversation, read from the server's database."""

    state: str
    holder_id: int | None
    colleague_id: int | None
    messages_by_actor: int
    notes_by_actor: int


class ConnectRefused(Exception):
    def __init__(self, code: str | None) -> None:
        super().__init__(code)
        self.answer = f"connect {code}"


@dataclass
class Team:
    """One signed-in account per role, a colleague who holds conversations the actor does not, and
    a receiver for transfers; ``public`` starts conversations as a relative would."""

    server: ServerProcess
    harness: Harness
    public: Api
    staff: dict[str, Staff]
    # A published resource of the shipped knowledge, for send_resource.
    resource_id: int = 0

    def actor(self, role: Role) -> Staff:
        return self.staff[ACTOR_NAMES[role]]

    async def console(self, member: Staff, fresh: bool = False) -> CounsellorSocket:
        """The member's /counsellor socket, connected on first use and kept; raises ConnectRefused."""
        if member.socket.connected and not fresh:
            return member.socket
        socket = self.harness.counsellor_socket()
        try:
            await socket.connect(headers=member.cookie_header)
        except socketio.exceptions.ConnectionError:
            code = connect_error_code(socket.connect_errors[-1] if socket.connect_errors else None)
            raise ConnectRefused(code) from None
        if not fresh:
            member.socket = socket
        return socket

    async def conversation(self, situation: Situation, actor: Staff) -> str:
        started = await self.public.start_conversation()
        conversation_id = started.conversation_id
        if situation.holder is None:
            if situation.closed:
                relative = await self.harness.relative(started.token)
                assert (await relative.call("leave", {}))["ok"]
                await relative.close()
            return conversation_id
        holder = actor if situation.holder == "actor" else self.staff[COLLEAGUE]
        may_claim = allowed(Role(holder.user["role"]), Action.CONVERSATION_CLAIM, Ownership.OTHER)
        claimer = holder if may_claim else self.staff[COLLEAGUE]
        console = await self.console(claimer)
        claimed = await console.claim(conversation_id)
        assert claimed["ok"], claimed
        if situation.closed:
            closed = await console.call("close", {"conversation_id": conversation_id, "outcome": OUTCOME})
            assert closed["ok"], closed
        if claimer is not holder:
            # A role that never holds a conversation can be made its holder only behind the API's back.
            execute(
                self.server,
                "UPDATE conversations SET counsellor_id = ? WHERE id = ?",
                holder.id,
                conversation_id,
            )
        return conversation_id

    def snapshot(self, conversation_id: str, actor: Staff) -> Snapshot:
        ((state, holder_id, colleague_id),) = query(
            self.server,
            "SELECT state, counsellor_id, colleague_id FROM conversations WHERE id = ?",
            conversation_id,
        )
        ((messages,),) = query(
            self.server,
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND author_id = ?",
            conversation_id,
            actor.id,
        )
        ((notes,),) = query(
            self.server,
            "SELECT count(*) FROM notes WHERE conversation_id = ? AND author_id = ?",
            conversation_id,
            actor.id,
        )
        return Snapshot(state, holder_id, colleague_id, messages, notes)

    def audit_mark(self) -> int:
        ((last,),) = query(self.server, "SELECT coalesce(max(id), 0) FROM audit_log")
        return int(last)

    def audit_since(self, mark: int, actor: Staff, conversation_id: str) -> list[str]:
        rows = query(
            self.server,
            "SELECT action FROM audit_log WHERE id > ? AND actor_id = ? AND object_id = ? ORDER BY id",
            mark,
            actor.id,
            conversation_id,
        )
        return [action for (action,) in rows]


Call = Callable[[Team, Staff, str | None], Awaitable[str]]
Payload = Callable[[Team, str | None], dict[str, Any]]
Expect = Callable[[Snapshot, Team, Staff], Snapshot]


def _unchanged(before: Snapshot, _team: Team, _actor: Staff) -> Snapshot:
    return before


@dataclass(frozen=True)
class Probe:
    """One real socket event or HTTP request that performs an action. ``expect`` is the state a
    permitted call leaves behind, ``audit`` the audit row it writes."""

    label: str
    call: Call
    event: str | None = None
    path: str | None = None
    audit: str | None = None
    expect: Expect = _unchanged
    # What a permitted call answers where the state machine, not the table, has the last word.
    state_answers: Mapping[Ownership, str] = field(default_factory=dict)

    def refusal(self, code: str) -> str:
        return code if self.event else f"403 {code}"

    def hidden(self) -> str:
        """The answer that tells the caller no such conversation exists."""
        return "not_found" if self.event else "404 not_found"


def socket_event(
    event: str,
    payload: Payload,
    audit: str | None = None,
    expect: Expect = _unchanged,
    state_answers: Mapping[Ownership, str] | None = None,
) -> Probe:
    async def call(team: Team, actor: Staff, conversation_id: str | None) -> str:
        try:
            console = await team.console(actor)
        except ConnectRefused as refused:
            return refused.answer
        ack = await console.call(event, payload(team, conversation_id))
        return "ok" if ack.get("ok") is True else str(ack["error"]["code"])

    return Probe(
        f"socket {event}", call, event=event, audit=audit, expect=expect, state_answers=state_answers or {}
    )


def http_get(path: str, query_string: str = "", audit: str | None = None) -> Probe:
    async def call(team: Team, actor: Staff, conversation_id: str | None) -> str:
        result = await actor.api.request("GET", path.format(conversation_id=conversation_id) + query_string)
        if result.status == 200:
            return "ok"
        error = result.body.get("error", {}) if isinstance(result.body, dict) else {}
        return f"{result.status} {error.get('code')}"

    return Probe(f"GET {path}{query_string}", call, path=path, audit=audit)


async def _open_console(team: Team, actor: Staff, _conversation_id: str | None) -> str:
    try:
        console = await team.console(actor, fresh=True)
    except ConnectRefused as refused:
        return refused.answer
    await console.log.wait_for("queue")
    await console.log.wait_for("mine")
    await console.close()
    return "ok"


def _ref(_team: Team, conversation_id: str | None) -> dict[str, Any]:
    return {"conversation_id": conversation_id}


CONNECT = Probe("socket connect", _open_console, event="connect")
DETAIL = "/api/staff/conversations/{conversation_id}"
READS = (
    socket_event("history", lambda _t, c: {"conversation_id": c, "after_seq": 0}, audit="conversation.read"),
    socket_event("notes", _ref, audit="note.read"),
    http_get(DETAIL, audit="conversation.read"),
)

# Each chat action: the situations that give each ownership, and the calls that perform it.
MAPPING: dict[Action, tuple[Mapping[Ownership, tuple[Situation | None, ...]], tuple[Probe, ...]]] = {
    Action.CHAT_CONSOLE: (
        NO_CONVERSATION,
        (
            CONNECT,
            socket_event("staff", lambda _t, _c: {}),
            http_get("/api/staff/canned", "?language=sv"),
            http_get("/api/staff/conversations", "?state=closed"),
        ),
    ),
    Action.CONVERSATION_CLAIM: (
        CLAIMABLE,
        (
            socket_event(
                "claim",
                _ref,
                audit="conversation.claim",
                expect=lambda before, _t, actor: replace(before, state="active", holder_id=actor.id),
            ),
        ),
    ),
    Action.CONVERSATION_SEND: (
        OPEN,
        (
            socket_event(
                "send_message",
                lambda _t, c: {"conversation_id": c, "client_id": new_client_id(), "text": "matrix reply"},
                expect=lambda before, _t, _a: replace(before, messages_by_actor=before.messages_by_actor + 1),
            ),
            socket_event(
                "send_resource",
                lambda team, c: {
                    "conversation_id": c,
                    "client_id": new_client_id(),
                    "resource_id": team.resource_id,
                },
                expect=lambda before, _t, _a: replace(before, messages_by_actor=before.messages_by_actor + 1),
            ),
            socket_event("typing", _ref),
            socket_event("read", lambda _t, c: {"conversation_id": c, "seq": 0}),
        ),
    ),
    Action.AUDIT_READ: (NO_CONVERSATION, (http_get("/api/staff/audit", "?object_type=conversation"),)),
    Action.CONVERSATION_READ: (OPEN, READS),
    Action.CONVERSATION_READ_CLOSED: (CLOSED, READS),
    Action.CONVERSATION_NOTE: (
        OPEN,
        (
            socket_event(
                "add_note",
                lambda _t, c: {"conversation_id": c, "text": "matrix note"},
                audit="note.add",
                expect=lambda before, _t, _a: replace(before, notes_by_actor=before.notes_by_actor + 1),
            ),
        ),
    ),
    Action.CONVERSATION_TRANSFER: (
        OPEN,
        (
            socket_event(
                "transfer",
                lambda team, c: {"conversation_id": c, "to_user_id": team.staff[RECEIVER].id},
                audit="conversation.transfer",
                expect=lambda before, team, _a: replace(before, holder_id=team.staff[RECEIVER].id),
            ),
        ),
    ),
    Action.CONVERSATION_CLOSE: (
        OPEN,
        (
            socket_event(
                "close",
                lambda _t, c: {"conversation_id": c, "outcome": OUTCOME},
                audit="conversation.close",
                expect=lambda before, _t, _a: replace(before, state="closed"),
            ),
        ),
    ),
    Action.SUPERVISION_VIEW: (NO_CONVERSATION, (socket_event("overview", lambda _t, _c: {}),)),
    Action.SUPERVISION_READ: (
        OPEN,
        (
            socket_event(
                "supervise_read",
                lambda _t, c: {"conversation_id": c, "reason": "quality"},
                audit="supervision.read",
            ),
        ),
    ),
    Action.SUPERVISION_JOIN: (
        ACTIVE,
        (
            socket_event(
                "join_conversation",
                _ref,
                audit="supervision.join",
                expect=lambda before, _t, actor: replace(before, colleague_id=actor.id),
                state_answers={Ownership.OWN: "already_holder"},
            ),
            # Leaving one not joined: the permission passes and the state machine answers.
            socket_event(
                "leave_conversation",
                _ref,
                state_answers={Ownership.OWN: "not_joined", Ownership.OTHER: "not_joined"},
            ),
        ),
    ),
    Action.SUPERVISION_REASSIGN: (
        ACTIVE,
        (
            socket_event(
                "reassign",
                lambda team, c: {"conversation_id": c, "to_user_id": team.staff[RECEIVER].id},
                audit="supervision.reassign",
                expect=lambda before, team, _a: replace(before, holder_id=team.staff[RECEIVER].id),
            ),
        ),
    ),
}


def expected_answer(probe: Probe, role: Role, action: Action, ownership: Ownership) -> str:
    if probe.event and not allowed(role, Action.CHAT_CONSOLE, Ownership.NONE):
        return "connect forbidden"
    if allowed(role, action, ownership):
        return probe.state_answers.get(ownership, PERMITTED_STATE_ANSWERS.get((action, ownership), "ok"))
    if ownership is not Ownership.NONE and not reads_conversations(role):
        return probe.hidden()
    holding_would_allow = ownership is Ownership.OTHER and allowed(role, action, Ownership.OWN)
    return probe.refusal("not_holder" if holding_would_allow else "forbidden")


CASES = [
    pytest.param(role, action, ownership, id=f"{role.value}-{action.value}-{ownership.value}")
    for action in sorted(CHAT_ACTIONS)
    for ownership in sorted(SCOPES[action])
    for role in Role
]


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    """One server for the whole matrix; every account may hold as many conversations as it claims."""
    with module_server(
        tmp_path_factory.mktemp("chat-permissions"),
        artifacts_dir,
        {"KINLINE_CHAT__COUNSELLOR_CAPACITY": "1000"},
    ) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def team(chat_server: ServerProcess) -> AsyncIterator[Team]:
    accounts = [(name, role) for role, name in ACTOR_NAMES.items()]
    accounts += [(COLLEAGUE, Role.COUNSELLOR), (RECEIVER, Role.COUNSELLOR)]
    async with Harness(chat_server) as harness:
        staff = await sign_in_accounts(chat_server, harness, accounts)
        public = harness.api()
        resources = await public.request("GET", "/api/resources?language=sv")
        yield Team(chat_server, harness, public, staff, int(resources.body["resources"][0]["id"]))


@MODULE_LOOP
@pytest.mark.parametrize(("role", "action", "ownership"), CASES)
async def test_the_server_allows_exactly_what_the_table_allows(
    team: Team, role: Role, action: Action, ownership: Ownership
) -> None:
    actor = team.actor(role)
    situations, probes = MAPPING[action]
    wrong: list[str] = []
    for situation in situations[ownership]:
        for probe in probes:
            conversation_id = await team.conversation(situation, actor) if situation else None
            case = probe.label + (f" on a conversation {situation.name}" if situation else "")
            before = team.snapshot(conversation_id, actor) if conversation_id else None
            mark = team.audit_mark()
            answer = await probe.call(team, actor, conversation_id)
            expected = expected_answer(probe, role, action, ownership)
            if answer != expected:
                wrong.append(f"{case}: answered {answer!r}, expected {expected!r}")
            if conversation_id is None or before is None:
                continue
            after = team.snapshot(conversation_id, actor)
            done = answer == "ok"
            intended = probe.expect(before, team, actor) if done else before
            if after != intended:
                wrong.append(f"{case}: left {after}, expected {intended}")
            audited = team.audit_since(mark, actor, conversation_id)
            if audited != ([probe.audit] if done and probe.audit else []):
                wrong.append(f"{case}: answered {answer!r} and wrote the audit rows {audited}")
    assert not wrong, "\n".join(wrong)


@MODULE_LOOP
async def test_an_unknown_id_and_a_refused_one_differ_only_for_those_who_could_read_it(team: Team) -> None:
    """A role that may never read conversations gets the same 404 for a real id as for a made-up
    one; a counsellor who could read it if they held it still hears not_holder."""
    existing = await team.conversation(HELD_BY_COLLEAGUE, team.staff[COLLEAGUE])
    unknown = "00000000-0000-4000-8000-000000000000"
    answers: dict[Role, tuple[str, str]] = {}
    for role in Role:
        probe = http_get(DETAIL)
        answers[role] = (
            await probe.call(team, team.actor(role), existing),
            await probe.call(team, team.actor(role), unknown),
        )
    assert answers[Role.SOCIAL_SERVICES] == ("404 not_found", "404 not_found")
    assert answers[Role.COUNSELLOR] == ("403 not_holder", "404 not_found")
    for role in Role:
        if not reads_conversations(role):
            assert answers[role][0] == answers[role][1], role


def test_every_chat_action_is_mapped_to_calls_for_each_of_its_ownerships() -> None:
    assert set(MAPPING) == set(CHAT_ACTIONS)
    for action, (situations, probes) in MAPPING.items():
        assert set(situations) == set(SCOPES[action]), action
        assert all(situations.values()) and probes, action


def test_every_counsellor_event_is_performed_by_some_action() -> None:
    handled = {
        name.removeprefix("on_")
        for name in dir(CounsellorNamespace)
        if name.startswith("on_") and name.removeprefix("on_") not in LIFECYCLE_EVENTS
    }
    probed = {probe.event for _situations, probes in MAPPING.values() for probe in probes if probe.event}
    assert handled | {"connect"} == probed


def test_every_chat_route_is_performed_by_some_action() -> None:
    app = create_app(load_settings())
    served = {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource and route.resource.canonical.startswith(CONSOLE_PATHS) and route.method != "HEAD"
    }
    probed = {probe.path for _situations, probes in MAPPING.values() for probe in probes if probe.path}
    # Offering times happens in a chat, but it is booking's action: its matrix walks it.
    booking = {path for _method, path in booking_staff_routes() if path.startswith(CONSOLE_PATHS)}
    # /api/staff/canned-answers... is the knowledge bank's: test_knowledge_permissions walks it.
    knowledge = {path for _method, path in knowledge_staff_paths()}
    assert served - knowledge == probed | booking


def test_each_ownership_is_a_different_situation() -> None:
    """Own and other differ by who holds the conversation; only read_closed runs on closed ones."""
    for action, (situations, _probes) in MAPPING.items():
        if situations is NO_CONVERSATION:
            continue
        own, other = situations[Ownership.OWN], situations[Ownership.OTHER]
        assert all(s is not None and s.holder == "actor" for s in own), action
        assert all(s is not None and s.holder != "actor" for s in other), action
        closed = action is Action.CONVERSATION_READ_CLOSED
        assert all(s is not None and s.closed is closed for s in (*own, *other)), action
