"""Sending the texts about appointments: confirmations and changes at once, reminders when due,
and reconciliation of every send whose outcome is unknown. All state lives in the database.

The sweep (run by the scheduler, in any number of processes) does, in order:
1. mark texts that were claimed but never settled (the process died mid-send) as ``unknown``: a
   claimed text is sent at once and settled within the send timeout, so one still 'sending' after
   twice that was interrupted;
2. ask the provider about every ``unknown`` text: found -> sent; verifiably never sent -> pending
   again (or failed when too late); no answer -> ask again next time. Never a blind resend;
3. claim due texts with one conditional UPDATE, a small batch at a time, and send them;
4. forget phone numbers past their retention.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from server.domain.booking import KindRules
from server.domain.reminders import (
    Lookup,
    Outcome,
    TextFacts,
    TextState,
    Unresolved,
    after_report,
    after_unknown_not_found,
    compose,
    state_for_provider_status,
    triage,
)
from server.services.ports import Clock, SmsOutcome

if TYPE_CHECKING:
    from server.adapters.db.booking_store import BookingUnitOfWork, ClaimedText, UnresolvedText

log = logging.getLogger(__name__)

#: How far back a provider search looks before the claim, for clock skew between us and them.
SEARCH_SKEW = timedelta(minutes=5)
UNKNOWN_BATCH = 100
REPORT_POLL_BATCH = 50
INBOUND_REPLAY_WINDOW = timedelta(days=7)

AppointmentsChanged = Callable[[Sequence[str]], Awaitable[None]]


@dataclass(frozen=True)
class SendReceipt:
    """What a send attempt returned (the ports' SmsReceipt), with the provider's message status
    when it gave one."""

    outcome: str
    provider_id: str | None = None
    error: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class ProviderReport:
    provider_id: str
    status: str
    error: str | None = None


class SmsGateway(Protocol):
    """The SmsSender port plus the two questions reconciliation asks the provider."""

    async def send(self, to_e164: str, body: str, *, status_ref: str | None = None) -> SendReceipt: ...

    async def status(self, provider_id: str) -> ProviderReport | None: ...

    async def find(self, to_e164: str, body: str, since: datetime) -> ProviderReport | None: ...


@dataclass(frozen=True)
class TextPolicy:
    zone: ZoneInfo
    kinds: dict[str, KindRules]
    sender_name: str
    send_timeout: timedelta
    max_concurrent: int
    reconcile_after: timedelta
    max_attempts: int
    phone_retention: timedelta


@dataclass(frozen=True)
class Batch:
    """Texts claimed together: ``due`` rows were looked at, ``ready`` are to be sent now."""

    claim_id: str
    due: int
    ready: list[tuple[ClaimedText, str]]
    appointment_ids: list[str]


@dataclass(frozen=True)
class SweepReport:
    sent: int
    reconciled: int
    forgotten: int


async def _nobody(_ids: Sequence[str]) -> None:
    return None


class TextService:
    def __init__(
        self,
        uow: BookingUnitOfWork,
        gateway: SmsGateway,
        clock: Clock,
        policy: TextPolicy,
        lookup: Lookup,
        notify: AppointmentsChanged = _nobody,
    ) -> None:
        self.uow = uow
        self.gateway = gateway
        self.clock = clock
        self.policy = policy
        self.lookup = lookup
        self.notify = notify
        self._background: set[asyncio.Task[int]] = set()

    # ---- the sweep

    async def sweep(self) -> SweepReport:
        reconciled = await self.reconcile()
        sent = await self.send_due()
        forgotten = await self.forget()
        return SweepReport(sent, reconciled, forgotten)

    async def send_due(self, only: Sequence[int] | None = None) -> int:
        """Send due texts (or just ``only``) in batches of ``max_concurrent`` until none is left.
        The next batch is claimed while the last one is on its way, so at most two are in flight;
        each is sent the moment it is claimed."""
        total = 0
        in_flight: asyncio.Task[int] | None = None
        try:
            while True:
                batch = await self._claim(only)
                if batch is None:
                    break
                sending = asyncio.create_task(self._deliver(batch))
                if in_flight is not None:
                    total += await in_flight
                in_flight = sending
                if only is not None or batch.due < self.policy.max_concurrent:
                    break
        finally:
            if in_flight is not None:
                total += await in_flight
        return total

    def dispatch_soon(self, text_ids: Sequence[int]) -> None:
        """Send texts that are due now without waiting for the sweep; if this process dies first,
        the next sweep sends them."""
        if not text_ids:
            return
        task = asyncio.create_task(self.send_due(list(text_ids)), name="dispatch-texts")
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[int]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending texts failed: %s", type(task.exception()).__name__)

    async def drain(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _claim(self, only: Sequence[int] | None) -> Batch | None:
        """One transaction: settle what due texts became, claim the ones to send, compose them."""
        now = self.clock()
        claim_id = str(uuid.uuid4())
        async with self.uow.write() as repos:
            store = repos.booking
            due = await store.due_texts(now, self.policy.max_concurrent, only)
            if not due:
                return None
            decision = triage(due, now)
            await store.move_texts(decision.missed, TextState.PENDING, TextState.MISSED, now)
            await store.move_texts(decision.superseded, TextState.PENDING, TextState.SUPERSEDED, now)
            await store.move_texts(decision.withdrawn, TextState.PENDING, TextState.WITHDRAWN, now)
            await store.claim(decision.send, claim_id, now)
            claimed = await store.claimed(claim_id)
            skipped = []
            ready: list[tuple[ClaimedText, str]] = []
            for text in claimed:
                if text.opted_out:
                    skipped.append(Outcome(text.id, TextState.SUPPRESSED, None, "opted_out"))
                elif text.phone is None:
                    skipped.append(Outcome(text.id, TextState.WITHDRAWN, None, "no_number"))
                else:
                    ready.append((text, self.compose(text)))
            await store.store_bodies([(text.id, body) for text, body in ready])
            await store.settle(skipped, [TextState.SENDING], now, claim_id)
        return Batch(claim_id, len(due), ready, sorted({text.appointment_id for text in due}))

    async def _deliver(self, batch: Batch) -> int:
        outcomes = await asyncio.gather(*(self._send_one(text, body) for text, body in batch.ready))
        if outcomes:
            async with self.uow.write() as repos:
                await repos.booking.settle(
                    outcomes, [TextState.SENDING, TextState.UNKNOWN], self.clock(), batch.claim_id
                )
        failed = sum(1 for outcome in outcomes if outcome.state in (TextState.FAILED, TextState.UNKNOWN))
        if failed:
            log.warning("%d of %d texts were not confirmed by the provider", failed, len(outcomes))
        await self.notify(batch.appointment_ids)
        return batch.due

    def compose(self, text: ClaimedText) -> str:
        kind = self.policy.kinds.get(text.kind)
        facts = TextFacts(
            purpose=text.purpose,
            language=text.language,
            kind=text.kind,
            start=text.start,
            address=kind.address if kind else "",
        )
        return compose(facts, self.lookup, self.policy.zone, self.policy.sender_name)

    async def _send_one(self, text: ClaimedText, body: str) -> Outcome:
        assert text.phone is not None
        try:
            async with asyncio.timeout(self.policy.send_timeout.total_seconds()):
                receipt = await self.gateway.send(text.phone, body, status_ref=str(text.id))
        except TimeoutError:
            return Outcome(text.id, TextState.UNKNOWN, None, "timeout")
        except Exception as error:
            log.warning("sending a text raised %s; its outcome is unknown", type(error).__name__)
            return Outcome(text.id, TextState.UNKNOWN, None, "send_error")
        if receipt.outcome == SmsOutcome.ACCEPTED:
            state = state_for_provider_status(receipt.status or "sent") or TextState.SENT
            return Outcome(text.id, state, receipt.provider_id, None)
        if receipt.outcome == SmsOutcome.FAILED:
            return Outcome(text.id, TextState.FAILED, receipt.provider_id, receipt.error or "failed")
        return Outcome(text.id, TextState.UNKNOWN, receipt.provider_id, receipt.error or "unknown")

    # ---- reconciliation

    async def reconcile(self) -> int:
        now = self.clock()
        async with self.uow.write() as repos:
            await repos.booking.mark_stale_unknown(now - 2 * self.policy.send_timeout, now)
            unknown = await repos.booking.unknown_texts(UNKNOWN_BATCH)
            awaiting = await repos.booking.sent_awaiting_report(
                now - self.policy.reconcile_after, REPORT_POLL_BATCH
            )
        resolved = [outcome for text in unknown if (outcome := await self._resolve_unknown(text, now))]
        reported = []
        for text in awaiting:
            outcome = await self._poll(text)
            if outcome is not None:
                reported.append(outcome)
        async with self.uow.write() as repos:
            changed = await repos.booking.settle(resolved, [TextState.UNKNOWN], now)
            changed += await repos.booking.settle(reported, [TextState.SENT], now)
            await repos.booking.touch_texts([text.id for text in awaiting], now)
        touched = {t.appointment_id for t in unknown if any(o.text_id == t.id for o in resolved)}
        touched |= {t.appointment_id for t in awaiting if any(o.text_id == t.id for o in reported)}
        if touched:
            await self.notify(sorted(touched))
        return changed

    async def _resolve_unknown(self, text: UnresolvedText, now: datetime) -> Outcome | None:
        try:
            if text.provider_id:
                report = await self.gateway.status(text.provider_id)
            elif text.phone and text.body:
                report = await self.gateway.find(text.phone, text.body, text.claimed_at - SEARCH_SKEW)
            else:
                report = None
        except Exception as error:
            log.warning("asking the provider about a text failed (%s); will ask again", type(error).__name__)
            return None
        if report is not None:
            state = state_for_provider_status(report.status) or TextState.SENT
            return Outcome(text.id, state, report.provider_id, report.error)
        facts = Unresolved(text.state, text.claimed_at, text.attempts, text.appointment_start, text.purpose)
        following = after_unknown_not_found(facts, now, self.policy.reconcile_after, self.policy.max_attempts)
        if following is None:
            return None
        return Outcome(text.id, following, None, "not_sent" if following is TextState.FAILED else None)

    async def _poll(self, text: UnresolvedText) -> Outcome | None:
        assert text.provider_id is not None
        try:
            report = await self.gateway.status(text.provider_id)
        except Exception as error:
            log.warning("polling a delivery status failed (%s)", type(error).__name__)
            return None
        reported = state_for_provider_status(report.status) if report else None
        if report is None or reported is None or after_report(TextState.SENT, reported) is None:
            return None
        return Outcome(text.id, reported, report.provider_id, report.error)

    async def on_report(self, provider_id: str, status: str, error: str | None, text_id: int | None) -> bool:
        """A delivery report (status webhook). Replays and out-of-order reports change nothing."""
        reported = state_for_provider_status(status)
        if reported is None:
            return False
        now = self.clock()
        async with self.uow.write() as repos:
            found = await repos.booking.text_for_report(provider_id, text_id)
            if found is None:
                return False
            found_id, appointment_id, current = found
            following = after_report(current, reported)
            changed = following is not None and await repos.booking.report(
                found_id, current, following, provider_id, error, now
            )
        if changed:
            await self.notify([appointment_id])
        return bool(changed)

    # ---- retention

    async def forget(self) -> int:
        now = self.clock()
        cutoff = now - self.policy.phone_retention
        async with self.uow.write() as repos:
            forgotten = await repos.booking.forget_phones(cutoff)
            await repos.outbox.delete_before(cutoff)
            await repos.booking.forget_seen_before(now - INBOUND_REPLAY_WINDOW)
        if forgotten:
            log.info("retention deleted the phone numbers of %d appointments", len(forgotten))
        return len(forgotten)
