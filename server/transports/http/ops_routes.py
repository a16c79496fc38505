"""The operator's routes: GET /metrics (Prometheus text format, behind a bearer token) and
GET /readyz (the database and, when configured, Redis answer). /healthz (liveness) stays in
chat_routes.py."""

from __future__ import annotations

import hmac

from aiohttp import web

from server import app_keys
from server.transports.http.middlewares import json_error

BEARER = "Bearer "


async def metrics(request: web.Request) -> web.Response:
    """404 when no metrics token is configured; 401 without the right ``Authorization: Bearer``."""
    token = request.app[app_keys.SETTINGS].observability.metrics_token
    if not token:
        return json_error(404, "not_found", "Not Found")
    given = request.headers.get("Authorization", "")
    presented = given[len(BEARER) :] if given.startswith(BEARER) else ""
    if not hmac.compare_digest(presented.encode(), token.encode()):
        return json_error(
            401, "not_authenticated", "a bearer token is required", {"WWW-Authenticate": "Bearer"}
        )
    snapshot = await request.app[app_keys.OPERATIONS].snapshot()
    body = request.app[app_keys.METRICS].render(snapshot)
    response = web.Response(body=body)
    response.headers["Content-Type"] = request.app[app_keys.METRICS].content_type
    return response


async def readyz(request: web.Request) -> web.Response:
    """200 ``{"status": "ready"}``, or 503 ``{"status": "unavailable", "down": [...]}`` naming the
    backends that do not answer ("database", "redis"), nothing more."""
    down = await request.app[app_keys.OPERATIONS].unready()
    if down:
        return web.json_response({"status": "unavailable", "down": down}, status=503)
    return web.json_response({"status": "ready"})


def add_ops_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readyz)
