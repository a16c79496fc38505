"""An audit row's wire shape names the object's id field after its type, as the escalation audit
view does, and carries the reason id of a supervisor's read (never free text). That the route is
served and documented: tests/integration/test_openapi.py."""

from __future__ import annotations

from datetime import UTC, datetime

from server.services.ports.audit import AuditEntry
from server.transports.http.audit_routes import audit_entry


def test_an_entry_carries_who_what_when_and_which_object_only() -> None:
    at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    entry = AuditEntry(7, at, 3, "Sam Supervisor", "note.read", "conversation", "c-1")
    assert audit_entry(entry, "conversation_id", entry.object_id) == {
        "id": 7,
        "at": "2026-11-26T09:30:00+00:00",
        "actor_id": 3,
        "actor": "Sam Supervisor",
        "action": "note.read",
        "detail": None,
        "conversation_id": "c-1",
    }


def test_a_supervisors_read_carries_its_reason_id() -> None:
    at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    entry = AuditEntry(8, at, 4, "Sam Supervisor", "supervision.read", "conversation", "c-1", "quality")
    assert audit_entry(entry, "conversation_id", entry.object_id)["detail"] == "quality"
