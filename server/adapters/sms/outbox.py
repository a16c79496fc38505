"""The embedded SMS backend: every text is stored (encrypted) for administrators to read in the
console instead of being sent, so the service runs with no account. It is the SmsGateway port
and answers reconciliation's questions from its own table."""

from __future__ import annotations

import secrets
from datetime import datetime

from server.services.ports.clock import Clock
from server.services.ports.sms import ProviderReport, SendReceipt, SmsOutcome
from server.services.ports.unit_of_work import Transactions

#: The outbox is where the text ends up, so it counts as delivered there.
OUTBOX_STATUS = "delivered"


class OutboxSmsSender:
    def __init__(self, uow: Transactions, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def send(self, to_e164: str, body: str, *, status_ref: str | None = None) -> SendReceipt:
        provider_id = "OB" + secrets.token_hex(16)
        async with self.uow.write() as repos:
            await repos.outbox.add(provider_id, to_e164, body, self.clock())
        return SendReceipt(SmsOutcome.ACCEPTED, provider_id, None, OUTBOX_STATUS)

    async def status(self, provider_id: str) -> ProviderReport | None:
        async with self.uow.read() as repos:
            entry = await repos.outbox.by_provider_id(provider_id)
        return ProviderReport(entry.provider_id, OUTBOX_STATUS) if entry else None

    async def find(self, to_e164: str, body: str, since: datetime) -> ProviderReport | None:
        async with self.uow.read() as repos:
            recent = await repos.outbox.since(since, limit=500)
        for entry in recent:
            if entry.to == to_e164 and entry.body == body:
                return ProviderReport(entry.provider_id, OUTBOX_STATUS)
        return None
