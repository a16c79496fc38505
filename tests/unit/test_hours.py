"""Opening hours in Europe/Stockholm: open/closed, closing and next opening, DST, closed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.hours import OpeningHours, parse_interval

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WEEKDAYS_9_TO_21 = {day: ["09:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
# Monday 23 November 2026; Stockholm is on CET (UTC+1) then.
MONDAY = date(2026, 11, 23)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), STOCKHOLM)


def hours(**overrides: object) -> OpeningHours:
    settings: dict[str, object] = {"timezone": "Europe/Stockholm", "weekly": WEEKDAYS_9_TO_21}
    settings.update(overrides)
    return OpeningHours(**settings)  # type: ignore[arg-type]


class TestOpenOrClosed:
    def test_open_inside_the_interval(self) -> None:
        assert hours().is_open(local(MONDAY, 10))

    def test_the_start_is_inclusive_and_the_end_exclusive(self) -> None:
        assert hours().is_open(local(MONDAY, 9))
        assert not hours().is_open(local(MONDAY, 8, 59))
        assert not hours().is_open(local(MONDAY, 21))

    def test_the_hours_are_local_to_stockholm_whatever_zone_now_is_given_in(self) -> None:
        # 08:30 UTC is 09:30 in Stockholm in winter: open, although 08:30 is before nine.
        assert hours().is_open(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
        # 20:30 UTC is 21:30 in Stockholm: closed, although 20:30 is before nine in the evening.
        assert not hours().is_open(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))

    def test_a_day_without_intervals_is_closed(self) -> None:
        saturday = MONDAY + timedelta(days=5)
        assert not hours().is_open(local(saturday, 12))

    def test_a_closed_date_is_closed_all_day(self) -> None:
        holiday = hours(closed_dates=frozenset({MONDAY}))
        assert not holiday.is_open(local(MONDAY, 12))
        assert holiday.is_open(local(MONDAY + timedelta(days=1), 12))

    def test_always_open_is_open_at_any_time_even_on_closed_dates(self) -> None:
        always = hours(weekly={}, closed_dates=frozenset({MONDAY}), always_open=True)
        for at in (local(MONDAY, 3), local(MONDAY, 12), local(MONDAY + timedelta(days=6), 23, 59)):
            assert always.is_open(at)
        assert always.next_open(local(MONDAY, 3)) is None
        assert always.closes_at(local(MONDAY, 3)) is None

    def test_an_interval_ending_at_24_00_runs_to_midnight(self) -> None:
        late = hours(weekly={"mon": ["20:00-24:00"]})
        assert late.is_open(datetime.combine(MONDAY, time(23, 59, 59), STOCKHOLM))
        assert not late.is_open(local(MONDAY + timedelta(days=1), 0))


class TestClosesAt:
    def test_the_end_of_the_current_interval(self) -> None:
        closes = hours().closes_at(local(MONDAY, 10))
        assert closes == local(MONDAY, 21)
        assert closes == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)

    def test_none_when_closed(self) -> None:
        assert hours().closes_at(local(MONDAY, 22)) is None


class TestNextOpen:
    def test_none_while_open(self) -> None:
        assert hours().next_open(local(MONDAY, 10)) is None

    def test_later_the_same_day(self) -> None:
        assert hours().next_open(local(MONDAY, 7)) == local(MONDAY, 9)

    def test_the_next_morning_after_closing(self) -> None:
        assert hours().next_open(local(MONDAY, 21, 30)) == local(MONDAY + timedelta(days=1), 9)

    def test_over_the_weekend_to_monday(self) -> None:
        friday = MONDAY + timedelta(days=4)
        assert hours().next_open(local(friday, 22)) == local(MONDAY + timedelta(days=7), 9)

    def test_closed_dates_are_skipped(self) -> None:
        holiday = hours(closed_dates=frozenset({MONDAY}))
        assert holiday.next_open(local(MONDAY, 7)) == local(MONDAY + timedelta(days=1), 9)

    def test_never_when_no_day_has_hours(self) -> None:
        assert hours(weekly={}).next_open(local(MONDAY, 12)) is None

    def test_across_the_spring_change_to_summer_time(self) -> None:
        # Clocks go from 02:00 CET to 03:00 CEST on Sunday 29 March 2026.
        line = hours(weekly={"sun": ["15:00-20:00"]})
        saturday_evening = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)  # 22:00 CET
        opens = line.next_open(saturday_evening)
        assert opens is not None
        assert opens.utcoffset() == timedelta(hours=2)
        assert opens == datetime(2026, 3, 29, 13, 0, tzinfo=UTC)

    def test_across_the_autumn_change_to_winter_time(self) -> None:
        # Clocks go from 03:00 CEST back to 02:00 CET on Sunday 25 October 2026.
        line = hours(weekly={"sun": ["15:00-20:00"]})
        saturday_evening = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # 22:00 CEST
        opens = line.next_open(saturday_evening)
        assert opens is not None
        assert opens.utcoffset() == timedelta(hours=1)
        assert opens == datetime(2026, 10, 25, 14, 0, tzinfo=UTC)

    def test_an_interval_on_the_night_of_the_change_opens_at_the_right_instant(self) -> None:
        # 04:00 on the spring Sunday is already summer time: 02:00 UTC.
        line = hours(weekly={"sun": ["04:00-06:00"]})
        opens = line.next_open(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
        assert opens == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
        assert line.is_open(datetime(2026, 3, 29, 2, 30, tzinfo=UTC))
        assert not line.is_open(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))


class TestParseInterval:
    def test_a_well_formed_interval(self) -> None:
        assert parse_interval("09:00-21:00") == (time(9), time(21))
        assert parse_interval(" 08:30 - 12:15 ") == (time(8, 30), time(12, 15))

    def test_24_00_means_the_end_of_the_day(self) -> None:
        assert parse_interval("18:00-24:00") == (time(18), time.max)

    @pytest.mark.parametrize("text", ["9-5", "09:00", "09:00-25:00", "nine-five", "09:00-10:00-11:00"])
    def test_malformed_text_is_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="not an interval"):
            parse_interval(text)

    @pytest.mark.parametrize("text", ["21:00-09:00", "10:00-10:00"])
    def test_an_interval_must_end_after_it_starts(self, text: str) -> None:
        with pytest.raises(ValueError, match="ends before it starts"):
            parse_interval(text)
