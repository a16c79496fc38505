"""The staff member behind a socket handshake, from the same session cookie the pages use, and the
base of the staff namespaces."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from server.domain.errors import DomainError, NotAuthenticated
from server.domain.staff import StaffUser
from server.services.auth import (
    ENROLLMENT_REQUIRED,
    ENROLLMENT_REQUIRED_MESSAGE,
    AuthService,
    StaffSession,
)
from server.transports.errors import failed_ack
from server.transports.sockets.base import LIFECYCLE_EVENTS, GuardedNamespace, refuse
from server.transports.sockets.session_watch import SessionWatch


def session_ended() -> dict[str, Any]:
    return failed_ack("not_authenticated", "the session has ended; sign in again")


def session_cookie(environ: dict[str, Any], cookie_name: str) -> str | None:
    jar = SimpleCookie()
    jar.load(environ.get("HTTP_COOKIE", ""))
    morsel = jar.get(cookie_name)
    return morsel.value if morsel else None


async def staff_session(environ: dict[str, Any], cookie_name: str, auth: AuthService) -> StaffSession:
    """The live session of the handshake, or a refusal with code not_authenticated, or
    totp_enrollment_required while the session may only be used to enroll."""
    token = session_cookie(environ, cookie_name)
    if not token:
        raise refuse("not_authenticated", "sign in first")
    try:
        session = await auth.session(token)
    except DomainError as error:
        raise refuse("not_authenticated", error.message) from None
    if session.enrollment_required:
        raise refuse(ENROLLMENT_REQUIRED, ENROLLMENT_REQUIRED_MESSAGE)
    return session


class StaffNamespace(GuardedNamespace):
    """A namespace for signed-in staff. Its sockets are registered with the session watch, which
    closes them when their session ends; from then on every event is answered not_authenticated."""

    def __init__(self, namespace: str, auth: AuthService, cookie_name: str, watch: SessionWatch) -> None:
        super().__init__(namespace)
        self.auth = auth
        self.cookie_name = cookie_name
        self.watch = watch

    async def admit(
        self, sid: str, environ: dict[str, Any], permit: Callable[[StaffUser], None]
    ) -> StaffSession:
        """The handshake's live session, once ``permit`` (raising a refusal) let its user in."""
        session = await staff_session(environ, self.cookie_name, self.auth)
        permit(session.user)
        if not self.watch.register(self.namespace, sid, session):
            raise refuse("not_authenticated", "the session has ended")
        return session

    async def on_disconnect(self, sid: str, _reason: Any = None) -> None:
        self.watch.unregister(self.namespace, sid)

    async def _user(self, sid: str) -> StaffUser:
        user = self.watch.user(self.namespace, sid)
        if user is None:
            raise NotAuthenticated("the session has ended")
        return user

    async def trigger_event(self, event_name: str, *args: Any) -> Any:
        sid = args[0]
        if event_name == "connect":
            try:
                connected = await super().trigger_event(event_name, *args)
                if connected is not False and self.watch.user(self.namespace, sid) is None:
                    raise refuse("not_authenticated", "the session ended during the handshake")
            except BaseException:
                self.watch.unregister(self.namespace, sid)  # refused after ``admit`` registered it
                raise
            if connected is False:
                self.watch.unregister(self.namespace, sid)
            return connected
        if event_name in LIFECYCLE_EVENTS:
            return await super().trigger_event(event_name, *args)
        if self.watch.user(self.namespace, sid) is None:
            return session_ended()
        self.watch.used(self.namespace, sid)
        answer = await super().trigger_event(event_name, *args)
        # An answer computed while the session ended is not given either.
        return answer if self.watch.user(self.namespace, sid) is not None else session_ended()
