"""Escalation's ports: the escalation repository and its outgoing notifications, and what the
service tells or asks the outside world (open consoles, webhooks, the relative's chat)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from server.domain.conversations import Message, Sender
from server.domain.escalation import Escalation


@dataclass(frozen=True)
class Notification:
    """One outgoing SMS or webhook call about one escalation. Phone numbers and URLs stay in the
    routes file; the row only says which route and channel."""

    id: int
    escalation_id: str
    route: str
    channel: str
    purpose: str
    state: str


class NotificationState:
    PENDING = "pending"
    SENDING = "sending"


class EscalationRepository(Protocol):
    async def insert(self, escalation: Escalation, relative_hash: str | None) -> None: ...

    async def save(self, before: Escalation, after: Escalation) -> bool:
        """Write a change only if the row is still in ``before``'s state and deadline handling.
        False when another writer got there first: that is how a sweep claims a missed deadline once."""
        ...

    async def get(self, escalation_id: str) -> Escalation | None: ...

    async def visible_candidates(
        self, drafter_id: int | None, routes: Sequence[str] | None, limit: int
    ) -> list[Escalation]:
        """Newest first. ``drafter_id`` and ``routes`` narrow the query (None: no narrowing on
        that side); the permission rules still decide on every row."""
        ...

    async def for_relative(self, relative_hash: str) -> list[Escalation]: ...

    async def overdue(self, now: datetime) -> list[Escalation]: ...

    async def awaiting_acknowledgement(self) -> list[Escalation]:
        """Sent and not yet acknowledged: each has a deadline running."""
        ...

    async def drafting_conversations(self) -> set[str]:
        """Conversations with an escalation drafted but not yet sent (draft, awaiting approval,
        sent back)."""
        ...

    async def resume_hash_of(self, conversation_id: str) -> str | None: ...

    async def delete_untouched_before(self, cutoff: datetime) -> int: ...

    async def add_notification(
        self, escalation_id: str, route: str, channel: str, purpose: str, now: datetime
    ) -> None:
        """Queue one notification; a second one for the same escalation, route, channel and
        purpose is ignored, so nothing is ever queued twice."""
        ...

    async def claim_pending_notifications(self, now: datetime, limit: int = 50) -> list[Notification]:
        """Each pending notification moves to ``sending`` with one conditional UPDATE; only the
        writer whose UPDATE matched sends it."""
        ...

    async def finish_notification(
        self, notification_id: int, outcome: str, provider_id: str | None, now: datetime
    ) -> None: ...

    async def notifications_of(self, escalation_id: str) -> list[Notification]: ...


class WebhookPoster(Protocol):
    async def post(self, url: str, secret: bytes, payload: Mapping[str, Any]) -> str:
        """Returns an SmsOutcome-style outcome: accepted, failed or unknown."""
        ...


class RelativeMessenger(Protocol):
    async def post_message(
        self, conversation_id: str, client_id: str, text: str, sender: Sender
    ) -> Message: ...
