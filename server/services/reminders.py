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

A send the provider throttled (429: never processed) goes back to pending until its backoff has
passed, without counting as an attempt; one the provider refused because the number unsubscribed
(21610) opts the number out and withdraws its other pending texts.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.booking.kinds import KindRules
from server.domain.reminders import (
    OPTED_OUT_ERRORS,
    THROTTLED_ERROR,
    Lookup,
    Outcome,
    TextFacts,
    TextState,
    ThrottlePolicy,
    Unresolved,
    after_report,
    after_throttle,
    after_unknown_not_found,
    compose,
    is_known_status,
    state_for_provider_status,
    triage,
)
from server.services.events import AppointmentsChanged, EventBus, RetentionPurged
from server.services.ports.clock import Clock
from server.services.ports.sms import SmsGateway, SmsOutcome
from server.services.ports.texts import ClaimedText, UnresolvedText
from server.services.ports.unit_of_work import Transactions

log = logging.getLogger(__name__)

#: How far back a provider search looks before the claim, for clock skew between us and them.
SEARCH_SKEW = timedelta(minutes=5)
UNKNOWN_BATCH = 100
REPORT_POLL_BATCH = 50
DEFAULT_THROTTLE = ThrottlePolicy(retries=8, backoff=timedelta(seconds=2), backoff_max=timedelta(minutes=5))


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
    throttle: ThrottlePolicy = DEFAULT_THROTTLE


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


class TextService:
    def __init__(
        self,
        uow: Transactions,
        gateway: SmsGateway,
        clock: Clock,
        policy: TextPolicy,
        lookup: Lookup,
        events: EventBus,
    ) -> None:
        self.uow = uow
        self.gateway = gateway
        self.clock = clock
        self.policy = policy
        self.lookup = lookup
        self.events = events
        self._background: set[asyncio.Task[int]] = set()
        self._wake_ups: set[asyncio.TimerHandle] = set()

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

    def _send_again_after(self, delay: timedelta, text_ids: Sequence[int]) -> None:
        """Send throttled texts when their backoff has passed, sooner than the next sweep would."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def wake() -> None:
            self._wake_ups.discard(handle)
            self.dispatch_soon(text_ids)

        handle = loop.call_later(delay.total_seconds(), wake)
        self._wake_ups.add(handle)

    async def drain(self) -> None:
        for handle in self._wake_ups:
            handle.cancel()
        self._wake_ups.clear()
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
        throttled = [(o.text_id, o.retry_at) for o in outcomes if o.retry_at is not None]
        settled = [o for o in outcomes if o.retry_at is None]
        phones = {text.id: text.phone for text, _body in batch.ready}
        opted_out = {phones[o.text_id] for o in settled if o.state is TextState.SUPPRESSED}
        changed = set(batch.appointment_ids)
        if outcomes:
            now = self.clock()
            async with self.uow.write() as repos:
                await repos.booking.settle(
                    settled, [TextState.SENDING, TextState.UNKNOWN], now, batch.claim_id
                )
                await repos.booking.throttled(throttled, batch.claim_id, now)
                for phone in opted_out:
                    if phone is not None:
                        changed.update(await repos.booking.opt_out(phone, now))
        if throttled:
            wait = max(retry_at for _id, retry_at in throttled) - self.clock()
            self._send_again_after(max(wait, timedelta(0)), [text_id for text_id, _ in throttled])
            log.info("the provider throttled %d texts; they go again after a backoff", len(throttled))
        if opted_out:
            log.info("the provider refused %d texts because the number opted out", len(opted_out))
        failed = sum(1 for outcome in settled if outcome.state in (TextState.FAILED, TextState.UNKNOWN))
        if failed:
            log.warning("%d of %d texts were not confirmed by the provider", failed, len(outcomes))
        if changed:
            await self.events.publish(AppointmentsChanged(tuple(sorted(changed))))
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
        if receipt.outcome == SmsOutcome.THROTTLED:
            wait = after_throttle(text.throttled, receipt.retry_after, self.policy.throttle)
            if wait is None:
                return Outcome(text.id, TextState.FAILED, None, receipt.error or THROTTLED_ERROR)
            return Outcome(text.id, TextState.PENDING, None, None, retry_at=self.clock() + wait)
        if receipt.outcome == SmsOutcome.OPTED_OUT:
            return Outcome(text.id, TextState.SUPPRESSED, None, receipt.error or "opted_out")
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
        appointment_of = {text.id: text.appointment_id for text in [*unknown, *awaiting]}
        opted_out = {
            appointment_of[o.text_id] for o in [*resolved, *reported] if o.error_code in OPTED_OUT_ERRORS
        }
        touched: set[str] = set()
        async with self.uow.write() as repos:
            changed = await repos.booking.settle(resolved, [TextState.UNKNOWN], now)
            changed += await repos.booking.settle(reported, [TextState.SENT], now)
            await repos.booking.touch_texts([text.id for text in awaiting], now)
            for appointment_id in opted_out:
                touched.update(await repos.booking.opt_out_number_of(appointment_id, now))
        touched |= {t.appointment_id for t in unknown if any(o.text_id == t.id for o in resolved)}
        touched |= {t.appointment_id for t in awaiting if any(o.text_id == t.id for o in reported)}
        if touched:
            await self.events.publish(AppointmentsChanged(tuple(sorted(touched))))
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
            if not is_known_status(status):
                log.warning("ignored a delivery report with a status Kinline does not know")
            return False
        now = self.clock()
        touched: list[str] = []
        async with self.uow.write() as repos:
            found = await repos.booking.text_for_report(provider_id, text_id)
            if found is None:
                return False
            found_id, appointment_id, current = found
            following = after_report(current, reported)
            changed = following is not None and await repos.booking.report(
                found_id, current, following, provider_id, error, now
            )
            if error in OPTED_OUT_ERRORS:
                touched = await repos.booking.opt_out_number_of(appointment_id, now)
        if changed or touched:
            await self.events.publish(AppointmentsChanged(tuple(sorted({appointment_id, *touched}))))
        return bool(changed)

    # ---- retention

    async def forget(self) -> int:
        now = self.clock()
        cutoff = now - self.policy.phone_retention
        async with self.uow.write() as repos:
            forgotten = await repos.booking.forget_phones(cutoff)
            await repos.outbox.delete_before(cutoff)
        if forgotten:
            log.info("retention deleted the phone numbers of %d appointments", len(forgotten))
            await self.events.publish(RetentionPurged("phone_numbers", len(forgotten)))
        return len(forgotten)
