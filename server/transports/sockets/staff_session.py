"""The staff member behind a socket handshake, from the same session cookie the pages use."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from server.domain.errors import DomainError
from server.services.auth import (
    ENROLLMENT_REQUIRED,
    ENROLLMENT_REQUIRED_MESSAGE,
    AuthService,
    StaffSession,
)
from server.transports.sockets.base import refuse


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
