"""The chat audit route is registered and documented, and an audit row's wire shape names the
object's id field after its type, as the escalation audit view does."""

from __future__ import annotations

from datetime import UTC, datetime

from server.app import create_app
from server.services.ports.audit import AuditEntry
from server.settings import load_settings
from server.transports.http.audit_routes import audit_entry
from server.transports.http.openapi import document


def test_the_audit_route_is_served_and_documented() -> None:
    app = create_app(load_settings())
    served = {
        route.method.lower()
        for route in app.router.routes()
        if route.resource and route.resource.canonical == "/api/staff/audit" and route.method != "HEAD"
    }
    assert served == {"get"} == set(document()["paths"]["/api/staff/audit"])


def test_an_entry_carries_who_what_when_and_which_object_only() -> None:
    at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    entry = AuditEntry(7, at, 3, "Sam Supervisor", "note.read", "conversation", "c-1")
    assert audit_entry(entry, "conversation_id", entry.object_id) == {
        "id": 7,
        "at": "2026-11-26T09:30:00+00:00",
        "actor_id": 3,
        "actor": "Sam Supervisor",
        "action": "note.read",
        "conversation_id": "c-1",
    }
