"""Free slots: when one appointment of a kind fits a counsellor's availability and busy time,
which group sessions still have seats, and which counsellor takes a booking."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.booking.availability import Availability
from server.domain.booking.kinds import KindRules
from server.domain.booking.local_time import local_instant
from server.domain.errors import Conflict, InvalidInput

MAX_QUERY_SPAN = timedelta(days=62)
#: Busy intervals are read this far around a requested start; no appointment is longer.
BUSY_MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class Counsellor:
    id: int
    availability: Availability
    last_assignment: int = 0

    def speaks(self, language: str) -> bool:
        return language in self.availability.languages

    def takes(self, kind: KindRules, language: str) -> bool:
        """Whether the counsellor can hold a booking of ``kind`` in ``language``: in that language,
        or, with an interpreter, in one of the kind's counsellor languages."""
        return any(self.speaks(spoken) for spoken in kind.held_in(language))


@dataclass(frozen=True)
class Busy:
    """Time a counsellor is taken: an appointment from its start to its end plus its buffer."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class GroupSession:
    kind: str
    start: datetime
    counsellor_id: int
    seats_taken: int


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    kind: str
    seats_left: int


@dataclass(frozen=True)
class SlotQuery:
    kind: KindRules
    language: str
    start: datetime
    end: datetime
    now: datetime

    def bounds(self) -> tuple[datetime, datetime]:
        """The query window cut to the kind's minimum notice and horizon."""
        return max(self.start, self.now + self.kind.min_notice), min(self.end, self.now + self.kind.horizon)


