"""Reading the staff session from a request, and the cookie that carries it."""

from __future__ import annotations

from aiohttp import web

from server import app_keys
from server.domain.errors import Forbidden, NotAuthenticated
from server.domain.staff import StaffUser
from server.services.auth import ENROLLMENT_REQUIRED, ENROLLMENT_REQUIRED_MESSAGE, StaffSession
from server.transports.client_address import client_scheme

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_name(secure: bool) -> str:
    return "__Host-kinline_session" if secure else "kinline_session"


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    secure = request.app[app_keys.SETTINGS].security.secure_cookies
    response.set_cookie(cookie_name(secure), token, path="/", httponly=True, samesite="Strict", secure=secure)


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    secure = request.app[app_keys.SETTINGS].security.secure_cookies
    response.del_cookie(cookie_name(secure), path="/", secure=secure, httponly=True, samesite="Strict")


def session_token(request: web.Request) -> str | None:
    secure = request.app[app_keys.SETTINGS].security.secure_cookies
    return request.cookies.get(cookie_name(secure))


def request_scheme(request: web.Request) -> str:
    return client_scheme(
        request.remote,
        request.headers.get("X-Forwarded-Proto"),
        request.scheme,
        request.app[app_keys.TRUSTED_PROXIES],
    )


def check_same_origin(request: web.Request) -> None:
    """State-changing staff requests from a browser must come from our own pages."""
    origin = request.headers.get("Origin")
    if request.method in SAFE_METHODS or origin is None:
        return
    allowed = {
        f"{request_scheme(request)}://{request.host}",
        request.app[app_keys.SETTINGS].public_url.rstrip("/"),
        *request.app[app_keys.SETTINGS].security.allowed_origins,
    }
    if origin not in allowed:
        raise Forbidden("cross-origin request refused", code="forbidden_origin")


async def require_session(request: web.Request, *, for_enrollment: bool = False) -> StaffSession:
    """The signed-in staff member's session. While TOTP is required and they have not enrolled,
    only the routes that take part in enrolling (``for_enrollment``) answer; every other one is
    refused."""
    token = session_token(request)
    if not token:
        raise NotAuthenticated("sign in first")
    check_same_origin(request)
    session = await request.app[app_keys.AUTH].session(token)
    if session.enrollment_required and not for_enrollment:
        raise Forbidden(ENROLLMENT_REQUIRED_MESSAGE, code=ENROLLMENT_REQUIRED)
    return session


async def require_staff(request: web.Request, *, for_enrollment: bool = False) -> StaffUser:
    """The signed-in staff member (``require_session``)."""
    return (await require_session(request, for_enrollment=for_enrollment)).user
