"""Texts to relatives about their appointments: which reminders exist, when they are due, what a
due text becomes (sent, missed, superseded), how delivery reports move its state, and the words.

Every text is a row that moves only forward:

    pending -> sending -> sent -> delivered | undelivered | failed
                     \\-> failed            (the provider refused it)
                     \\-> unknown -> sent | pending (verified never sent) | failed
                     \\-> pending (throttled: never processed; again later) | failed (throttled too often)
                     \\-> suppressed (the provider says the number opted out)
    pending -> missed | superseded | withdrawn | suppressed
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class TextPurpose(enum.StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    CHANGE = "change"
    CANCELLATION = "cancellation"


class TextState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    UNKNOWN = "unknown"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    MISSED = "missed"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"
    SUPPRESSED = "suppressed"


#: States staff should look at: the relative may not have got the text.
PROBLEM_STATES = frozenset({TextState.FAILED, TextState.UNDELIVERED, TextState.UNKNOWN, TextState.MISSED})


def sms_problem(states: Iterable[TextState]) -> bool:
    """Whether an appointment's texts need a look from staff."""
    return any(state in PROBLEM_STATES for state in states)


FINAL_STATES = frozenset(
    {
        TextState.DELIVERED,
        TextState.UNDELIVERED,
        TextState.FAILED,
        TextState.MISSED,
        TextState.SUPERSEDED,
        TextState.WITHDRAWN,
        TextState.SUPPRESSED,
    }
)
#: Reports after acceptance only move a text forward along this order.
_DELIVERY_RANK = {TextState.SENT: 1, TextState.DELIVERED: 2, TextState.UNDELIVERED: 2, TextState.FAILED: 2}
#: Every message status Twilio documents (the Message resource's ``status`` enum), and what it makes
#: of an outbound text. None: a status that says nothing new about an outbound text and is ignored
#: (``receiving``/``received`` belong to inbound messages).
PROVIDER_STATUSES: dict[str, TextState | None] = {
    "accepted": TextState.SENT,
    "scheduled": TextState.SENT,
    "queued": TextState.SENT,
    "sending": TextState.SENT,
    "sent": TextState.SENT,
    "delivered": TextState.DELIVERED,
    "read": TextState.DELIVERED,
    "partially_delivered": TextState.UNDELIVERED,
    "undelivered": TextState.UNDELIVERED,
    "failed": TextState.FAILED,
    "canceled": TextState.FAILED,
    "receiving": None,
    "received": None,
}


def state_for_provider_status(status: str) -> TextState | None:
    """The state a provider status means for an outbound text; None for one to ignore (inbound
    statuses, and any status Twilio adds later, which is logged by the caller)."""
    return PROVIDER_STATUSES.get(status.lower())


def is_known_status(status: str) -> bool:
    return status.lower() in PROVIDER_STATUSES


def after_report(current: TextState, reported: TextState) -> TextState | None:
    """The state a delivery report moves a text to, or None when it would move it backwards
    (reports arrive out of order and are replayed)."""
    if current in (TextState.SENDING, TextState.UNKNOWN):
        return reported
    current_rank = _DELIVERY_RANK.get(current)
    if current_rank is None or _DELIVERY_RANK[reported] <= current_rank:
        return None
    return reported


@dataclass(frozen=True)
class ReminderPlan:
    offset: timedelta
    due_at: datetime


def plan_reminders(start: datetime, offsets: Sequence[timedelta], now: datetime) -> list[ReminderPlan]:
    """One reminder per configured offset that is still ahead; one already due at booking time is
    left out, the confirmation says the same thing."""
    plans: dict[datetime, ReminderPlan] = {}
    for offset in sorted(set(offsets), reverse=True):
        due = start - offset
        if due > now:
            plans.setdefault(due, ReminderPlan(offset, due))
    return sorted(plans.values(), key=lambda plan: plan.due_at)


@dataclass(frozen=True)
class DueText:
    id: int
    appointment_id: str
    purpose: TextPurpose
    due_at: datetime
    appointment_start: datetime
    appointment_booked: bool


@dataclass(frozen=True)
class Triage:
    send: list[int]
    missed: list[int]
    superseded: list[int]
    withdrawn: list[int]


def triage(due: Sequence[DueText], now: datetime) -> Triage:
    """Decide what due texts become. A reminder for an appointment that has begun is missed; of
    several reminders overdue for one appointment (after downtime) only the latest goes out; a
    reminder for an appointment no longer booked is withdrawn. Other texts always go."""
    send: list[int] = []
    missed: list[int] = []
    superseded: list[int] = []
    withdrawn: list[int] = []
    latest_reminder: dict[str, DueText] = {}
    for text in due:
        if text.purpose is not TextPurpose.REMINDER:
            send.append(text.id)
        elif not text.appointment_booked:
            withdrawn.append(text.id)
        elif text.appointment_start <= now:
            missed.append(text.id)
        else:
            previous = latest_reminder.get(text.appointment_id)
            if previous is None or text.due_at > previous.due_at:
                if previous is not None:
                    superseded.append(previous.id)
                latest_reminder[text.appointment_id] = text
            else:
                superseded.append(text.id)
    send.extend(text.id for text in latest_reminder.values())
    return Triage(sorted(send), missed, superseded, withdrawn)


@dataclass(frozen=True)
class Outcome:
    """What became of one text: its new state, the provider's id for it, and why when it failed."""

    text_id: int
    state: TextState
    provider_id: str | None
    error_code: str | None
    retry_at: datetime | None = None


#: Twilio's error for a recipient who has unsubscribed (replied an opt-out word): the number is
#: opted out in Kinline too, whether the REST API or a delivery report says so.
OPTED_OUT_ERRORS = frozenset({"21610"})
THROTTLED_ERROR = "20429"


