"""The generated booking permission matrix: every role x booking action x ownership of
server/domain/permissions.py, performed as the real HTTP requests (and the ``appointments`` push on
/counsellor) against one real server. Each call must succeed exactly when ``permissions.allowed``
says so and otherwise be refused with ``not_assigned`` (an appointment booked with someone else),
``not_holder`` (a conversation the actor does not hold) or ``forbidden``. A permitted call has its
effect and leaves its audit row; a refused one changes nothing and leaves no audit row.
tests/unit/test_booking_permissions.py holds the table itself against booking's promises."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import socketio
from aiohttp import web

from server.domain.permissions import BOOKING_ACTIONS, SCOPES, Action, Ownership, allowed
from server.domain.staff import Role
from server.transports.http.booking_routes import add_booking_routes
from tests.e2e.escalation_helpers import execute, query
from tests.e2e.matrix_helpers import module_server, sign_in_accounts
from tests.support.booking import BookingClient
from tests.support.clients import CounsellorSocket, Harness, Staff, connect_error_code
from tests.support.server import ServerProcess

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ACTOR_NAMES = {role: f"booking-{role.value.replace('_', '-')}" for role in Role}
COLLEAGUE = "booking-colleague"
ENV = {
    "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__BOOKINGS_PER_MINUTE": "0",
    "KINLINE_CHAT__COUNSELLOR_CAPACITY": "1000",
}
STAFF_PREFIXES = ("/api/staff/", "/api/me/")
# The refusal when owning the object would have allowed the action.
NOT_YOURS = {Action.SLOTS_OFFER: "not_holder"}
NOT_YOURS_DEFAULT = "not_assigned"
# The table lets the booked counsellor record an outcome; the appointment has not started, so the
# state machine answers instead.
PERMITTED_STATE_ANSWERS = {Action.APPOINTMENT_OUTCOME: "409 appointment_future"}


@dataclass
class Team:
    """One signed-in account per role and a colleague who takes the bookings; an appointment is
    the actor's own when it is booked with them, a conversation when they hold it."""

    server: ServerProcess
    harness: Harness
    booking: BookingClient
    staff: dict[str, Staff]
    free_starts: list[str]

    def actor(self, role: Role) -> Staff:
        return self.staff[ACTOR_NAMES[role]]

    async def console(self, member: Staff) -> CounsellorSocket | str:
        """A fresh /counsellor socket for the member, or the answer of a refused connect."""
        socket = self.harness.counsellor_socket()
        try:
            await socket.connect(headers=member.cookie_header)
        except socketio.exceptions.ConnectionError:
            return (
                f"connect {connect_error_code(socket.connect_errors[-1] if socket.connect_errors else None)}"
            )
        return socket

    async def book(self) -> str:
        booked = await self.booking.book(self.free_starts.pop(0))
        return str(booked["appointment_id"])

    async def appointment(self, actor: Staff, ownership: Ownership) -> str:
        appointment_id = await self.book()
        if ownership is Ownership.OWN:
            # Booking picks the counsellor; only the database makes an appointment someone's at will.
            execute(
                self.server,
                "UPDATE appointments SET counsellor_id = ? WHERE id = ?",
                actor.id,
                appointment_id,
            )
        return appointment_id

    async def conversation(self, actor: Staff, ownership: Ownership) -> str:
        started = await self.harness.start_conversation("sv")
        if ownership is Ownership.OWN:
            console = await self.console(self.staff[COLLEAGUE])
            assert not isinstance(console, str), console
            claimed = await console.claim(started.conversation_id)
            await console.close()
            assert claimed["ok"], claimed
            execute(
                self.server,
                "UPDATE conversations SET counsellor_id = ? WHERE id = ?",
                actor.id,
                started.conversation_id,
            )
        return started.conversation_id

    def state(self, appointment_id: str) -> str:
        ((state,),) = query(self.server, "SELECT state FROM appointments WHERE id = ?", appointment_id)
        return str(state)

    def audit_mark(self) -> int:
        ((last,),) = query(self.server, "SELECT coalesce(max(id), 0) FROM audit_log")
        return int(last)

    def audit_since(self, mark: int, actor: Staff) -> list[tuple[str, str]]:
        rows = query(
            self.server,
            "SELECT action, object_id FROM audit_log WHERE id > ? AND actor_id = ? ORDER BY id",
            mark,
            actor.id,
        )
        return [(action, object_id) for action, object_id in rows]


