"""Booking rules: weekly availability, appointment kinds, slot computation and the appointment
state machine. Pure: times come in as aware datetimes and leave as UTC; local wall-clock rules
are resolved with zoneinfo, so slots stay on the same local times across daylight-saving changes.

A window opens at the first moment the local clock shows its start and closes when the clock last
shows a time before its end: a time inside the spring gap is the moment the clock jumps, and a time
the autumn fold shows twice opens at its first occurrence and closes at its second."""

from __future__ import annotations

import enum
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from server.domain.errors import Conflict, InvalidInput, NotFound

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
MAX_QUERY_SPAN = timedelta(days=62)


# ---- local time ----


@lru_cache(maxsize=16384)
def local_instant(day: date, minute: int, zone: ZoneInfo, *, closing: bool = False) -> datetime:
    """The UTC instant at which a local wall-clock minute begins on ``day``, for opening a window,
    or the instant the clock last shows an earlier time, for closing one. Minute 1440 is the next
    midnight. A time inside the spring gap is the moment the clock jumps; a time the autumn fold
    shows twice opens at its first occurrence and closes at its second (unless the fold begins
    exactly there: the clock last showed an earlier time just before the first)."""
    if minute >= MINUTES_PER_DAY:
        return local_instant(day + timedelta(days=1), minute - MINUTES_PER_DAY, zone, closing=closing)
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    first_utc, second_utc = first.astimezone(UTC), second.astimezone(UTC)
    if _wall(first_utc, zone) != naive:  # in the gap, fold=1 reads the later offset: an earlier instant
        return _clock_change(second_utc, first_utc, zone)
    if closing and _wall(second_utc - timedelta(minutes=1), zone) < naive:
        return second_utc
    return first_utc


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _clock_change(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first whole minute in (before, after] with the later UTC offset (clocks change on
    whole minutes)."""
    offset_after = after.astimezone(zone).utcoffset()
    low, high = 0, int((after - before).total_seconds() // 60)
    while low < high:
        middle = (low + high) // 2
        if (before + timedelta(minutes=middle)).astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle + 1
    return before + timedelta(minutes=low)


def parse_clock(text: str) -> int:
    """``"HH:MM"`` -> minutes after midnight; ``"24:00"`` is accepted as the end of the day."""
    match = re.fullmatch(r"([01]\d|2[0-4]):([0-5]\d)", text.strip())
    if match is None:
        raise InvalidInput("not a time of day (use HH:MM)", code="invalid_time")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > MINUTES_PER_DAY:
        raise InvalidInput("not a time of day (use HH:MM, at most 24:00)", code="invalid_time")
    return minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---- availability ----


@dataclass(frozen=True, order=True)
class WeeklyWindow:
    """A recurring local interval; ``weekday`` 0 is Monday; minutes after local midnight."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class DateException:
    """``available=False`` without times: the whole day off. With times: only that interval off.
    ``available=True`` with times: an extra interval on that date."""

    day: date
    available: bool
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Availability:
    languages: tuple[str, ...] = ()
    weekly: tuple[WeeklyWindow, ...] = ()
    exceptions: tuple[DateException, ...] = ()

    @cached_property
    def _weekly_by_day(self) -> dict[int, list[tuple[int, int]]]:
        by_day: dict[int, list[tuple[int, int]]] = {}
        for window in self.weekly:
            by_day.setdefault(window.weekday, []).append((window.start, window.end))
        return by_day

    @cached_property
    def _exceptions_by_date(self) -> dict[date, list[DateException]]:
        by_date: dict[date, list[DateException]] = {}
        for exception in self.exceptions:
            by_date.setdefault(exception.day, []).append(exception)
        return by_date

    def windows_on(self, day: date) -> list[tuple[int, int]]:
        """Local (start, end) minute intervals on one date, exceptions applied, merged and sorted."""
        exceptions = self._exceptions_by_date.get(day, [])
        weekly = self._weekly_by_day.get(day.weekday(), [])
        if not exceptions:
            return _merge(weekly)
        if any(not e.available and e.start is None for e in exceptions):
            return []
        intervals = list(weekly)
        intervals += [(e.start, e.end) for e in exceptions if e.available and e.start is not None and e.end]
        merged = _merge(intervals)
        for blocked in exceptions:
            if not blocked.available and blocked.start is not None and blocked.end is not None:
                merged = _subtract(merged, (blocked.start, blocked.end))
        return merged


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def _subtract(intervals: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    result = []
    for start, end in intervals:
        if end <= cut[0] or start >= cut[1]:
            result.append((start, end))
            continue
        if start < cut[0]:
            result.append((start, cut[0]))
        if end > cut[1]:
            result.append((cut[1], end))
    return result


def build_availability(
    languages: Sequence[str],
    weekly: Sequence[tuple[int, str, str]],
    exceptions: Sequence[tuple[str, bool, str | None, str | None]],
    supported_languages: Sequence[str],
) -> Availability:
    """Validate the editor's input (times local, Monday = 0) into an Availability."""
    unknown = sorted(set(languages) - set(supported_languages))
    if unknown:
        raise InvalidInput(f"languages: use only {sorted(supported_languages)}", code="unsupported_language")
    windows = []
    for weekday, start_text, end_text in weekly:
        if not 0 <= weekday <= 6:
            raise InvalidInput("weekday must be 0 (Monday) to 6 (Sunday)", code="invalid_weekday")
        start, end = parse_clock(start_text), parse_clock(end_text)
        if end <= start:
            raise InvalidInput(f"{start_text}-{end_text} ends before it starts", code="invalid_interval")
        windows.append(WeeklyWindow(weekday, start, end))
    parsed_exceptions = []
    for day_text, available, from_text, to_text in exceptions:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise InvalidInput(f"not a date: {day_text!r} (use YYYY-MM-DD)", code="invalid_date") from None
        if (from_text is None) != (to_text is None):
            raise InvalidInput("an exception gives both start and end, or neither", code="invalid_interval")
        if available and from_text is None:
            raise InvalidInput("an extra available interval needs start and end", code="invalid_interval")
        opening = parse_clock(from_text) if from_text is not None else None
        closing = parse_clock(to_text) if to_text is not None else None
        if opening is not None and closing is not None and closing <= opening:
            raise InvalidInput(f"{from_text}-{to_text} ends before it starts", code="invalid_interval")
        parsed_exceptions.append(DateException(day, available, opening, closing))
    return Availability(
        languages=tuple(dict.fromkeys(languages)),
        weekly=tuple(sorted(set(windows))),
        exceptions=tuple(sorted(parsed_exceptions, key=lambda e: (e.day, e.start or 0))),
    )


def availability_to_plain(availability: Availability) -> dict[str, Any]:
    """The stored and the wire shape: local times as HH:MM, Monday = 0."""
    return {
        "languages": list(availability.languages),
        "weekly": [
            {"weekday": w.weekday, "start": format_clock(w.start), "end": format_clock(w.end)}
            for w in availability.weekly
        ],
        "exceptions": [
            {
                "date": e.day.isoformat(),
                "available": e.available,
                **(
                    {"start": format_clock(e.start), "end": format_clock(e.end)}
                    if e.start is not None and e.end is not None
                    else {}
                ),
            }
            for e in availability.exceptions
        ],
    }


def availability_from_plain(languages: Sequence[str] | None, weekly: Any, exceptions: Any) -> Availability:
    return Availability(
        languages=tuple(languages or ()),
        weekly=tuple(
            WeeklyWindow(w["weekday"], parse_clock(w["start"]), parse_clock(w["end"])) for w in weekly or ()
        ),
        exceptions=tuple(
            DateException(
                date.fromisoformat(e["date"]),
                bool(e["available"]),
                parse_clock(e["start"]) if e.get("start") else None,
                parse_clock(e["end"]) if e.get("end") else None,
            )
            for e in exceptions or ()
        ),
    )


# ---- kinds and group schedules ----


@dataclass(frozen=True)
class GroupSchedule:
    """When a group kind meets, in local time: one-off dates, weekly and monthly rules."""

    sessions: tuple[datetime, ...] = ()  # naive local
    weekly: tuple[tuple[int, int], ...] = ()  # (weekday, minute)
    monthly: tuple[tuple[int, int, int], ...] = ()  # (ordinal, weekday, minute); ordinal -1 is last

    @classmethod
    def parse(cls, sessions: Sequence[str], weekly: Sequence[str], monthly: Sequence[str]) -> GroupSchedule:
        parsed_sessions = []
        for text in sessions:
            try:
                parsed_sessions.append(datetime.fromisoformat(text.strip().replace(" ", "T")))
            except ValueError:
                raise ValueError(f"not a local date and time: {text!r} (use YYYY-MM-DD HH:MM)") from None
            if parsed_sessions[-1].tzinfo is not None:
                raise ValueError(f"give session times in local time, without an offset: {text!r}")
        parsed_weekly = []
        for text in weekly:
            parts = text.lower().split()
            if len(parts) != 2 or parts[0] not in WEEKDAY_NAMES:
                raise ValueError(f"not a weekly rule: {text!r} (use e.g. 'thu 18:00')")
            parsed_weekly.append((WEEKDAY_NAMES.index(parts[0]), _rule_clock(parts[1])))
        parsed_monthly = []
        for text in monthly:
            parts = text.lower().split()
            if len(parts) != 3 or parts[0] not in ORDINALS or parts[1] not in WEEKDAY_NAMES:
                raise ValueError(
                    f"not a monthly rule: {text!r} (use e.g. 'first thu 18:00' or 'last mon 17:30')"
                )
            parsed_monthly.append((ORDINALS[parts[0]], WEEKDAY_NAMES.index(parts[1]), _rule_clock(parts[2])))
        return cls(tuple(parsed_sessions), tuple(parsed_weekly), tuple(parsed_monthly))

    def starts_on(self, day: date) -> list[int]:
        """Local start minutes of sessions on one date."""
        minutes = [s.hour * 60 + s.minute for s in self.sessions if s.date() == day]
        minutes += [minute for weekday, minute in self.weekly if weekday == day.weekday()]
        for ordinal, weekday, minute in self.monthly:
            if weekday == day.weekday() and _nth_weekday_matches(day, ordinal):
                minutes.append(minute)
        return sorted(set(minutes))


def _rule_clock(text: str) -> int:
    try:
        minute = parse_clock(text)
    except InvalidInput as error:
        raise ValueError(error.message) from None
    if minute >= MINUTES_PER_DAY:
        raise ValueError(f"a session cannot start at {text}")
    return minute


def _nth_weekday_matches(day: date, ordinal: int) -> bool:
    if ordinal > 0:
        return (day.day - 1) // 7 + 1 == ordinal
    return (day + timedelta(days=7)).month != day.month


@dataclass(frozen=True)
class KindRules:
    name: str
    duration: timedelta
    buffer: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=28)
    seats: int = 1
    address: str = ""
    schedule: GroupSchedule = field(default_factory=GroupSchedule)

    @property
    def is_group(self) -> bool:
        return self.seats > 1

    @property
    def step(self) -> timedelta:
        """Slots follow each other with the buffer after each, so back-to-back bookings fit."""
        return self.duration + self.buffer


def require_kind(kinds: dict[str, KindRules], name: str) -> KindRules:
    kind = kinds.get(name)
    if kind is None:
        raise InvalidInput(f"kind must be one of {sorted(kinds)}", code="unknown_kind")
    return kind


# ---- slots ----


@dataclass(frozen=True)
class Counsellor:
    id: int
    availability: Availability
    last_assignment: int = 0

    def speaks(self, language: str) -> bool:
        return language in self.availability.languages


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
        if not counsellor.speaks(query.language) or not busy.is_free(counsellor.id, slot_start, occupied_end):
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
        if not counsellor.speaks(query.language):
            continue
        for moment in counsellor_starts(counsellor.availability, kind, zone, start, end):
            if busy.is_free(counsellor.id, moment, occupied_until(kind, moment)):
                counts[moment] = counts.get(moment, 0) + 1
    return [Slot(moment, moment + kind.duration, kind.name, counts[moment]) for moment in sorted(counts)]


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
    by_id = {c.id: c for c in counsellors}
    slots = []
    for moment in group_starts(kind, zone, start, end):
        session = sessions.get(moment)
        if session is not None:
            host = by_id.get(session.counsellor_id)
            seats_left = kind.seats - session.seats_taken
            if host is not None and host.speaks(query.language) and seats_left > 0:
                slots.append(Slot(moment, moment + kind.duration, kind.name, seats_left))
        elif free_counsellors(query, zone, counsellors, busy, moment):
            slots.append(Slot(moment, moment + kind.duration, kind.name, kind.seats))
    return slots


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


# ---- phone numbers ----

MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def normalise_phone(text: str, default_region: str) -> str:
    """A mobile number in E.164 (+46701740605); numbers without a country code are read in
    ``default_region``. Error messages never repeat the number."""
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("this is not a phone number", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("this is not a valid phone number", code="invalid_phone")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidInput("texts need a mobile number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ---- appointments ----


class AppointmentState(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class CancelledBy(enum.StrEnum):
    RELATIVE = "relative"
    SMS = "sms"
    STAFF = "staff"


OUTCOMES = frozenset({AppointmentState.ATTENDED, AppointmentState.NO_SHOW})


@dataclass(frozen=True)
class Appointment:
    id: str
    reference: str
    kind: str
    language: str
    start: datetime
    end: datetime
    counsellor_id: int
    state: AppointmentState
    created_at: datetime
    conversation_id: str | None = None
    cancelled_at: datetime | None = None
    cancelled_by: CancelledBy | None = None
    version: int = 1
    has_phone: bool = True


def require_manageable(appointment: Appointment | None, now: datetime) -> Appointment:
    """What a manage code may still change: a booked appointment that has not started."""
    if appointment is None:
        raise NotFound("no appointment has this manage code", code="unknown_manage_code")
    if appointment.state is AppointmentState.CANCELLED:
        raise Conflict("the appointment is already cancelled", code="already_cancelled")
    if appointment.state is not AppointmentState.BOOKED or appointment.start <= now:
        raise Conflict("the appointment has passed and can no longer be changed", code="appointment_past")
    return appointment


def cancel(appointment: Appointment, now: datetime, by: CancelledBy) -> Appointment:
    if appointment.state is AppointmentState.CANCELLED:
        raise Conflict("the appointment is already cancelled", code="already_cancelled")
    if appointment.state is not AppointmentState.BOOKED:
        raise Conflict("the appointment is already closed", code="appointment_closed")
    if by is not CancelledBy.STAFF and appointment.start <= now:
        raise Conflict("the appointment has passed and can no longer be changed", code="appointment_past")
    return replace(
        appointment,
        state=AppointmentState.CANCELLED,
        cancelled_at=now,
        cancelled_by=by,
        version=appointment.version + 1,
    )


def reschedule(
    appointment: Appointment, start: datetime, end: datetime, counsellor_id: int, now: datetime
) -> Appointment:
    require_manageable(appointment, now)
    if start == appointment.start:
        raise Conflict("the appointment is already at this time", code="same_time")
    return replace(
        appointment, start=start, end=end, counsellor_id=counsellor_id, version=appointment.version + 1
    )


def record_outcome(appointment: Appointment, outcome: str, now: datetime) -> Appointment:
    try:
        state = AppointmentState(outcome)
    except ValueError:
        state = None
    if state not in OUTCOMES:
        raise InvalidInput("outcome must be attended or no_show", code="unknown_outcome")
    assert state is not None
    if appointment.state is not AppointmentState.BOOKED:
        raise Conflict("only a booked appointment gets an outcome", code="appointment_closed")
    if appointment.start > now:
        raise Conflict("the appointment has not started yet", code="appointment_future")
    return replace(appointment, state=state, version=appointment.version + 1)
