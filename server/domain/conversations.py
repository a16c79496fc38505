"""Conversations: states, transitions, and the rules for messages. Pure; no I/O."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property, total_ordering
from typing import Any

from server.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from server.domain.knowledge import ResourceCard
from server.domain.text import clean_text


class State(enum.StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class Sender(enum.StrEnum):
    RELATIVE = "relative"
    COUNSELLOR = "counsellor"
    BOT = "bot"
    SYSTEM = "system"


DEFAULT_TOPIC = "worried_about_someone"
LEFT_BY_RELATIVE = "left_by_relative"
ABANDONED = "abandoned"
# Closed by the server: no message from the relative or a counsellor for chat.auto_close_after.
INACTIVE = "inactive"
#: Outcomes the server sets itself; a counsellor never picks them (chat.outcomes).
SYSTEM_OUTCOMES = (LEFT_BY_RELATIVE, ABANDONED, INACTIVE)
DANGER_PRIORITY = 10


class LanguageChoice(enum.StrEnum):
    """What a relative waiting in a language chose: wait for a counsellor who speaks it, or take
    the next counsellor in a shared language. Until they choose, the queue treats them as ANY."""

    WAIT = "wait"
    ANY = "any"


@dataclass(frozen=True)
class Conversation:
    id: str
    language: str
    topic: str
    state: State
    created_at: datetime
    priority: int = 0
    priority_reason: str | None = None
    counsellor_id: int | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    last_seq: int = 0
    counsellor_read_seq: int = 0
    # Since when no socket of the relative has been connected (set at creation, cleared on connect).
    relative_gone_since: datetime | None = None
    language_choice: LanguageChoice | None = None
    # A second member of staff who joined the active conversation (domain.supervision.join).
    colleague_id: int | None = None

    def is_held_by(self, counsellor_id: int) -> bool:
        return self.state is State.ACTIVE and self.counsellor_id == counsellor_id

    def staff_ids(self) -> set[int]:
        """Who reads along as it happens: the holder and a joined colleague."""
        return {user_id for user_id in (self.counsellor_id, self.colleague_id) if user_id is not None}

    @cached_property
    def order_key(self) -> tuple[object, ...]:
        """queue_order_key, made once per object: every queue round sorts the whole queue by it,
        in several views, and the store hands out the same object while its row is unchanged."""
        return queue_order_key(self)


def claim(conversation: Conversation, counsellor_id: int, now: datetime) -> Conversation:
    """The holder claiming again (a retry after a lost ack) gets the conversation unchanged."""
    if conversation.is_held_by(counsellor_id):
        return conversation
    if conversation.state is State.ACTIVE:
        raise Conflict("another counsellor has claimed this conversation", code="already_claimed")
    if conversation.state is State.CLOSED:
        raise InvalidTransition("the conversation is closed", code="conversation_closed")
    return replace(conversation, state=State.ACTIVE, counsellor_id=counsellor_id, claimed_at=now)


def transfer(conversation: Conversation, from_id: int, to_id: int) -> Conversation:
    require_holder(conversation, from_id)
    if to_id == from_id:
        raise InvalidInput("cannot transfer to yourself", code="invalid_request")
    return replace(conversation, counsellor_id=to_id)


def close(conversation: Conversation, outcome: str, now: datetime) -> Conversation:
    if conversation.state is State.CLOSED:
        raise InvalidTransition("the conversation is already closed", code="conversation_closed")
    return replace(conversation, state=State.CLOSED, closed_at=now, outcome=outcome)


def choose_language(conversation: Conversation, choice: LanguageChoice) -> Conversation:
    if conversation.state is not State.WAITING:
        raise InvalidTransition("only a waiting conversation can choose", code="not_waiting")
    return replace(conversation, language_choice=choice)


def require_holder(conversation: Conversation, counsellor_id: int) -> None:
    if not conversation.is_held_by(counsellor_id):
        raise Forbidden("you do not hold this conversation", code="not_holder")


def require_open(conversation: Conversation) -> None:
    if conversation.state is State.CLOSED:
        raise InvalidTransition("the conversation is closed", code="conversation_closed")


def check_capacity(active_count: int, capacity: int) -> None:
    if active_count >= capacity:
        raise Conflict(f"capacity of {capacity} conversations reached", code="capacity_reached")


def check_outcome(outcome: str, allowed: list[str]) -> None:
    if outcome not in allowed:
        raise InvalidInput(f"unknown outcome {outcome!r}", code="unknown_outcome")


def check_text(text: str, max_length: int) -> str:
    """Messages and notes are plain text: cleaned (domain.text), stripped of surrounding
    whitespace, never empty, bounded."""
    stripped = clean_text(text).strip()
    if not stripped:
        raise InvalidInput("the message is empty", code="empty_text")
    if len(stripped) > max_length:
        raise InvalidInput(f"messages are limited to {max_length} characters", code="text_too_long")
    return stripped


def raise_priority(conversation: Conversation, reason: str) -> Conversation:
    return replace(conversation, priority=max(conversation.priority, DANGER_PRIORITY), priority_reason=reason)


def flag_danger(conversation: Conversation, reason: str) -> Conversation:
    """The reason is shown, but the conversation keeps its place: another conversation from the
    same address already holds raised priority."""
    return replace(conversation, priority_reason=reason)


def mark_danger(conversation: Conversation, reason: str, *, keeps_place: bool) -> Conversation | None:
    """Danger words raise priority once: None when the conversation already carries a reason or is
    closed. ``keeps_place``: another conversation from the same client address already holds
    raised priority, so this one is only flagged."""
    if conversation.priority_reason is not None or conversation.state is State.CLOSED:
        return None
    return (flag_danger if keeps_place else raise_priority)(conversation, reason)


def last_activity(conversation: Conversation, last_message_at: datetime | None) -> datetime:
    """When the conversation last moved: started, claimed, or the last message of the relative or
    a counsellor (the bot's waiting updates do not count)."""
    moments = [conversation.created_at, conversation.claimed_at, last_message_at]
    return max(moment for moment in moments if moment is not None)


def is_inactive(conversation: Conversation, last_message_at: datetime | None, cutoff: datetime) -> bool:
    """An open conversation that has not moved since ``cutoff`` closes as INACTIVE."""
    return conversation.state is not State.CLOSED and last_activity(conversation, last_message_at) <= cutoff


def relative_closed_reason(conversation: Conversation) -> str | None:
    """What a relative is told about why their conversation closed: only that the server closed
    it for inactivity; a counsellor's outcome is never shown to them."""
    return INACTIVE if conversation.state is State.CLOSED and conversation.outcome == INACTIVE else None


def is_away(conversation: Conversation, now: datetime, away_after: timedelta) -> bool:
    """A waiting conversation whose relative has had no page open for ``away_after``. The same
    test at ``abandon_after`` closes it; that one runs in SQL (ChatRepository.gone_waiting)."""
    gone = conversation.relative_gone_since
    return conversation.state is State.WAITING and gone is not None and now - gone >= away_after


@dataclass(frozen=True)
class SortKey:
    """One step of an order: a Conversation field (and the column of the same name) and its
    direction."""

    field: str
    descending: bool = False


#: The order the queue is served in: higher priority first, then who has waited longest, then the
#: id, so no two conversations tie. The SQL of the queue is built from it (adapters/db/queue_order.py).
QUEUE_ORDER = (SortKey("priority", descending=True), SortKey("created_at"), SortKey("id"))


@total_ordering
class _Descending:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and bool(self.value == other.value)

    def __lt__(self, other: _Descending) -> bool:
        return bool(self.value > other.value)

    __hash__ = None  # type: ignore[assignment]


def queue_order_key(conversation: Conversation) -> tuple[object, ...]:
    """Sorts conversations in QUEUE_ORDER. A descending number is negated rather than wrapped, so
    comparing two keys stays in C (the queue rounds sort the whole queue by them)."""
    values = ((key, getattr(conversation, key.field)) for key in QUEUE_ORDER)
    return tuple(_descending(value) if key.descending else value for key, value in values)


def _descending(value: Any) -> object:
    return -value if isinstance(value, int | float) and not isinstance(value, bool) else _Descending(value)


def needs_language(conversation: Conversation, languages: Collection[str]) -> bool:
    """The relative waits for their own language and a counsellor with ``languages`` lacks it."""
    return conversation.language_choice is LanguageChoice.WAIT and conversation.language not in languages


def view_key(conversation: Conversation, languages: Collection[str]) -> tuple[object, ...]:
    """A conversation's place in the view of a counsellor who speaks ``languages``: its group
    (their languages, the others, those waiting for a language they lack), then QUEUE_ORDER."""
    if conversation.language in languages:
        return (0, conversation.order_key)
    return (2 if needs_language(conversation, languages) else 1, conversation.order_key)


def queue_view(waiting: Iterable[Conversation], languages: Collection[str]) -> list[Conversation]:
    """The queue as a counsellor who speaks ``languages`` sees it: conversations in those languages
    first, then the others, then those waiting for a language the counsellor lacks; QUEUE_ORDER
    within each group."""
    return sorted(waiting, key=lambda conversation: view_key(conversation, languages))


@dataclass(frozen=True)
class Place:
    """A waiting conversation's position and the view it is counted in (its ``line``: the language
    set of the counsellors whose view gives it)."""

    line: frozenset[str]
    position: int


def queue_places(waiting: Collection[Conversation], online: Collection[frozenset[str]]) -> dict[str, Place]:
    """Each waiting conversation's 1-based position: its place in the view (queue_view) of the
    counsellor who will reach it soonest. That is the online counsellors who speak its language;
    when none is online, any online counsellor unless the relative waits for their language; when
    nobody can take it now, a counsellor who speaks only its language (the one it waits for).
    Between views that give the same position, the one whose languages sort first."""
    views = {languages: _places(queue_view(waiting, languages)) for languages in set(online)}
    alone: dict[str, dict[str, int]] = {}
    places: dict[str, Place] = {}
    for conversation in waiting:
        lines = _candidate_lines(conversation, views)
        if len(lines) == 1:
            places[conversation.id] = Place(lines[0], views[lines[0]][conversation.id])
        elif lines:
            places[conversation.id] = _soonest(
                Place(languages, views[languages][conversation.id]) for languages in lines
            )
        else:
            line = frozenset({conversation.language})
            if conversation.language not in alone:
                alone[conversation.language] = _places(queue_view(waiting, line))
            places[conversation.id] = Place(line, alone[conversation.language][conversation.id])
    return places


def queue_place(
    conversation: Conversation, waiting: Collection[Conversation], online: Collection[frozenset[str]]
) -> Place:
    """``queue_places(waiting, online)[conversation.id]`` without sorting the whole queue: a count
    of those ahead in each view, for a page that asks for its own place alone."""
    lines = _candidate_lines(conversation, set(online)) or [frozenset({conversation.language})]
    return _soonest(Place(line, _position_in_view(conversation, waiting, line)) for line in lines)


def _candidate_lines(conversation: Conversation, views: Collection[frozenset[str]]) -> list[frozenset[str]]:
    """The online views that may take it: those speaking its language; else, unless the relative
    waits for their language, all of them. Empty when nobody online can take it now."""
    speakers = [languages for languages in views if conversation.language in languages]
    if not speakers and conversation.language_choice is not LanguageChoice.WAIT:
        speakers = list(views)
    return speakers


def _soonest(places: Iterable[Place]) -> Place:
    """Between views that give the same position, the one whose languages sort first."""
    return min(places, key=lambda place: (place.position, sorted(place.line)))


def _position_in_view(
    conversation: Conversation, waiting: Iterable[Conversation], line: frozenset[str]
) -> int:
    """Its 1-based index in ``queue_view(waiting, line)``: one more than those with a lower key
    (keys end with the id, so no two are equal)."""
    key = view_key(conversation, line)
    return 1 + sum(1 for other in waiting if view_key(other, line) < key)


def queue_positions(waiting: Collection[Conversation], online: Collection[frozenset[str]]) -> dict[str, int]:
    return {
        conversation_id: place.position for conversation_id, place in queue_places(waiting, online).items()
    }


def language_online(conversation: Conversation, online: Collection[frozenset[str]]) -> bool:
    return any(conversation.language in languages for languages in online)


def _places(ordered: list[Conversation]) -> dict[str, int]:
    return {conversation.id: index for index, conversation in enumerate(ordered, start=1)}


def wait_per_position(recent_waits: list[float], fallback: float, counsellors_online: int) -> float:
    """Seconds of waiting per place in the queue: the median of recent waits (at least 30 s),
    shared across online counsellors."""
    if recent_waits:
        ordered = sorted(recent_waits)
        per_conversation = ordered[len(ordered) // 2]
    else:
        per_conversation = fallback
    return max(per_conversation, 30.0) / max(counsellors_online, 1)


def estimate_wait_seconds(position: int, per_position: float) -> int:
    """Whole seconds, rounded down; a page that derives its position from the queue broadcast
    computes the same (``Math.floor(per_position * position)``)."""
    return int(per_position * position)


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    seq: int
    sender: Sender
    text: str
    sent_at: datetime
    client_id: str = ""
    # A resource sent with send_resource; ``text`` then holds its plain version.
    card: ResourceCard | None = None


@dataclass(frozen=True)
class Note:
    id: int
    conversation_id: str
    author: str
    text: str
    created_at: datetime
