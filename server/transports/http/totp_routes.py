"""HTTP routes of two-factor sign-in: a staff member's own enrollment (an admin's reset and new
recovery codes are in account_routes.py)."""

from __future__ import annotations

import segno
from aiohttp import web
from pydantic import BaseModel, Field

from server import app_keys
from server.transports.http.middlewares import parse_body
from server.transports.http.staff_auth import require_staff


class ConfirmTotp(BaseModel):
    code: str = Field(min_length=6, max_length=16)


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI, drawn here so the page needs no script and no outside URL."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=2))


async def totp_status(request: web.Request) -> web.Response:
    user = await require_staff(request, for_enrollment=True)
    status = await request.app[app_keys.AUTH].totp_status(user)
    return web.json_response(
        {
            "enabled": status.enabled,
            "required": status.required,
            "recovery_codes_left": status.recovery_codes_left,
        }
    )


async def start_totp_enrollment(request: web.Request) -> web.Response:
    user = await require_staff(request, for_enrollment=True)
    enrollment = await request.app[app_keys.AUTH].start_totp_enrollment(user)
    return web.json_response(
        {
            "secret": enrollment.secret,
            "otpauth_uri": enrollment.otpauth_uri,
            "qr_svg": qr_code_data_uri(enrollment.otpauth_uri),
        }
    )


async def confirm_totp_enrollment(request: web.Request) -> web.Response:
    user = await require_staff(request, for_enrollment=True)
    body = await parse_body(request, ConfirmTotp)
    recovery_codes = await request.app[app_keys.AUTH].confirm_totp_enrollment(user, body.code)
    return web.json_response({"enabled": True, "recovery_codes": recovery_codes})


def add_totp_routes(app: web.Application) -> None:
    app.router.add_get("/api/auth/totp", totp_status)
    app.router.add_post("/api/auth/totp/enroll", start_totp_enrollment)
    app.router.add_post("/api/auth/totp/confirm", confirm_totp_enrollment)