def check_query_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from and to need a UTC offset", code="invalid_time")
    if end <= start:
        raise InvalidInput("to must be after from", code="invalid_time")
    if end - start > MAX_QUERY_SPAN:
        raise InvalidInput(f"ask for at most {MAX_QUERY_SPAN.days} days at a time", code="range_too_long")


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def window_instants(availability: Availability, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    result = []
    for start, end in availability.windows_on(day):
        opens = local_instant(day, start, zone)
        closes = local_instant(day, end, zone, closing=True)
        if closes > opens:
            result.append((opens, closes))
    return result


def counsellor_starts(
    availability: Availability, kind: KindRules, zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[datetime]:
    """Every start in [start, end) where one appointment of ``kind`` fits inside an availability
    window. Windows are walked in absolute time, so a window spanning a clock change keeps its true
    length; each is opened and closed at its local wall-clock times."""
    duration, step = kind.duration, kind.step
    for day in _local_days(start, end, zone):
        for opens, closes in window_instants(availability, day, zone):
            moment = opens
            if moment < start:
                moment += step * -((opens - start) // step)
            while moment + duration <= closes and moment < end:
                yield moment
                moment += step


def group_starts(kind: KindRules, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    for day in _local_days(start, end, zone):
        for minute in kind.schedule.starts_on(day):
            moment = local_instant(day, minute, zone)
            if start <= moment < end:
                yield moment


def covers(availability: Availability, zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether one availability window holds [start, end) completely."""
    for day in (start.astimezone(zone).date() - timedelta(days=1), start.astimezone(zone).date()):
        for opens, closes in window_instants(availability, day, zone):
            if opens <= start and end <= closes:
                return True
    return False


class BusyIndex:
    """Per-counsellor busy intervals, sorted, for fast overlap checks."""

    def __init__(self, busy: Mapping[int, Sequence[Busy]]) -> None:
        self._starts: dict[int, list[datetime]] = {}
        self._ends: dict[int, list[datetime]] = {}
        for counsellor_id, intervals in busy.items():
            ordered = sorted(intervals, key=lambda b: b.start)
            self._starts[counsellor_id] = [b.start for b in ordered]
            self._ends[counsellor_id] = _running_max([b.end for b in ordered])

    def is_free(self, counsellor_id: int, start: datetime, end: datetime) -> bool:
        starts = self._starts.get(counsellor_id)
        if not starts:
            return True
        index = bisect_right(starts, end) - 1
        while index >= 0 and starts[index] >= end:
            index -= 1
        return index < 0 or self._ends[counsellor_id][index] <= start


def _running_max(values: list[datetime]) -> list[datetime]:
    result: list[datetime] = []
    for value in values:
        result.append(max(result[-1], value) if result else value)
    return result


def occupied_until(kind: KindRules, start: datetime) -> datetime:
    return start + kind.duration + kind.buffer


def free_counsellors(
    query: SlotQuery,
    zone: ZoneInfo,
    counsellors: Sequence[Counsellor],
    busy: BusyIndex,
    slot_start: datetime,
) -> list[Counsellor]:
    """Counsellors who speak the language, are free at ``slot_start`` and, for a single kind, have
    a slot starting exactly there."""
    kind = query.kind
    occupied_end = occupied_until(kind, slot_start)
    free = []
    for counsellor in counsellors:
        if not counsellor.takes(kind, query.language):
            continue
        if not busy.is_free(counsellor.id, slot_start, occupied_end):
            continue
        if kind.is_group:
            if covers(counsellor.availability, zone, slot_start, slot_start + kind.duration):
                free.append(counsellor)
        elif slot_start in set(
            counsellor_starts(
                counsellor.availability, kind, zone, slot_start, slot_start + timedelta(seconds=1)
            )
        ):
            free.append(counsellor)
    return free


def available_slots(
    query: SlotQuery,
    zone: ZoneInfo,
    counsellors: Sequence[Counsellor],
    busy: BusyIndex,
    sessions: dict[datetime, GroupSession],
) -> list[Slot]:
    """The free slots a relative can book, without saying who is behind them. For a single kind
    ``seats_left`` is how many counsellors are free then; for a group kind, the seats left."""
    start, end = query.bounds()
    if end <= start:
        return []
    kind = query.kind
    if kind.is_group:
        return _group_slots(query, zone, counsellors, busy, sessions, start, end)
    counts: dict[datetime, int] = {}
    for counsellor in counsellors:
        if not counsellor.takes(kind, query.language):
            continue
        for moment in counsellor_starts(counsellor.availability, kind, zone, start, end):
            if busy.is_free(counsellor.id, moment, occupied_until(kind, moment)):
                counts[moment] = counts.get(moment, 0) + 1
    return [Slot(moment, moment + kind.duration, kind.name, counts[moment]) for moment in sorted(counts)]


def languages_with_slots(
    query: SlotQuery,
    languages: Sequence[str],
    zone: ZoneInfo,
    counsellors: Sequence[Counsellor],
    busy: BusyIndex,
    sessions: dict[datetime, GroupSession],
) -> list[str]:
    """The languages, of ``languages`` and in their order, with at least one free slot of the
    query's kind in its window (the query's own language is not used)."""
    return [
        language
        for language in languages
        if available_slots(replace(query, language=language), zone, counsellors, busy, sessions)
    ]


def _group_slots(
    query: SlotQuery,
    zone: ZoneInfo,
    counsellors: Sequence[Counsellor],
    busy: BusyIndex,
    sessions: dict[datetime, GroupSession],
    start: datetime,
    end: datetime,
) -> list[Slot]:
    kind = query.kind
    slots = []
    for moment in group_starts(kind, zone, start, end):
        session = sessions.get(moment)
        if session is not None:
            seats_left = kind.seats - session.seats_taken
            if session_host(session, counsellors, query.language) is not None and seats_left > 0:
                slots.append(Slot(moment, moment + kind.duration, kind.name, seats_left))
        elif free_counsellors(query, zone, counsellors, busy, moment):
            slots.append(Slot(moment, moment + kind.duration, kind.name, kind.seats))
    return slots


def session_host(
    session: GroupSession, counsellors: Sequence[Counsellor], language: str
) -> Counsellor | None:
    """The counsellor who holds a group session that has begun to fill, if the session is held in
    ``language``: a relative joins only a session in their language."""
    host = next((c for c in counsellors if c.id == session.counsellor_id), None)
    return host if host is not None and host.speaks(language) else None


def require_session_host(
    session: GroupSession, counsellors: Sequence[Counsellor], language: str
) -> Counsellor:
    host = session_host(session, counsellors, language)
    if host is None:
        raise Conflict("this session is not held in your language", code="slot_taken")
    return host


def check_bookable(query: SlotQuery, zone: ZoneInfo, start: datetime) -> None:
    """A requested start must fall inside notice and horizon, and on a group's schedule."""
    if start.tzinfo is None:
        raise InvalidInput("start needs a UTC offset", code="invalid_time")
    earliest, latest = query.bounds()
    if not earliest <= start < latest:
        raise Conflict("this time cannot be booked (too soon or too far ahead)", code="slot_taken")
    if query.kind.is_group and start not in set(
        group_starts(query.kind, zone, start, start + timedelta(seconds=1))
    ):
        raise Conflict("no group session starts at this time", code="slot_taken")


def pick_counsellor(candidates: Sequence[Counsellor], preferred_id: int | None = None) -> Counsellor:
    """Round robin: the preferred counsellor when free (the one who offered the time in a chat),
    otherwise whoever was given an appointment least recently (``last_assignment`` is a running
    number; 0 is never), then the lowest id."""
    if not candidates:
        raise Conflict("this time has just been taken", code="slot_taken")
    for candidate in candidates:
        if candidate.id == preferred_id:
            return candidate
    return min(candidates, key=lambda c: (c.last_assignment, c.id))
