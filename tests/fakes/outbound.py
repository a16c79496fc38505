"""Fakes of what the services send out through: SMS, webhooks and console pushes. Each records
what it was given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.domain.escalation import Escalation
from server.services.ports import SmsOutcome


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


class FakeNotifier:
    def __init__(self) -> None:
        self.changed_ids: list[str] = []
        self.alerts: list[tuple[str, str]] = []

    async def changed(self, escalation: Escalation) -> None:
        self.changed_ids.append(escalation.id)

    async def alert(self, escalation: Escalation, reason: str) -> None:
        self.alerts.append((escalation.id, reason))
