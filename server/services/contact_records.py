"""Writing contact records: one per ended conversation, appointment or escalation, inside the
transaction that ends it, so a record is never lost and never written twice (docs/statistics.md).

A record holds categories only. The conversation keeps its record's key (``record_key``) so the
relative's survey answer can reach it; the answer, or retention, removes that link."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from server.domain.booking.appointments import Appointment
from server.domain.conversations import Conversation
from server.domain.escalation import Escalation
from server.domain.statistics.buckets import duration_bucket
from server.domain.statistics.records import (
    DEFAULT_ROUTE,
    ESCALATION_CLOSED,
    NO_TOPIC,
    Channel,
    ContactRecord,
    StatisticsRules,
)
from server.domain.statistics.weeks import week_of
from server.services.ports.unit_of_work import Repositories


@dataclass(frozen=True)
class RecordPolicy:
    rules: StatisticsRules = field(default_factory=StatisticsRules)
    route: str = DEFAULT_ROUTE
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))


@dataclass(frozen=True)
class ContactRecorder:
    policy: RecordPolicy = field(default_factory=RecordPolicy)

    def _week(self, moment: datetime) -> str:
        return str(week_of(moment, self.policy.zone))

    def check_close(self, perspective: str | None, milieu: str | None) -> None:
        """Refuse an unknown perspective or milieu before anything is written."""
        if perspective is not None:
            self.policy.rules.perspective_for("", perspective)
        self.policy.rules.check_milieu(milieu)

    async def conversation_ended(
        self,
        repos: Repositories,
        closed: Conversation,
        perspective: str | None = None,
        milieu: str | None = None,
    ) -> None:
        ended = closed.closed_at or closed.created_at
        talked = ended - closed.claimed_at if closed.claimed_at is not None else None
        record = ContactRecord(
            week=self._week(ended),
            route=self.policy.route,
            language=closed.language,
            topic=closed.topic,
            perspective=self.policy.rules.perspective_for(closed.topic, perspective),
            milieu=self.policy.rules.check_milieu(milieu),
            outcome=closed.outcome or "other",
            duration_bucket=duration_bucket(talked),
            channel=Channel.CHAT,
            escalation_kind=None,
            came_back=await repos.records.came_back(closed.id),
        )
        await repos.records.link(closed.id, await repos.records.add(record))

    async def _topic_of(self, repos: Repositories, conversation_id: str | None) -> tuple[str, bool]:
        conversation = await repos.chat.get(conversation_id) if conversation_id else None
        if conversation is None:
            return NO_TOPIC, False
        return conversation.topic, await repos.records.came_back(conversation.id)

    async def appointment_ended(self, repos: Repositories, appointment: Appointment) -> None:
        topic, came_back = await self._topic_of(repos, appointment.conversation_id)
        attended = appointment.state.value == "attended"
        await repos.records.add(
            ContactRecord(
                week=self._week(appointment.start),
                route=self.policy.route,
                language=appointment.language,
                topic=topic,
                perspective=self.policy.rules.perspective_for(topic),
                milieu=None,
                outcome=appointment.state.value,
                duration_bucket=duration_bucket(appointment.end - appointment.start if attended else None),
                channel=self.policy.rules.channel_for(appointment.kind),
                escalation_kind=None,
                came_back=came_back,
            )
        )

    async def escalation_closed(self, repos: Repositories, escalation: Escalation, now: datetime) -> None:
        topic, came_back = await self._topic_of(repos, escalation.conversation_id)
        await repos.records.add(
            ContactRecord(
                week=self._week(now),
                route=escalation.route,
                language=escalation.language,
                topic=topic,
                perspective=self.policy.rules.perspective_for(topic),
                milieu=None,
                outcome=ESCALATION_CLOSED,
                duration_bucket=duration_bucket(now - escalation.created_at),
                channel=Channel.CHAT,
                escalation_kind=escalation.kind.value,
                came_back=came_back,
            )
        )
