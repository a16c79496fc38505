"""Slot rules by example: windows, exceptions, notice and horizon, busy time, group sessions,
round robin and phone numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.booking.availability import Availability, DateException, WeeklyWindow, build_availability
from server.domain.booking.kinds import GroupSchedule, KindRules
from server.domain.booking.local_time import local_instant
from server.domain.booking.phones import normalise_phone
from server.domain.booking.slots import (
    Busy,
    BusyIndex,
    Counsellor,
    GroupSession,
    SlotQuery,
    available_slots,
    check_bookable,
    check_query_window,
    free_counsellors,
    pick_counsellor,
)
from server.domain.errors import Conflict, InvalidInput

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 07:00 in Stockholm
PHONE = KindRules("phone", duration=timedelta(minutes=45), buffer=timedelta(minutes=15))
LANGS = ("sv", "en", "ar", "so", "fa", "ti")


def weekdays(start: str, end: str, languages: tuple[str, ...] = ("sv",)) -> Availability:
    return build_availability(languages, [(day, start, end) for day in range(5)], [], LANGS)


def query(kind: KindRules = PHONE, language: str = "sv", days: int = 7, now: datetime = NOW) -> SlotQuery:
    return SlotQuery(kind, language, now, now + timedelta(days=days), now)


def local_times(slots: list, day: date) -> list[str]:
    return [
        s.start.astimezone(ZONE).strftime("%H:%M") for s in slots if s.start.astimezone(ZONE).date() == day
    ]


def test_a_window_gives_back_to_back_slots_with_the_buffer_between():
    counsellor = Counsellor(1, weekdays("09:00", "12:00"))
    slots = available_slots(query(), ZONE, [counsellor], BusyIndex({}), {})
    assert local_times(slots, date(2026, 11, 23)) == ["09:00", "10:00", "11:00"]
    assert all(s.end - s.start == PHONE.duration and s.seats_left == 1 for s in slots)
    assert all(s.start.tzinfo is not None and s.start.utcoffset() == timedelta(0) for s in slots)


def test_slots_are_only_for_counsellors_who_speak_the_language():
    swedish = Counsellor(1, weekdays("09:00", "11:00"))
    arabic = Counsellor(2, weekdays("13:00", "15:00", ("ar", "sv")))
    slots = available_slots(query(language="ar"), ZONE, [swedish, arabic], BusyIndex({}), {})
    assert local_times(slots, date(2026, 11, 23)) == ["13:00", "14:00"]


def test_seats_left_counts_free_counsellors_and_names_nobody():
    a, b = Counsellor(1, weekdays("09:00", "10:00")), Counsellor(2, weekdays("09:00", "10:00"))
    start = local_instant(date(2026, 11, 23), 9 * 60, ZONE)
    busy = BusyIndex({2: [Busy(start, start + timedelta(hours=1))]})
    slots = available_slots(query(days=1), ZONE, [a, b], BusyIndex({}), {})
    assert [s.seats_left for s in slots] == [2]
    assert [s.seats_left for s in available_slots(query(days=1), ZONE, [a, b], busy, {})] == [1]
    assert set(vars(slots[0])) == {"start", "end", "kind", "seats_left"}


def test_busy_time_blocks_overlapping_slots_including_the_buffer():
    counsellor = Counsellor(1, weekdays("09:00", "13:00"))
    ten = local_instant(date(2026, 11, 23), 10 * 60, ZONE)
    busy = BusyIndex({1: [Busy(ten, ten + timedelta(minutes=60))]})
    slots = available_slots(query(days=1), ZONE, [counsellor], busy, {})
    assert local_times(slots, date(2026, 11, 23)) == ["09:00", "11:00", "12:00"]


def test_minimum_notice_and_horizon_cut_the_window():
    kind = KindRules(
        "phone",
        timedelta(minutes=45),
        timedelta(minutes=15),
        min_notice=timedelta(hours=4),
        horizon=timedelta(days=1),
    )
    counsellor = Counsellor(1, weekdays("09:00", "17:00"))
    slots = available_slots(query(kind, days=7), ZONE, [counsellor], BusyIndex({}), {})
    assert slots[0].start >= NOW + timedelta(hours=4)
    assert local_times(slots, date(2026, 11, 23))[0] == "11:00"
    assert slots[-1].start < NOW + timedelta(days=1)


def test_a_day_off_and_a_partly_blocked_day():
    availability = build_availability(
        ["sv"],
        [(0, "09:00", "12:00"), (1, "09:00", "12:00")],
        [("2026-11-23", False, None, None), ("2026-11-24", False, "10:00", "11:00")],
        LANGS,
    )
    slots = available_slots(query(), ZONE, [Counsellor(1, availability)], BusyIndex({}), {})
    assert local_times(slots, date(2026, 11, 23)) == []
    assert local_times(slots, date(2026, 11, 24)) == ["09:00", "11:00"]


def test_an_extra_available_interval_on_a_date():
    availability = build_availability(["sv"], [], [("2026-11-28", True, "10:00", "12:00")], LANGS)
    slots = available_slots(query(), ZONE, [Counsellor(1, availability)], BusyIndex({}), {})
    assert local_times(slots, date(2026, 11, 28)) == ["10:00", "11:00"]


@pytest.mark.parametrize(
    ("weekly", "exceptions", "code"),
    [
        ([(7, "09:00", "10:00")], [], "invalid_weekday"),
        ([(0, "10:00", "09:00")], [], "invalid_interval"),
        ([(0, "9", "10:00")], [], "invalid_time"),
        ([], [("2026-13-01", False, None, None)], "invalid_date"),
        ([], [("2026-12-01", True, None, None)], "invalid_interval"),
        ([], [("2026-12-01", False, "10:00", None)], "invalid_interval"),
    ],
)
def test_the_availability_editor_refuses_nonsense(weekly, exceptions, code):
    with pytest.raises(InvalidInput) as refused:
        build_availability(["sv"], weekly, exceptions, LANGS)
    assert refused.value.code == code


def test_unknown_languages_are_refused():
    with pytest.raises(InvalidInput) as refused:
        build_availability(["xx"], [], [], LANGS)
    assert refused.value.code == "unsupported_language"


def test_group_sessions_follow_their_schedule_and_count_seats():
    schedule = GroupSchedule.parse(["2026-11-26 18:00"], [], ["first thu 18:00"])
    group = KindRules("group", timedelta(hours=2), seats=3, schedule=schedule)
    host = Counsellor(1, build_availability(["sv"], [(3, "17:00", "21:00")], [], LANGS))
    slots = available_slots(query(group, days=14), ZONE, [host], BusyIndex({}), {})
    assert [s.start.astimezone(ZONE).strftime("%d %H:%M") for s in slots] == ["26 18:00", "03 18:00"]
    assert all(s.seats_left == 3 for s in slots)
    first = slots[0].start
    taken = {first: GroupSession("group", first, 1, 2)}
    assert available_slots(query(group, days=14), ZONE, [host], BusyIndex({}), taken)[0].seats_left == 1
    full = {first: GroupSession("group", first, 1, 3)}
    assert [s.start for s in available_slots(query(group, days=14), ZONE, [host], BusyIndex({}), full)] == [
        slots[1].start
    ]


def test_a_group_session_without_an_available_host_is_not_offered():
    group = KindRules(
        "group", timedelta(hours=2), seats=3, schedule=GroupSchedule.parse([], ["thu 18:00"], [])
    )
    too_short = Counsellor(1, build_availability(["sv"], [(3, "17:00", "19:00")], [], LANGS))
    assert available_slots(query(group, days=7), ZONE, [too_short], BusyIndex({}), {}) == []


def test_monthly_rules():
    schedule = GroupSchedule.parse([], [], ["last mon 17:30", "second tue 09:00"])
    assert schedule.starts_on(date(2026, 11, 30)) == [17 * 60 + 30]
    assert schedule.starts_on(date(2026, 11, 23)) == []
    assert schedule.starts_on(date(2026, 11, 10)) == [9 * 60]
    with pytest.raises(ValueError, match="monthly"):
        GroupSchedule.parse([], [], ["fifth thu 18:00"])
    with pytest.raises(ValueError, match="weekly"):
        GroupSchedule.parse([], ["thursday 18:00"], [])


def test_booking_outside_notice_horizon_or_a_group_schedule_is_refused():
    counsellor_query = query()
    with pytest.raises(Conflict) as early:
        check_bookable(counsellor_query, ZONE, NOW - timedelta(hours=1))
    assert early.value.code == "slot_taken"
    with pytest.raises(Conflict):
        check_bookable(counsellor_query, ZONE, NOW + timedelta(days=30))
    group = KindRules(
        "group", timedelta(hours=2), seats=3, schedule=GroupSchedule.parse([], ["thu 18:00"], [])
    )
    with pytest.raises(Conflict):
        check_bookable(query(group), ZONE, local_instant(date(2026, 11, 26), 17 * 60, ZONE))
    check_bookable(query(group), ZONE, local_instant(date(2026, 11, 26), 18 * 60, ZONE))


def test_only_a_counsellor_with_a_slot_exactly_there_is_free():
    counsellor = Counsellor(1, weekdays("09:00", "12:00"))
    on_grid = local_instant(date(2026, 11, 23), 10 * 60, ZONE)
    assert free_counsellors(query(), ZONE, [counsellor], BusyIndex({}), on_grid) == [counsellor]
    assert free_counsellors(query(), ZONE, [counsellor], BusyIndex({}), on_grid + timedelta(minutes=30)) == []


def test_round_robin_prefers_whoever_waited_longest_then_the_preferred():
    never = Counsellor(3, Availability())
    old = Counsellor(1, Availability(), last_assignment=4)
    recent = Counsellor(2, Availability(), last_assignment=7)
    assert pick_counsellor([recent, old, never]).id == 3
    assert pick_counsellor([recent, old]).id == 1
    assert pick_counsellor([recent, old], preferred_id=2).id == 2
    assert pick_counsellor([recent, old], preferred_id=9).id == 1
    with pytest.raises(Conflict) as none:
        pick_counsellor([])
    assert none.value.code == "slot_taken"


def test_query_windows_must_be_aware_ordered_and_short():
    with pytest.raises(InvalidInput):
        check_query_window(datetime(2026, 11, 23), datetime(2026, 11, 24))
    with pytest.raises(InvalidInput):
        check_query_window(NOW, NOW)
    with pytest.raises(InvalidInput) as long:
        check_query_window(NOW, NOW + timedelta(days=90))
    assert long.value.code == "range_too_long"


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("070-174 06 05", "+46701740605"),
        ("+46 70 174 06 99", "+46701740699"),
        ("0046701740650", "+46701740650"),
    ],
)
def test_mobile_numbers_are_stored_in_e164(written, e164):
    assert normalise_phone(written, "SE") == e164


@pytest.mark.parametrize("written", ["08-123 456 78", "12345", "hello", "+46 70", ""])
def test_numbers_that_cannot_get_texts_are_refused_without_echoing_them(written):
    with pytest.raises(InvalidInput) as refused:
        normalise_phone(written, "SE")
    assert refused.value.code == "invalid_phone"
    if written:
        assert written not in refused.value.message


def test_exceptions_are_kept_on_their_own_date():
    exception = DateException(date(2026, 11, 23), False)
    availability = Availability(("sv",), (WeeklyWindow(0, 540, 600),), (exception,))
    assert availability.windows_on(date(2026, 11, 23)) == []
    assert availability.windows_on(date(2026, 11, 30)) == [(540, 600)]
