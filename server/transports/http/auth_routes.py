"""HTTP routes of staff sign-in: log in, log out, and who is signed in."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from server import app_keys
from server.transports import wire
from server.transports.http.middlewares import parse_body, rate_limit_key
from server.transports.http.staff_auth import (
    check_same_origin,
    clear_session_cookie,
    require_staff,
    session_token,
    set_session_cookie,
)


class Login(BaseModel):
    """``totp`` or ``recovery_code`` is needed once the account has two-factor sign-in; an
    empty one counts as absent, so the form can always send its code field."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=64)


async def login(request: web.Request) -> web.Response:
    check_same_origin(request)
    await request.app[app_keys.LOGIN_LIMITER].check(rate_limit_key(request))
    body = await parse_body(request, Login)
    user, token = await request.app[app_keys.AUTH].login(
        body.username, body.password, totp=body.totp, recovery_code=body.recovery_code
    )
    response = web.json_response({"user": wire.user(user)})
    set_session_cookie(response, request, token)
    return response


async def logout(request: web.Request) -> web.Response:
    check_same_origin(request)
    token = session_token(request)
    if token:
        await request.app[app_keys.AUTH].logout(token)
    response = web.Response(status=204)
    clear_session_cookie(response, request)
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response({"user": wire.user(await require_staff(request, for_enrollment=True))})


def add_auth_routes(app: web.Application) -> None:
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/me", me)
