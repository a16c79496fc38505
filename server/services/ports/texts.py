"""Text messages about appointments (reminders, confirmations), their reconciliation with the
provider, opt-outs, and the embedded SMS outbox: the ports the text service and the outbox use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from server.domain.reminders import DueText, Outcome, TextPurpose, TextState


@dataclass(frozen=True)
class ClaimedText:
    id: int
    appointment_id: str
    purpose: TextPurpose
    kind: str
    language: str
    start: datetime
    phone: str | None
    opted_out: bool
    attempts: int
    throttled: int = 0


@dataclass(frozen=True)
class UnresolvedText:
    id: int
    appointment_id: str
    state: TextState
    purpose: TextPurpose
    claim_id: str | None
    claimed_at: datetime
    attempts: int
    provider_id: str | None
    phone: str | None
    body: str | None
    appointment_start: datetime


@dataclass(frozen=True)
class TextView:
    id: int
    appointment_id: str
    purpose: TextPurpose
    offset_seconds: int | None
    due_at: datetime
    state: TextState
    attempts: int
    error_code: str | None
    updated_at: datetime


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    provider_id: str
    to: str
    body: str
    created_at: datetime


class TextRepository(Protocol):
    async def add_texts(
        self,
        appointment_id: str,
        texts: Sequence[tuple[TextPurpose, timedelta | None, datetime]],
        now: datetime,
    ) -> list[int]: ...

    async def withdraw_pending_reminders(self, appointment_id: str, now: datetime) -> int: ...

    async def due_texts(
        self, now: datetime, limit: int, only: Sequence[int] | None = None
    ) -> list[DueText]: ...

    async def move_texts(
        self, ids: Sequence[int], from_state: TextState, to_state: TextState, now: datetime
    ) -> int: ...

    async def claim(self, ids: Sequence[int], claim_id: str, now: datetime) -> int:
        """The one conditional UPDATE that makes a text ours to send: only rows still pending move,
        so a second sweeper (another process, or this one after a restart) claims nothing twice."""
        ...

    async def claimed(self, claim_id: str) -> list[ClaimedText]: ...

    async def store_bodies(self, bodies: Sequence[tuple[int, str]]) -> None:
        """Keep what is about to be sent (encrypted), so a send with an unknown outcome can be
        looked for at the provider. One statement for the whole batch."""
        ...

    async def settle(
        self,
        outcomes: Sequence[Outcome],
        from_states: Sequence[TextState],
        now: datetime,
        claim_id: str | None = None,
    ) -> int:
        """Record outcomes for texts still in one of ``from_states`` (and, for a sender, still under
        its own claim); a text that meanwhile moved on, say by a delivery report, keeps its state.
        A missing provider id or error code keeps the stored one. One statement for the batch."""
        ...

    async def throttled(self, retries: Sequence[tuple[int, datetime]], claim_id: str, now: datetime) -> int:
        """Put texts the provider throttled (never processed) back to pending until ``retry_at``; the
        claim's attempt is given back, so throttling never uses up the attempts for unknown outcomes."""
        ...

    async def mark_stale_unknown(self, stale_before: datetime, now: datetime) -> int:
        """A text claimed long ago and still 'sending' was interrupted (a crash, a kill): its outcome
        is unknown and it will be reconciled, never simply sent again."""
        ...

    async def unknown_texts(self, limit: int) -> list[UnresolvedText]: ...

    async def sent_awaiting_report(self, updated_before: datetime, limit: int) -> list[UnresolvedText]: ...

    async def touch_texts(self, ids: Sequence[int], now: datetime) -> None: ...

    async def text_for_report(
        self, provider_id: str, text_id: int | None
    ) -> tuple[int, str, TextState] | None:
        """The text a delivery report is about: by the provider's id, or by our id in the callback URL
        (a send whose answer was lost has no provider id stored yet)."""
        ...

    async def report(
        self,
        text_id: int,
        before: TextState,
        after: TextState,
        provider_id: str,
        error: str | None,
        now: datetime,
    ) -> bool: ...

    async def texts_for(self, appointment_ids: Sequence[str]) -> dict[str, list[TextView]]: ...

    async def count_texts_by_state(self) -> dict[str, int]: ...

    async def opt_out(self, phone: str, now: datetime) -> list[str]: ...

    async def opt_out_number_of(self, appointment_id: str, now: datetime) -> list[str]:
        """Opt out the number an appointment was booked with (the provider says it opted out)."""
        ...

    async def opt_in(self, phone: str) -> bool: ...

    async def is_opted_out(self, phone: str) -> bool: ...

    async def first_delivery(self, message_id: str, now: datetime) -> bool:
        """True the first time an inbound message id is seen; a replayed webhook gets False. The
        hashes are kept for good: a reply acts on the number's next appointment, whenever that is,
        so no window after which a signed replay is harmless exists."""
        ...

    async def forget_phones(self, ended_before: datetime) -> list[str]:
        """Delete phone numbers (and the texts' bodies) of appointments that ended before the cutoff."""
        ...


class OutboxRepository(Protocol):
    async def add(self, provider_id: str, to: str, body: str, now: datetime) -> None: ...

    async def since(self, since: datetime, limit: int) -> list[OutboxEntry]: ...

    async def by_provider_id(self, provider_id: str) -> OutboxEntry | None: ...

    async def delete_before(self, cutoff: datetime) -> int: ...