Call = Callable[[Team, Staff, str | None], Awaitable[str]]


@dataclass(frozen=True)
class Probe:
    """One real request (or the push) that performs an action. ``audit`` is the row a permitted
    call writes about its object (``"*"``: about everything), ``state`` the appointment's state after it."""

    label: str
    call: Call
    method: str | None = None
    path: str | None = None
    audit: tuple[str, str] | None = None
    state: str | None = None


def http(method: str, path: str, body: Callable[[Team], Any] | None = None, **expect: Any) -> Probe:
    async def call(team: Team, actor: Staff, object_id: str | None) -> str:
        target = path.format(appointment_id=object_id, conversation_id=object_id)
        result = await actor.api.request(method, target, json=body(team) if body else None)
        if result.status == 200:
            return "ok"
        error = result.body.get("error", {}) if isinstance(result.body, dict) else {}
        return f"{result.status} {error.get('code')}"

    return Probe(f"{method} {path}", call, method=method, path=path, **expect)


async def _appointments_push(team: Team, actor: Staff, _object_id: str | None) -> str:
    """The change a colleague's booking makes reaches the actor's console."""
    console = await team.console(actor)
    if isinstance(console, str):
        return console
    try:
        mark = console.log.mark()
        appointment_id = await team.book()
        await console.log.wait_for(
            "appointments",
            lambda data: appointment_id in {a["appointment_id"] for a in data["appointments"]},
            since=mark,
        )
        return "ok"
    finally:
        await console.close()


def _offer(team: Team) -> dict[str, Any]:
    return {"kind": "phone", "starts": [team.free_starts[-1]]}


APPOINTMENT = "/api/staff/appointments/{appointment_id}"
NO_OBJECT: Mapping[Ownership, str] = {Ownership.NONE: "none"}
APPOINTMENTS: Mapping[Ownership, str] = {Ownership.OWN: "appointment", Ownership.OTHER: "appointment"}
CONVERSATIONS: Mapping[Ownership, str] = {Ownership.OWN: "conversation", Ownership.OTHER: "conversation"}


def _empty_week(_team: Team) -> dict[str, Any]:
    return {"languages": ["sv"], "weekly": [], "exceptions": []}


def _attended(_team: Team) -> dict[str, Any]:
    return {"outcome": "attended"}


MAPPING: dict[Action, tuple[Mapping[Ownership, str], tuple[Probe, ...]]] = {
    Action.AVAILABILITY_READ: (NO_OBJECT, (http("GET", "/api/me/availability"),)),
    Action.AVAILABILITY_EDIT: (NO_OBJECT, (http("PUT", "/api/me/availability", _empty_week),)),
    Action.APPOINTMENT_LIST: (
        NO_OBJECT,
        (
            http("GET", "/api/staff/appointments"),
            Probe("socket appointments push", _appointments_push),
        ),
    ),
    Action.APPOINTMENT_CANCEL: (
        APPOINTMENTS,
        (
            http(
                "POST",
                f"{APPOINTMENT}/cancel",
                audit=("appointment.cancel", "{appointment_id}"),
                state="cancelled",
            ),
        ),
    ),
    Action.APPOINTMENT_OUTCOME: (
        APPOINTMENTS,
        (http("POST", f"{APPOINTMENT}/outcome", _attended),),
    ),
    Action.APPOINTMENT_PHONE: (
        APPOINTMENTS,
        (http("GET", f"{APPOINTMENT}/phone", audit=("appointment.phone_read", "{appointment_id}")),),
    ),
    Action.SLOTS_OFFER_LIST: (NO_OBJECT, (http("GET", "/api/staff/booking/conversations"),)),
    Action.SLOTS_OFFER: (
        CONVERSATIONS,
        (http("POST", "/api/staff/conversations/{conversation_id}/slot-offer", _offer),),
    ),
    Action.SMS_OUTBOX_READ: (
        NO_OBJECT,
        (http("GET", "/api/staff/sms-outbox", audit=("sms_outbox.read", "all")),),
    ),
}


