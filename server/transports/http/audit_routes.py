"""The chat audit log over HTTP (docs/protocol.md, `GET /api/staff/audit`), and the shape of an
audit row that the escalation audit view answers with too: when, who, what, which object; never
content."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from server import app_keys
from server.services.audit import AuditService
from server.transports import wire
from server.transports.http.middlewares import query_limit
from server.transports.http.staff_auth import require_staff

DEFAULT_LIMIT = 200


class AuditRow(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def at(self) -> datetime: ...

    @property
    def actor_id(self) -> int | None: ...

    @property
    def actor(self) -> str | None: ...

    @property
    def action(self) -> str: ...

    @property
    def detail(self) -> str | None: ...


def audit_entry(row: AuditRow, object_key: str, object_id: str) -> dict[str, Any]:
    """One row as the consoles list it; ``object_key`` names the object's id field, such as
    ``conversation_id`` or ``escalation_id``."""
    return {
        "id": row.id,
        "at": wire.iso(row.at),
        "actor_id": row.actor_id,
        "actor": row.actor,
        "action": row.action,
        "detail": row.detail,
        object_key: object_id,
    }


def _service(request: web.Request) -> AuditService:
    return request.app[app_keys.AUDIT]


async def audit_log(request: web.Request) -> web.Response:
    user = await require_staff(request)
    object_type = request.query.get("object_type", "conversation")
    entries = await _service(request).entries(
        user, object_type, request.query.get("object_id") or None, query_limit(request, DEFAULT_LIMIT)
    )
    return web.json_response(
        {"entries": [audit_entry(e, f"{e.object_type}_id", e.object_id) for e in entries]}
    )


def add_audit_routes(app: web.Application) -> None:
    app.router.add_get("/api/staff/audit", audit_log)
