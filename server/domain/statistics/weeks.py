"""ISO weeks as the records keep them: ``2026-W05``. A record never holds anything finer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.domain.errors import InvalidInput

_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)


def parse_week(text: str, field: str = "week") -> IsoWeek:
    """``YYYY-Www``; a week that does not exist (W53 of a 52-week year, W00) is refused."""
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidInput(f"{field} must be an ISO week like 2026-W05", code="invalid_week")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidInput(f"{field}: {text} is not a week of {year}", code="invalid_week") from None
    return IsoWeek(year, week)


def week_of(moment: datetime, zone: ZoneInfo) -> IsoWeek:
    """The ISO week of an aware moment, on the calendar of ``zone``."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return IsoWeek(year, week)


def check_range(first: IsoWeek, last: IsoWeek, max_weeks: int) -> None:
    if last < first:
        raise InvalidInput("to must not be before from", code="invalid_week")
    if (last.monday() - first.monday()).days // 7 + 1 > max_weeks:
        raise InvalidInput(f"a range covers at most {max_weeks} weeks", code="invalid_week")