def expected_answer(role: Role, action: Action, ownership: Ownership) -> str:
    if allowed(role, action, ownership):
        return PERMITTED_STATE_ANSWERS.get(action, "ok")
    if ownership is Ownership.OTHER and allowed(role, action, Ownership.OWN):
        return f"403 {NOT_YOURS.get(action, NOT_YOURS_DEFAULT)}"
    return "403 forbidden"


def expected_push_answer(role: Role) -> str:
    return "ok" if allowed(role, Action.APPOINTMENT_LIST, Ownership.NONE) else "connect forbidden"


CASES = [
    pytest.param(role, action, ownership, id=f"{role.value}-{action.value}-{ownership.value}")
    for action in sorted(BOOKING_ACTIONS)
    for ownership in sorted(SCOPES[action])
    for role in Role
]


@pytest.fixture(scope="module")
def booking_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory.mktemp("booking-permissions"), artifacts_dir, ENV) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def team(booking_server: ServerProcess) -> AsyncIterator[Team]:
    accounts = [(name, role) for role, name in ACTOR_NAMES.items()]
    accounts.append((COLLEAGUE, Role.COUNSELLOR))
    async with Harness(booking_server) as harness:
        staff = await sign_in_accounts(booking_server, harness, accounts)
        booking = BookingClient(staff[COLLEAGUE].api, harness.api())
        await booking.open_all_week(("sv",))
        starts = [slot["start"] for slot in await booking.slots(hours=24 * 5)]
        earliest = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
        yield Team(booking_server, harness, booking, staff, [s for s in starts if s >= earliest])


@MODULE_LOOP
@pytest.mark.parametrize(("role", "action", "ownership"), CASES)
async def test_the_server_allows_exactly_what_the_table_allows(
    team: Team, role: Role, action: Action, ownership: Ownership
) -> None:
    actor = team.actor(role)
    objects, probes = MAPPING[action]
    wrong: list[str] = []
    for probe in probes:
        kind = objects[ownership]
        object_id = None
        if kind == "appointment":
            object_id = await team.appointment(actor, ownership)
        elif kind == "conversation":
            object_id = await team.conversation(actor, ownership)
        before = team.state(object_id) if kind == "appointment" and object_id else None
        mark = team.audit_mark()
        answer = await probe.call(team, actor, object_id)
        expected = (
            expected_push_answer(role) if probe.path is None else expected_answer(role, action, ownership)
        )
        case = f"{probe.label} ({kind} {ownership.value})"
        if answer != expected:
            wrong.append(f"{case}: answered {answer!r}, expected {expected!r}")
        done = answer == "ok"
        if kind == "appointment" and object_id:
            intended = probe.state if done and probe.state else before
            if team.state(object_id) != intended:
                wrong.append(f"{case}: left the appointment {team.state(object_id)}, expected {intended}")
        audited = team.audit_since(mark, actor)
        intended_rows = (
            [(probe.audit[0], probe.audit[1].format(appointment_id=object_id))]
            if done and probe.audit
            else []
        )
        if audited != intended_rows:
            wrong.append(f"{case}: answered {answer!r} and wrote the audit rows {audited}")
    assert not wrong, "\n".join(wrong)


def test_every_booking_action_is_mapped_to_calls_for_each_of_its_ownerships() -> None:
    assert set(MAPPING) == set(BOOKING_ACTIONS)
    for action, (objects, probes) in MAPPING.items():
        assert set(objects) == set(SCOPES[action]), action
        assert probes, action


def booking_staff_routes() -> set[tuple[str, str]]:
    """Every staff route booking serves (the public ones take no role)."""
    app = web.Application()
    add_booking_routes(app)
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource and route.resource.canonical.startswith(STAFF_PREFIXES) and route.method != "HEAD"
    }


def test_every_booking_staff_route_is_performed_by_some_action() -> None:
    probed = {
        (probe.method, probe.path)
        for _objects, probes in MAPPING.values()
        for probe in probes
        if probe.method and probe.path
    }
    assert booking_staff_routes() == probed
