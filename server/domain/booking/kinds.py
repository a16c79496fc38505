"""Appointment kinds and when group kinds meet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from server.domain.booking.local_time import MINUTES_PER_DAY, parse_clock
from server.domain.errors import InvalidInput

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


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
    interpreter: bool = False
    #: For an interpreter kind: the languages the counsellor holds the call in, with an interpreter.
    counsellor_languages: tuple[str, ...] = ()

    @property
    def is_group(self) -> bool:
        return self.seats > 1

    def interpreted(self, language: str) -> bool:
        """Whether a booking in ``language`` needs an interpreter: an interpreter kind held in one of
        the counsellors' own languages needs none."""
        return self.interpreter and language not in self.counsellor_languages

    def held_in(self, language: str) -> tuple[str, ...]:
        """The languages a counsellor may speak to take a booking in ``language``."""
        return self.counsellor_languages if self.interpreted(language) else (language,)

    @property
    def step(self) -> timedelta:
        """Slots follow each other with the buffer after each, so back-to-back bookings fit."""
        return self.duration + self.buffer


def require_kind(kinds: dict[str, KindRules], name: str) -> KindRules:
    kind = kinds.get(name)
    if kind is None:
        raise InvalidInput(f"kind must be one of {sorted(kinds)}", code="unknown_kind")
    return kind
