"""The JSON shapes of docs/protocol.md, built from domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.domain.conversations import Conversation, Message, Note
from server.domain.staff import StaffUser


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "sender": m.sender.value,
        "text": m.text,
        "sent_at": iso(m.sent_at),
        "client_id": m.client_id,
    }


def queue_item(c: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": c.id,
        "language": c.language,
        "topic": c.topic,
        "waiting_since": iso(c.created_at),
        "priority": c.priority,
        "priority_reason": c.priority_reason,
    }


def conversation(c: Conversation, unread: int = 0) -> dict[str, Any]:
    return {
        **queue_item(c),
        "state": c.state.value,
        "counsellor_id": c.counsellor_id,
        "created_at": iso(c.created_at),
        "claimed_at": iso(c.claimed_at),
        "closed_at": iso(c.closed_at),
        "outcome": c.outcome,
        "last_seq": c.last_seq,
        "unread": unread,
    }


def note(n: Note) -> dict[str, Any]:
    return {
        "id": n.id,
        "conversation_id": n.conversation_id,
        "author": n.author,
        "text": n.text,
        "created_at": iso(n.created_at),
    }


def user(u: StaffUser) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role.value}


def status(state: str, queue_position: int | None, estimated_wait_seconds: int | None) -> dict[str, Any]:
    return {
        "state": state,
        "queue_position": queue_position,
        "estimated_wait_seconds": estimated_wait_seconds,
    }
