"""What the retention sweeps removed, over HTTP (docs/protocol.md, `GET /api/staff/retention`):
counts only, for administrators."""

from __future__ import annotations

from aiohttp import web

from server import app_keys
from server.transports import wire
from server.transports.http.staff_auth import require_staff


async def retention_report(request: web.Request) -> web.Response:
    user = await require_staff(request)
    report = await request.app[app_keys.RETENTION].report(user)
    return web.json_response(wire.retention_report(report))


def add_retention_routes(app: web.Application) -> None:
    app.router.add_get("/api/staff/retention", retention_report)