@dataclass(frozen=True)
class Unresolved:
    """A text whose send outcome is unknown, with what the provider told us when asked."""

    state: TextState
    claimed_at: datetime
    attempts: int
    appointment_start: datetime
    purpose: TextPurpose


def after_unknown_not_found(
    text: Unresolved, now: datetime, grace: timedelta, max_attempts: int
) -> TextState | None:
    """The provider has no record of an unknown send. Within the grace period it may yet appear:
    wait (None). After it, the text was verifiably never sent: send it again (pending) while that
    still makes sense, otherwise it failed."""
    if now - text.claimed_at < grace:
        return None
    still_useful = text.purpose is not TextPurpose.REMINDER or text.appointment_start > now
    if still_useful and text.attempts < max_attempts:
        return TextState.PENDING
    return TextState.FAILED


@dataclass(frozen=True)
class ThrottlePolicy:
    """How long to wait after the provider said "too many requests" (never processed, always safe
    to send again), and how many times in a row before the text fails."""

    retries: int
    backoff: timedelta
    backoff_max: timedelta


def after_throttle(
    throttled_before: int, retry_after: timedelta | None, policy: ThrottlePolicy
) -> timedelta | None:
    """How long to wait before sending a throttled text again (exponential, never sooner than the
    provider's Retry-After), or None when it has been throttled ``retries`` times: it fails."""
    if throttled_before >= policy.retries:
        return None
    backoff: timedelta = min(policy.backoff * 2 ** min(throttled_before, 30), policy.backoff_max)
    return max(backoff, retry_after or timedelta(0))


# ---- words ----

Lookup = Callable[[str, str], str]


@dataclass(frozen=True)
class TextFacts:
    purpose: TextPurpose
    language: str
    kind: str
    start: datetime
    address: str = ""
    previous_start: datetime | None = None


def _when(lookup: Lookup, language: str, moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    weekdays = [name.strip() for name in lookup(language, "sms.weekdays").split(",")]
    weekday = weekdays[local.weekday()] if len(weekdays) == 7 else ""
    return lookup(language, "sms.when").format(
        weekday=weekday, day=local.day, month=local.month, time=local.strftime("%H:%M")
    )


def compose(facts: TextFacts, lookup: Lookup, zone: ZoneInfo, sender_name: str = "") -> str:
    """The neutral text: what, when, how to cancel. Never the service's purpose, never the chat."""
    language = facts.language
    what = lookup(language, f"sms.kind_{facts.kind}")
    if what == f"sms.kind_{facts.kind}":
        what = lookup(language, "sms.kind_other")
    template = lookup(language, f"sms.{facts.purpose.value}")
    body = template.format(
        what=what,
        when=_when(lookup, language, facts.start, zone),
        previous=_when(lookup, language, facts.previous_start or facts.start, zone),
        cancel_word=lookup(language, "sms.cancel_word"),
    )
    if facts.address and facts.purpose is not TextPurpose.CANCELLATION:
        body = f"{body} {lookup(language, 'sms.address').format(address=facts.address)}"
    if sender_name:
        body = f"{sender_name}: {body}"
    return body


# ---- replies ----


class Command(enum.StrEnum):
    CANCEL = "cancel"
    STOP = "stop"
    START = "start"
    OTHER = "other"


#: Twilio's default opt-out words (long codes and Messaging Services): Twilio blocks the number
#: itself, answers the sender, and forwards the text. CANCEL is one of them.
PROVIDER_STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel"}
)
#: Kinline's own opt-out words, which the provider does not know: Kinline answers them.
OWN_STOP_WORDS = frozenset({"stopp"})
STOP_WORDS = PROVIDER_STOP_WORDS | OWN_STOP_WORDS
#: Twilio's default opt-in words: Twilio lifts its block and answers the sender itself.
PROVIDER_START_WORDS = frozenset({"start", "unstop", "yes"})


@dataclass(frozen=True)
class Reply:
    """What a reply asks for: cancel the next appointment, opt out, opt in.
    ``answered_by_provider``: Twilio has acted on it and answered the sender, so Kinline does not."""

    cancels: bool = False
    opts_out: bool = False
    opts_in: bool = False
    answered_by_provider: bool = False

    @property
    def command(self) -> Command:
        if self.cancels:
            return Command.CANCEL
        if self.opts_out:
            return Command.STOP
        if self.opts_in:
            return Command.START
        return Command.OTHER


def normalise_word(text: str) -> str:
    """The first word of a reply, case-folded, without punctuation or marks around it."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    first = folded.split()[0] if folded.split() else ""
    return re.sub(r"^[\W_]+|[\W_]+$", "", first)


def read_reply(text: str, cancel_words: frozenset[str]) -> Reply:
    """The first word decides. Twilio acts only on a reply that is one of its words alone, so:
    an opt-out word opts out wherever it starts the reply (the stricter reading is the safe one);
    CANCEL alone also opts out (Twilio blocks the number on it), "cancel please" only cancels;
    an opt-in word lifts the opt-out only alone, as Twilio's does."""
    word = normalise_word(text)
    alone = len(unicodedata.normalize("NFKC", text).split()) == 1
    provider_word = alone and (word in PROVIDER_STOP_WORDS or word in PROVIDER_START_WORDS)
    cancels = word in cancel_words
    stop_word = word in STOP_WORDS and (alone or not cancels)
    return Reply(
        cancels=cancels,
        opts_out=stop_word,
        opts_in=alone and word in PROVIDER_START_WORDS,
        answered_by_provider=provider_word,
    )


def classify(text: str, cancel_words: frozenset[str]) -> Command:
    return read_reply(text, cancel_words).command
