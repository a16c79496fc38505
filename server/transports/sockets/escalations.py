"""Socket.IO namespace /escalations: live "something changed" signals for the escalation views of
the console (counsellors, supervisors and social services users alike).

Pushes carry ids only; the console then fetches what it may see over HTTP, where every read is
audited. Who hears about an escalation follows the same permission rules as reading it.
"""

from __future__ import annotations

from typing import Any

import socketio

from server.domain import permissions
from server.domain.errors import DomainError
from server.domain.escalation import Escalation
from server.domain.permissions import Action, Ownership
from server.domain.staff import Role, StaffUser
from server.services.auth import AuthService
from server.services.escalation import EscalationService
from server.services.events import EscalationAlert, EscalationChanged, Event
from server.transports.sockets.base import refuse
from server.transports.sockets.rooms import user_room
from server.transports.sockets.session_watch import SessionWatch
from server.transports.sockets.staff_session import StaffNamespace

NAMESPACE = "/escalations"


def role_room(role: Role) -> str:
    return f"escalations:role:{role.value}"


def route_room(role: Role, route: str) -> str:
    return f"escalations:route:{role.value}:{route}"


def _reads(role: Role, ownership: Ownership, escalation: Escalation) -> bool:
    return permissions.allowed(role, Action.ESCALATION_READ, ownership, escalation.facts())


def audience(escalation: Escalation) -> list[str]:
    """Rooms of everyone who may read this escalation: its drafter, roles that read any escalation,
    and the users of each route it was delivered to."""
    rooms = [user_room(escalation.drafter_id)]
    for role in Role:
        if _reads(role, Ownership.OTHER, escalation):
            rooms.append(role_room(role))
        elif _reads(role, Ownership.ROUTE, escalation):
            rooms.extend(route_room(role, route) for route in sorted(escalation.routes))
    return rooms


def overseers(escalation: Escalation) -> list[str]:
    """Alerts go to the roles that read every escalation (supervisors)."""
    return [role_room(role) for role in Role if _reads(role, Ownership.OTHER, escalation)]


class EscalationNamespace(StaffNamespace):
    def __init__(
        self, escalations: EscalationService, auth: AuthService, cookie_name: str, watch: SessionWatch
    ) -> None:
        super().__init__(NAMESPACE, auth, cookie_name, watch)
        self.escalations = escalations

    def _permit(self, user: StaffUser) -> None:
        try:
            self.escalations.require_subscribe(user)
        except DomainError as error:
            raise refuse(error.code, error.message) from None

    async def on_connect(self, sid: str, environ: dict[str, Any], _auth: Any = None) -> None:
        user: StaffUser = (await self.admit(sid, environ, self._permit)).user
        rooms = [user_room(user.id), role_room(user.role)]
        if user.route:
            rooms.append(route_room(user.role, user.route))
        for room in rooms:
            await self.enter_room(sid, room)
        await self.emit("ready", {}, to=sid)


class EscalationPush:
    """Subscribes to the event bus; pushes over socket.io (across processes with the Redis manager)."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def on_event(self, event: Event) -> None:
        if isinstance(event, EscalationChanged):
            await self.sio.emit(
                "changed",
                {"escalation_id": event.escalation.id},
                room=audience(event.escalation),
                namespace=NAMESPACE,
            )
        elif isinstance(event, EscalationAlert):
            await self.sio.emit(
                "alert",
                {"escalation_id": event.escalation.id, "reason": event.reason},
                room=overseers(event.escalation),
                namespace=NAMESPACE,
            )
