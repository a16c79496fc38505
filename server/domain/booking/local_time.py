"""Local wall-clock times and the instants they name. Pure; resolved with zoneinfo, so slots stay
on the same local times across daylight-saving changes.

A window opens at the first moment the local clock shows its start and closes when the clock last
shows a time before its end: a time inside the spring gap is the moment the clock jumps, and a time
the autumn fold shows twice opens at its first occurrence and closes at its second."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from server.domain.errors import InvalidInput

MINUTES_PER_DAY = 24 * 60


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
