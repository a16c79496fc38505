"""Fakes of what the services send out through: SMS, webhooks and console pushes. Each records
what it was given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.services.events import EscalationAlert, EscalationChanged, Event
from server.services.ports.sms import SmsOutcome


@dataclass(frozen=True)
class Receipt:
    outcome: str
    provider_id: str | None = None
    error: str | None = None


class FakeSms:
    def __init__(self, outcome: str = SmsOutcome.ACCEPTED, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.outcome = outcome
        self.fail = fail

    async def send(self, to_e164: str, body: str) -> Receipt:
        self.sent.append((to_e164, body))
        if self.fail:
            raise TimeoutError("no answer")
        return Receipt(self.outcome, f"SM{len(self.sent)}")


class FakeWebhooks:
    def __init__(self) -> None:
        self.posted: list[tuple[str, Mapping[str, Any]]] = []

    async def post(self, url: str, secret: bytes, payload: Mapping[str, Any]) -> str:
        self.posted.append((url, dict(payload)))
        return SmsOutcome.ACCEPTED


class Announced:
    """Subscribes to the event bus and records what the service announced after its commits."""

    def __init__(self) -> None:
        self.changed_ids: list[str] = []
        self.alerts: list[tuple[str, str]] = []

    async def on_event(self, event: Event) -> None:
        if isinstance(event, EscalationChanged):
            self.changed_ids.append(event.escalation.id)
        elif isinstance(event, EscalationAlert):
            self.alerts.append((event.escalation.id, event.reason))
