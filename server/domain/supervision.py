"""Supervision: what a supervisor sees of the line right now, the alerts it raises, and the rules
for joining and reassigning a conversation. Pure; no I/O.

The overview carries timestamps, never durations: the console counts the time waited or active
from them against the overview's own ``at``, so a view pushed once stays right as time passes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from server.domain.conversations import Conversation, State
from server.domain.errors import Conflict, InvalidInput, InvalidTransition
from server.domain.escalation import Escalation
from server.domain.staff import StaffUser

Change = Callable[[Conversation], Conversation]


class AlertKind(enum.StrEnum):
    LONG_WAIT = "long_wait"
    DANGER_WORD = "danger_word"
    ESCALATION_DEADLINE = "escalation_deadline"


@dataclass(frozen=True)
class Alert:
    """``since``: when the alert's condition began (the wait passed the limit, the conversation
    started with a danger word flagged) or, for an escalation, its deadline."""

    kind: AlertKind
    since: datetime
    conversation_id: str | None = None
    escalation_id: str | None = None

    @property
    def key(self) -> str:
        """Stable across pushes, so the console notifies once per alert."""
        return f"{self.kind}:{self.conversation_id or self.escalation_id}"


@dataclass(frozen=True)
class LiveConversation:
    conversation: Conversation
    last_message_at: datetime | None
    escalation_draft: bool
    away: bool

    @property
    def danger(self) -> bool:
        return self.conversation.priority_reason is not None


@dataclass(frozen=True)
class LiveCounsellor:
    user: StaffUser
    load: int
    capacity: int
    online: bool
    last_active_at: datetime | None


@dataclass(frozen=True)
class Counts:
    waiting: int
    active: int
    longest_wait_seconds: int
    counsellors_online: int


@dataclass(frozen=True)
class Overview:
    at: datetime
    conversations: list[LiveConversation]
    counsellors: list[LiveCounsellor]
    alerts: list[Alert]

    @property
    def counts(self) -> Counts:
        waiting = [c.conversation for c in self.conversations if c.conversation.state is State.WAITING]
        longest = max((self.at - c.created_at for c in waiting), default=timedelta(0))
        return Counts(
            waiting=len(waiting),
            active=len(self.conversations) - len(waiting),
            longest_wait_seconds=max(int(longest.total_seconds()), 0),
            counsellors_online=sum(1 for c in self.counsellors if c.online),
        )


@dataclass(frozen=True)
class AlertRules:
    wait_alert: timedelta
    deadline_warning: timedelta


def alerts(
    conversations: Iterable[LiveConversation],
    escalations: Iterable[Escalation],
    now: datetime,
    rules: AlertRules,
) -> list[Alert]:
    """A relative waiting longer than ``wait_alert``; an open conversation with a danger word; an
    escalation sent and not acknowledged whose deadline is within ``deadline_warning`` (or past)."""
    found: list[Alert] = []
    for live in conversations:
        conversation = live.conversation
        if conversation.state is State.CLOSED:
            continue
        if live.danger:
            found.append(Alert(AlertKind.DANGER_WORD, conversation.created_at, conversation.id))
        waited = now - conversation.created_at
        if conversation.state is State.WAITING and waited >= rules.wait_alert:
            found.append(
                Alert(AlertKind.LONG_WAIT, conversation.created_at + rules.wait_alert, conversation.id)
            )
    for escalation in escalations:
        deadline = escalation.deadline
        if escalation.is_overdue(now + rules.deadline_warning) and deadline is not None:
            found.append(Alert(AlertKind.ESCALATION_DEADLINE, deadline, escalation_id=escalation.id))
    return sorted(found, key=lambda alert: (alert.since, alert.key))


def live_counsellors(
    users: Iterable[StaffUser],
    loads: Mapping[int, int],
    capacity: int,
    last_active: Mapping[int, datetime],
    online_ids: Collection[int],
    now: datetime,
    online_window: timedelta,
) -> list[LiveCounsellor]:
    """Every active member of staff who may hold conversations. Online: a console open in this
    process, or any activity within ``online_window`` (another process's consoles)."""
    counsellors = []
    for user in users:
        seen = last_active.get(user.id)
        online = user.id in online_ids or (seen is not None and now - seen <= online_window)
        counsellors.append(LiveCounsellor(user, loads.get(user.id, 0), capacity, online, seen))
    return sorted(counsellors, key=lambda c: (not c.online, c.user.display_name.casefold(), c.user.id))


def check_reason(reason: str, reasons: Collection[str]) -> str:
    """A supervisor reads a conversation for one of the configured reasons (ids, never free text:
    the audit log holds no content)."""
    if reason not in reasons:
        raise InvalidInput(f"reason must be one of {sorted(reasons)}", code="unknown_reason")
    return reason


def join(conversation: Conversation, colleague_id: int) -> Conversation:
    """A second counsellor joins an active conversation. One colleague at a time; joining again
    is a no-op (a retry after a lost ack)."""
    if conversation.state is not State.ACTIVE:
        raise InvalidTransition("only an active conversation can be joined", code="not_active")
    if conversation.counsellor_id == colleague_id:
        raise InvalidInput("you already hold this conversation", code="already_holder")
    if conversation.colleague_id == colleague_id:
        return conversation
    if conversation.colleague_id is not None:
        raise Conflict("a colleague has already joined this conversation", code="colleague_present")
    return replace(conversation, colleague_id=colleague_id)


def leave(conversation: Conversation, colleague_id: int) -> Conversation:
    if conversation.colleague_id != colleague_id:
        raise InvalidTransition("you have not joined this conversation", code="not_joined")
    return replace(conversation, colleague_id=None)


def reassign(conversation: Conversation, to_id: int) -> Conversation:
    """A supervisor hands an active conversation to another counsellor. A colleague who is given
    the conversation stops being its colleague."""
    if conversation.state is not State.ACTIVE:
        raise InvalidTransition("only an active conversation can be reassigned", code="not_active")
    if conversation.counsellor_id == to_id:
        raise InvalidInput("the conversation is already theirs", code="invalid_request")
    colleague = None if conversation.colleague_id == to_id else conversation.colleague_id
    return replace(conversation, counsellor_id=to_id, colleague_id=colleague)
