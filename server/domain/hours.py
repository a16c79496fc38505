"""Opening hours: weekly local intervals plus closed dates, evaluated in the service time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_interval(text: str) -> tuple[time, time]:
    """``"09:00-21:00"`` -> (09:00, 21:00). ``24:00`` as the end means midnight."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = time.max if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"not an interval: {text!r} (use HH:MM-HH:MM)") from None
    if end <= start:
        raise ValueError(f"interval ends before it starts: {text!r}")
    return start, end


@dataclass(frozen=True)
class OpeningHours:
    timezone: str
    weekly: dict[str, list[str]] = field(default_factory=dict)
    closed_dates: frozenset[date] = frozenset()
    always_open: bool = False

    def _intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.closed_dates:
            return []
        zone = ZoneInfo(self.timezone)
        result = []
        for text in self.weekly.get(WEEKDAYS[day.weekday()], []):
            start, end = parse_interval(text)
            result.append((datetime.combine(day, start, zone), datetime.combine(day, end, zone)))
        return sorted(result)

    def is_open(self, now: datetime) -> bool:
        return self.always_open or self.current_interval(now) is not None

    def current_interval(self, now: datetime) -> tuple[datetime, datetime] | None:
        local = now.astimezone(ZoneInfo(self.timezone))
        for start, end in self._intervals_on(local.date()):
            if start <= local < end:
                return start, end
        return None

    def closes_at(self, now: datetime) -> datetime | None:
        if self.always_open:
            return None
        interval = self.current_interval(now)
        return interval[1] if interval else None

    def next_open(self, now: datetime, horizon_days: int = 366) -> datetime | None:
        """The next opening after ``now`` when closed; None when open now or never opens."""
        if self.is_open(now):
            return None
        local = now.astimezone(ZoneInfo(self.timezone))
        for offset in range(horizon_days + 1):
            for start, _end in self._intervals_on(local.date() + timedelta(days=offset)):
                if start > local:
                    return start
        return None
