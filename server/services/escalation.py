"""Escalation use-cases: draft, approve or send back, deliver, acknowledge, record outcomes, the
deadline sweep and retention. One short transaction each; every read and change of an
escalation writes an audit row (who, when, which escalation, what action; never content) in
the same transaction. Notifications are queued as rows in that transaction too and sent after
the commit by whoever claims them first, so a restart or a second process never sends twice."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from server.domain import escalation as rules
from server.domain import permissions
from server.domain.conversations import Message, Sender
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.escalation import Draft, Escalation, EscalationConfig, Kind, RelativeStatus, Route, State
from server.domain.permissions import Action, Ownership
from server.domain.staff import StaffUser
from server.domain.tokens import normalise_resume_code, secret_hash
from server.services.contact_records import ContactRecorder
from server.services.events import EscalationAlert, EscalationChanged, EventBus, RetentionPurged
from server.services.ports.audit import AuditEntry
from server.services.ports.clock import Clock
from server.services.ports.escalation import Notification, RelativeMessenger, WebhookPoster
from server.services.ports.sms import SmsGateway, SmsOutcome
from server.services.ports.unit_of_work import Repositories, Transactions

log = logging.getLogger(__name__)

OBJECT_TYPE = "escalation"
DEADLINE_MISSED = "escalation.deadline_missed"
RELATIVE_STATUS_READ = "escalation.relative_status"
NOTIFIED = "escalation.notified"
SMS, WEBHOOK = "sms", "webhook"
PURPOSE_SENT, PURPOSE_BACKUP = "sent", "backup"
ALERT_DEADLINE_MISSED, ALERT_IMMINENT_DANGER = "deadline_missed", "imminent_danger"


@dataclass(frozen=True)
class EscalationPolicy:
    config: EscalationConfig
    retention: timedelta
    console_url: str
    list_limit: int = 500
    audit_limit: int = 500
    records: ContactRecorder = field(default_factory=ContactRecorder)


class EscalationService:
    def __init__(
        self,
        uow: Transactions,
        messenger: RelativeMessenger,
        events: EventBus,
        clock: Clock,
        policy: EscalationPolicy,
        sms: SmsGateway | None = None,
        webhooks: WebhookPoster | None = None,
    ) -> None:
        self.uow = uow
        self.messenger = messenger
        self.events = events
        self.clock = clock
        self.policy = policy
        self.sms = sms
        self.webhooks = webhooks
        self._deliveries: set[asyncio.Task[None]] = set()

    @property
    def config(self) -> EscalationConfig:
        return self.policy.config

    # ---- staff use-cases ---------------------------------------------------------------------------------

    async def draft(self, user: StaffUser, conversation_id: str, draft: Draft) -> Escalation:
        """A counsellor drafts from a conversation they hold. Imminent danger is sent at once."""
        now = self.clock()
        if not permissions.reads_conversations(user.role):
            raise NotFound("no such conversation")  # whether it exists or not: the id reveals nothing
        async with self.uow.write() as repos:
            conversation = await repos.chat.get(conversation_id)
            if conversation is None:
                raise NotFound("no such conversation")
            holding = Ownership.OWN if conversation.is_held_by(user.id) else Ownership.OTHER
            permissions.require(user.role, Action.ESCALATION_CREATE, holding)
            checked = rules.validate_draft(draft, self.config)
            route = self.config.route(checked.route)
            created = rules.new_escalation(
                str(uuid.uuid4()), conversation.id, conversation.language, user.id, checked, now
            )
            escalation = rules.submit(created, route, now)
            await repos.escalations.insert(
                escalation, await repos.escalations.resume_hash_of(conversation.id)
            )
            await self._audit(repos, user, Action.ESCALATION_CREATE, escalation.id, now)
            if escalation.delivered:
                await self._queue_notifications(repos, escalation, route, PURPOSE_SENT, now)
        await self._announce(created, escalation)
        return escalation

    async def resubmit(self, user: StaffUser, escalation_id: str, draft: Draft) -> Escalation:
        checked = rules.validate_draft(draft, self.config)
        return await self._change(
            user, escalation_id, Action.ESCALATION_RESUBMIT, lambda e, now: rules.resubmit(e, checked, now)
        )

    async def approve(self, user: StaffUser, escalation_id: str) -> Escalation:
        return await self._change(
            user,
            escalation_id,
            Action.ESCALATION_APPROVE,
            lambda e, now: rules.approve(e, user.id, self.config.route(e.route), now),
        )

    async def send_back(self, user: StaffUser, escalation_id: str, reason: str | None) -> Escalation:
        return await self._change(
            user,
            escalation_id,
            Action.ESCALATION_SEND_BACK,
            lambda e, now: rules.send_back(e, user.id, reason, now),
        )

    async def acknowledge(self, user: StaffUser, escalation_id: str) -> Escalation:
        return await self._change(
            user,
            escalation_id,
            Action.ESCALATION_ACKNOWLEDGE,
            lambda e, now: rules.acknowledge(e, user.id, now),
        )

    async def record_outcome(
        self, user: StaffUser, escalation_id: str, outcome: State, feedback: str | None
    ) -> Escalation:
        return await self._change(
            user,
            escalation_id,
            Action.ESCALATION_OUTCOME,
            lambda e, now: rules.record_outcome(e, outcome, feedback, now),
        )

    async def read(self, user: StaffUser, escalation_id: str) -> Escalation:
        now = self.clock()
        async with self.uow.write() as repos:
            escalation = await self._authorised(repos, user, escalation_id, Action.ESCALATION_READ)
            await self._audit(repos, user, Action.ESCALATION_READ, escalation.id, now)
            return escalation

    async def transcript(self, user: StaffUser, escalation_id: str) -> list[Message]:
        """The conversation, only for those the rules allow (social services: only with consent)."""
        now = self.clock()
        async with self.uow.write() as repos:
            escalation = await self._authorised(repos, user, escalation_id, Action.ESCALATION_TRANSCRIPT)
            await self._audit(repos, user, Action.ESCALATION_TRANSCRIPT, escalation.id, now)
            if escalation.conversation_id is None:
                return []
            return await repos.chat.messages_after(escalation.conversation_id, 0)

    async def visible_to(self, user: StaffUser) -> list[Escalation]:
        """Every escalation the user may read, newest first; each one listed leaves an audit row."""
        permissions.require(user.role, Action.ESCALATION_LIST, Ownership.NONE)
        now = self.clock()
        drafter_id, routes = self._narrowing(user)
        async with self.uow.write() as repos:
            candidates = await repos.escalations.visible_candidates(
                drafter_id, routes, self.policy.list_limit
            )
            visible = [e for e in candidates if self._may(user, Action.ESCALATION_READ, e)]
            for escalation in visible:
                await self._audit(repos, user, Action.ESCALATION_LIST, escalation.id, now)
        return visible

    async def audit_trail(self, user: StaffUser, escalation_id: str | None) -> list[AuditEntry]:
        permissions.require(user.role, Action.ESCALATION_AUDIT, Ownership.NONE)
        now = self.clock()
        async with self.uow.write() as repos:
            entries = await repos.staff.audit_entries(OBJECT_TYPE, escalation_id, self.policy.audit_limit)
            await self._audit(repos, user, Action.ESCALATION_AUDIT, escalation_id or "*", now)
        return entries

    def require_subscribe(self, user: StaffUser) -> None:
        permissions.require(user.role, Action.ESCALATION_SUBSCRIBE, Ownership.NONE)

    def form_config(self, user: StaffUser) -> EscalationConfig:
        """Routes, kinds, wording and indicators for the console's forms; no escalation data."""
        permissions.require(user.role, Action.ESCALATION_LIST, Ownership.NONE)
        return self.config

    def is_overdue(self, escalation: Escalation) -> bool:
        """Overdue by this service's clock, the one its deadlines are swept by."""
        return escalation.is_overdue(self.clock())

    def emergency_steps(self, escalation: Escalation) -> dict[str, tuple[str, ...]] | None:
        return rules.emergency_steps(escalation.kind, self.config)

    def actions_for(self, user: StaffUser, escalation: Escalation) -> list[Action]:
        """What the user can do with this escalation now: possible in its state and allowed."""
        return sorted(a for a in rules.possible_actions(escalation) if self._may(user, a, escalation))

    # ---- the relative ----

    async def relative_status(self, resume_code: str) -> list[RelativeStatus]:
        """With their resume code a relative sees sent, received or closed, and nothing else."""
        relative_hash = secret_hash(normalise_resume_code(resume_code))
        now = self.clock()
        async with self.uow.write() as repos:
            found = await repos.escalations.for_relative(relative_hash)
            if not found and await repos.chat.find_by_resume_hash(relative_hash) is None:
                raise NotFound("no conversation has this resume code")
            statuses = []
            for escalation in found:
                status = escalation.relative_status()
                if status is not None:
                    statuses.append(status)
                    await repos.staff.audit(None, RELATIVE_STATUS_READ, OBJECT_TYPE, escalation.id, now)
        return statuses

    # ---- scheduled work ----

    async def sweep(self) -> None:
        """Missed deadlines, notifications still pending (after a restart), retention."""
        await self.handle_missed_deadlines()
        await self.deliver_pending()
        await self.apply_retention()

    async def handle_missed_deadlines(self) -> list[Escalation]:
        """Each overdue escalation is claimed with one conditional UPDATE, so the backup route is
        told once however many sweeps and processes run."""
        now = self.clock()
        missed: list[Escalation] = []
        async with self.uow.write() as repos:
            for escalation in await repos.escalations.overdue(now):
                route = self.config.routes.get(escalation.route)
                backup = rules.backup_of(route, self.config) if route else None
                after = rules.miss_deadline(escalation, backup, now)
                if not await repos.escalations.save(escalation, after):
                    continue
                await repos.staff.audit(None, DEADLINE_MISSED, OBJECT_TYPE, escalation.id, now)
                if backup is not None:
                    await self._queue_notifications(repos, after, backup, PURPOSE_BACKUP, now)
                missed.append(after)
        for escalation in missed:
            await self.events.publish(EscalationChanged(escalation))
            await self.events.publish(EscalationAlert(escalation, ALERT_DEADLINE_MISSED))
        if missed:
            await self.deliver_pending()
        return missed

    async def deliver_pending(self) -> int:
        async with self.uow.write() as repos:
            claimed = await repos.escalations.claim_pending_notifications(self.clock())
        for notification in claimed:
            outcome, provider_id = await self._deliver(notification)
            async with self.uow.write() as repos:
                await repos.escalations.finish_notification(
                    notification.id, outcome, provider_id, self.clock()
                )
                await repos.staff.audit(None, NOTIFIED, OBJECT_TYPE, notification.escalation_id, self.clock())
        return len(claimed)

    async def apply_retention(self) -> int:
        async with self.uow.write() as repos:
            deleted = await repos.escalations.delete_untouched_before(self.clock() - self.policy.retention)
        if deleted:
            log.info("escalation retention deleted %d escalations", deleted)
            await self.events.publish(RetentionPurged("escalations", deleted))
        return deleted

    async def close(self) -> None:
        """Wait for deliveries started after a commit; anything unsent is picked up by the next sweep."""
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    # ---- helpers ----

    def _may(self, user: StaffUser, action: Action, escalation: Escalation) -> bool:
        return permissions.allowed(user.role, action, escalation.ownership(user), escalation.facts())

    @staticmethod
    def _narrowing(user: StaffUser) -> tuple[int | None, list[str] | None]:
        """Which rows to fetch before the rules filter them: own drafts and the user's route.
        Roles that may read any escalation fetch everything."""
        read_rule = permissions.RULES[Action.ESCALATION_READ].get(user.role)
        if read_rule is not None and Ownership.OTHER in read_rule.ownership:
            return None, None
        return user.id, [user.route] if user.route else []

    async def _authorised(
        self, repos: Repositories, user: StaffUser, escalation_id: str, action: Action
    ) -> Escalation:
        """404 for anyone who may not read it (its existence is not revealed); 403 for a reader who
        may not do this action."""
        escalation = await repos.escalations.get(escalation_id)
        if escalation is None or not self._may(user, Action.ESCALATION_READ, escalation):
            raise NotFound("no such escalation")
        permissions.require(user.role, action, escalation.ownership(user), escalation.facts())
        return escalation

    async def _change(
        self,
        user: StaffUser,
        escalation_id: str,
        action: Action,
        change: Callable[[Escalation, datetime], Escalation],
    ) -> Escalation:
        now = self.clock()
        async with self.uow.write() as repos:
            before = await self._authorised(repos, user, escalation_id, action)
            after = change(before, now)
            if not await repos.escalations.save(before, after):
                raise Conflict("the escalation changed meanwhile; reload it")
            await self._audit(repos, user, action, after.id, now)
            if after.state is State.CLOSED_WITH_FEEDBACK and before.state is not State.CLOSED_WITH_FEEDBACK:
                await self.policy.records.escalation_closed(repos, after, now)
            if after.delivered and not before.delivered:
                await self._queue_notifications(
                    repos, after, self.config.route(after.route), PURPOSE_SENT, now
                )
        await self._announce(before, after)
        return after

    async def _audit(
        self,
        repos: Repositories,
        user: StaffUser,
        action: Action,
        escalation_id: str,
        now: datetime,
    ) -> None:
        await repos.staff.audit(user.id, action.value, OBJECT_TYPE, escalation_id, now)

    async def _queue_notifications(
        self, repos: Repositories, escalation: Escalation, route: Route, purpose: str, now: datetime
    ) -> None:
        if route.on_call_sms:
            if self.sms is None:
                log.warning("route %s has an on-call number but no SMS sender is configured", route.id)
            else:
                await repos.escalations.add_notification(escalation.id, route.id, SMS, purpose, now)
        if route.webhook and self.webhooks is not None:
            await repos.escalations.add_notification(escalation.id, route.id, WEBHOOK, purpose, now)

    async def _announce(self, before: Escalation, after: Escalation) -> None:
        """After the commit: consoles, then (once sent) the relative and the route's channels."""
        await self.events.publish(EscalationChanged(after))
        if not after.delivered or before.delivered:
            return
        if after.kind is Kind.IMMINENT_DANGER:
            await self.events.publish(EscalationAlert(after, ALERT_IMMINENT_DANGER))
        await self._tell_relative(after)
        task = asyncio.create_task(self._deliver_quietly(), name=f"escalation-delivery-{after.id}")
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _tell_relative(self, escalation: Escalation) -> None:
        """A system message in the relative's language. A closed conversation cannot take it; the
        relative still sees the status with their resume code."""
        if escalation.conversation_id is None:
            return
        text = self.config.kinds[escalation.kind].relative_notice(escalation.language)
        try:
            await self.messenger.post_message(
                escalation.conversation_id, f"escalation-{escalation.id}", text, Sender.SYSTEM
            )
        except DomainError as error:
            log.info("escalation %s: relative not told in the chat (%s)", escalation.id, error.code)

    async def _deliver_quietly(self) -> None:
        try:
            await self.deliver_pending()
        except Exception:
            log.exception("escalation delivery failed; the sweep retries pending notifications")

    async def _deliver(self, notification: Notification) -> tuple[str, str | None]:
        route = self.config.routes.get(notification.route)
        if route is None:
            return SmsOutcome.FAILED, None
        try:
            if notification.channel == SMS and self.sms is not None and route.on_call_sms:
                text = self.config.sms_new if notification.purpose == PURPOSE_SENT else self.config.sms_backup
                receipt = await self.sms.send(route.on_call_sms, text)
                return receipt.outcome, receipt.provider_id
            if notification.channel == WEBHOOK and self.webhooks is not None and route.webhook:
                payload = await self._webhook_payload(notification)
                if payload is None:
                    return SmsOutcome.FAILED, None
                return await self.webhooks.post(route.webhook.url, route.webhook.secret, payload), None
        except Exception:
            log.exception("escalation notification %d: outcome unknown", notification.id)
            return SmsOutcome.UNKNOWN, None
        return SmsOutcome.FAILED, None

    async def _webhook_payload(self, notification: Notification) -> dict[str, Any] | None:
        """Ids, kind, state and deadline only: the receiver signs in to the console for the rest."""
        async with self.uow.read() as repos:
            escalation = await repos.escalations.get(notification.escalation_id)
        if escalation is None:
            return None
        deadline = escalation.deadline
        return {
            "event": f"escalation.{notification.purpose}",
            "escalation_id": escalation.id,
            "route": notification.route,
            "kind": escalation.kind.value,
            "state": escalation.state.value,
            "deadline": deadline.isoformat() if deadline else None,
            "console_url": self.policy.console_url,
        }
