"""A counsellor's availability: weekly local windows, date exceptions and languages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from server.domain.booking.local_time import format_clock, parse_clock
from server.domain.errors import InvalidInput


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
