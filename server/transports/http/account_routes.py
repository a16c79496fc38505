"""HTTP routes of staff accounts (docs/protocol.md, "Staff accounts"): the admins' list and changes
under /api/staff/accounts, the setup link's page calls, and each member's own password and
recovery codes."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from server import app_keys
from server.domain.staff import Role
from server.services.accounts import KEEP, AccountService, IssuedSetupLink
from server.transports import wire
from server.transports.http.middlewares import parse_body, rate_limit_key
from server.transports.http.staff_auth import check_same_origin, require_session, require_staff

USERNAME = "{username}"


class NewAccount(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role
    display_name: str | None = Field(default=None, max_length=128)
    route: str | None = Field(default=None, max_length=64)


class AccountChange(BaseModel):
    """Any of the three; ``route`` left out keeps a social_services account's route."""

    role: Role | None = None
    route: str | None = Field(default=None, max_length=64)
    active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> AccountChange:
        if not self.model_fields_set:
            raise ValueError("give role, route or active")
        return self


class SetupToken(BaseModel):
    token: str = Field(min_length=1, max_length=128)


class SetupPassword(SetupToken):
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TotpCode(BaseModel):
    code: str = Field(min_length=6, max_length=16)


def _accounts(request: web.Request) -> AccountService:
    return request.app[app_keys.ACCOUNTS]


def _setup(request: web.Request, link: IssuedSetupLink) -> dict[str, str | None]:
    """The link for the admin to hand over, shown this once."""
    return {
        "url": wire.setup_url(request.app[app_keys.SETTINGS].public_url, link.token),
        "expires_at": wire.iso(link.expires_at),
    }


async def list_accounts(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    accounts = await _accounts(request).list_accounts(actor)
    return web.json_response({"accounts": [wire.account(a) for a in accounts]})


async def add_account(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    body = await parse_body(request, NewAccount)
    user, link = await _accounts(request).add_account(
        actor, body.username, body.role, body.display_name, body.route or None
    )
    return web.json_response({"user": wire.staff_member(user), "setup": _setup(request, link)}, status=201)


async def change_account(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    body = await parse_body(request, AccountChange)
    user = await _accounts(request).change_account(
        actor,
        request.match_info["username"],
        role=body.role,
        route=(body.route or None) if "route" in body.model_fields_set else KEEP,
        active=body.active,
    )
    return web.json_response({"user": wire.staff_member(user)})


async def reset_password(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    user, link = await _accounts(request).reset_password(actor, request.match_info["username"])
    return web.json_response({"user": wire.staff_member(user), "setup": _setup(request, link)})


async def reset_totp(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    target = await _accounts(request).reset_totp(actor, request.match_info["username"])
    return web.json_response({"user": wire.user(target)})


async def inspect_setup_link(request: web.Request) -> web.Response:
    """Unauthenticated: whose account a setup link is for, for the setup page to greet them."""
    check_same_origin(request)
    await request.app[app_keys.LOGIN_LIMITER].check(rate_limit_key(request))
    body = await parse_body(request, SetupToken)
    target = await _accounts(request).setup_target(body.token)
    return web.json_response(
        {
            "username": target.username,
            "display_name": target.display_name,
            "expires_at": wire.iso(target.expires_at),
        }
    )


async def complete_setup(request: web.Request) -> web.Response:
    """Unauthenticated: chooses the password with a setup link; the member then signs in."""
    check_same_origin(request)
    await request.app[app_keys.LOGIN_LIMITER].check(rate_limit_key(request))
    body = await parse_body(request, SetupPassword)
    user = await _accounts(request).complete_setup(body.token, body.password)
    return web.json_response({"user": wire.user(user)})


async def change_own_password(request: web.Request) -> web.Response:
    session = await require_session(request)
    body = await parse_body(request, PasswordChange)
    await request.app[app_keys.AUTH].change_password(session, body.current_password, body.new_password)
    return web.Response(status=204)


async def new_recovery_codes(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, TotpCode)
    codes = await request.app[app_keys.AUTH].new_recovery_codes(user, body.code)
    return web.json_response({"recovery_codes": codes})


def add_account_routes(app: web.Application) -> None:
    app.router.add_get("/api/staff/accounts", list_accounts)
    app.router.add_post("/api/staff/accounts", add_account)
    app.router.add_patch(f"/api/staff/accounts/{USERNAME}", change_account)
    app.router.add_post(f"/api/staff/accounts/{USERNAME}/password-reset", reset_password)
    app.router.add_delete(f"/api/staff/accounts/{USERNAME}/totp", reset_totp)
    app.router.add_post("/api/auth/setup/inspect", inspect_setup_link)
    app.router.add_post("/api/auth/setup", complete_setup)
    app.router.add_post("/api/auth/password", change_own_password)
    app.router.add_post("/api/auth/totp/recovery-codes", new_recovery_codes)
