"""The one SMS port: sending a text, and asking the provider what became of one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class SmsOutcome:
    """How a send attempt ended. ``UNKNOWN`` (timeout, 5xx) must be reconciled, never resent blindly.
    ``THROTTLED`` (429) was never processed and is safe to send again after a while; ``OPTED_OUT``
    is a refusal because the recipient unsubscribed (Twilio 21610)."""

    ACCEPTED = "accepted"
    FAILED = "failed"
    UNKNOWN = "unknown"
    THROTTLED = "throttled"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class SendReceipt:
    """What a send attempt returned, with the provider's message status when it gave one."""

    outcome: str
    provider_id: str | None = None
    error: str | None = None
    status: str | None = None
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class ProviderReport:
    provider_id: str
    status: str
    error: str | None = None


class SmsGateway(Protocol):
    """Sends texts to E.164 numbers and answers the two questions reconciliation asks the
    provider. Implemented by the Twilio and the outbox adapters."""

    async def send(self, to_e164: str, body: str, *, status_ref: str | None = None) -> SendReceipt: ...

    async def status(self, provider_id: str) -> ProviderReport | None: ...

    async def find(self, to_e164: str, body: str, since: datetime) -> ProviderReport | None: ...
