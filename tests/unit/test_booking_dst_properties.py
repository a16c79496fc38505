"""Property-based tests of slot computation across the March and October daylight-saving changes
in Europe/Stockholm: no slot is lost, doubled or shifted.

The oracle does not use the code under test: it scans real UTC time and asks zoneinfo which
wall-clock time each moment shows. A window "09:00-12:00" on a date is the real time from the first
moment whose clock shows 09:00 or later, to the end of the last one whose clock shows a time before
12:00. The slots must be exactly every ``duration + buffer`` from the window's start while one
fits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.booking.availability import Availability, WeeklyWindow
from server.domain.booking.kinds import KindRules
from server.domain.booking.slots import BusyIndex, Counsellor, SlotQuery, available_slots, window_instants

ZONE = ZoneInfo("Europe/Stockholm")
#: Sundays of the changes: spring forward (02:00 -> 03:00) and fall back (03:00 -> 02:00).
CHANGES = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]
#: Windows start and end on quarter hours and the clocks change on the hour, so scanning real time
#: in quarter-hour granules is exact.
GRANULE = timedelta(minutes=15)


def minute_of_day(moment: datetime) -> int:
    local = moment.astimezone(ZONE)
    return local.hour * 60 + local.minute


def oracle_window(day: date, start: int, end: int) -> tuple[datetime, datetime] | None:
    """Scan the real minutes of a local date; None when no real minute lies in the window."""
    scan = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
    inside = []
    for step in range(3 * 24 * 4):
        moment = scan + step * GRANULE
        if moment.astimezone(ZONE).date() == day and start <= minute_of_day(moment) < end:
            inside.append(moment)
    if not inside:
        return None
    return inside[0], inside[-1] + GRANULE


windows = st.tuples(
    st.integers(min_value=0, max_value=95).map(lambda q: q * 15),
    st.integers(min_value=1, max_value=48).map(lambda q: q * 15),
).map(lambda pair: (pair[0], min(pair[0] + pair[1], 24 * 60)))
kinds = st.builds(
    lambda duration, buffer: KindRules("phone", timedelta(minutes=duration), timedelta(minutes=buffer)),
    st.sampled_from([15, 20, 30, 45, 60, 90]),
    st.sampled_from([0, 5, 10, 15, 30]),
)


@st.composite
def weekly_availability(draw: st.DrawFn) -> Availability:
    """One window a day, the same every day of the week, so days can be compared."""
    start, end = draw(windows)
    return Availability(("sv",), tuple(WeeklyWindow(day, start, end) for day in range(7)))


def slots_around(change: date, kind: KindRules, availability: Availability) -> list:
    start = datetime.combine(change - timedelta(days=3), datetime.min.time(), ZONE).astimezone(UTC)
    end = datetime.combine(change + timedelta(days=4), datetime.min.time(), ZONE).astimezone(UTC)
    query = SlotQuery(kind, "sv", start, end, start - timedelta(days=1))
    return available_slots(query, ZONE, [Counsellor(1, availability)], BusyIndex({}), {})


def expected_starts(day: date, window: tuple[int, int], kind: KindRules) -> list[datetime]:
    found = oracle_window(day, *window)
    if found is None:
        return []
    opens, closes = found
    starts, moment = [], opens
    while moment + kind.duration <= closes:
        starts.append(moment)
        moment += kind.step
    return starts


@settings(max_examples=200, deadline=None)
@given(change=st.sampled_from(CHANGES), kind=kinds, availability=weekly_availability())
def test_no_slot_is_lost_doubled_or_shifted_across_a_clock_change(change, kind, availability):
    window = (availability.weekly[0].start, availability.weekly[0].end)
    slots = slots_around(change, kind, availability)
    starts = [slot.start for slot in slots]

    assert len(starts) == len(set(starts)), "a slot is doubled"
    assert starts == sorted(starts)
    expected = []
    for offset in range(-3, 4):
        expected += expected_starts(change + timedelta(days=offset), window, kind)
    assert starts == expected, "a slot is lost, extra or shifted"
    assert all(slot.end - slot.start == kind.duration for slot in slots)


@settings(max_examples=200, deadline=None)
@given(change=st.sampled_from(CHANGES), kind=kinds, availability=weekly_availability())
def test_days_away_from_the_change_keep_the_same_wall_clock_times(change, kind, availability):
    """A week before and a week after (other offsets), the same local times are offered."""
    slots = slots_around(change, kind, availability)

    def wall_times(day: date) -> list[str]:
        return [
            s.start.astimezone(ZONE).strftime("%H:%M")
            for s in slots
            if s.start.astimezone(ZONE).date() == day
        ]

    before, after = change - timedelta(days=2), change + timedelta(days=2)
    assert wall_times(before) == wall_times(after)
    offsets = {
        s.start.astimezone(ZONE).utcoffset() for s in slots if s.start.astimezone(ZONE).date() == before
    }
    later = {s.start.astimezone(ZONE).utcoffset() for s in slots if s.start.astimezone(ZONE).date() == after}
    if offsets and later:
        assert offsets != later, "the UTC instants must move with the offset"


@settings(max_examples=300, deadline=None)
@given(
    change=st.sampled_from(CHANGES),
    window=windows,
    shift=st.integers(min_value=-1, max_value=1),
)
def test_window_instants_match_the_minute_scan(change, window, shift):
    day = change + timedelta(days=shift)
    availability = Availability(("sv",), (WeeklyWindow(day.weekday(), *window),))
    found = window_instants(availability, day, ZONE)
    oracle = oracle_window(day, *window)
    assert found == ([oracle] if oracle else [])


@settings(max_examples=100, deadline=None)
@given(
    change=st.sampled_from(CHANGES),
    kind=kinds,
    availability=weekly_availability(),
    cut=st.integers(0, 6 * 24),
)
def test_a_query_window_only_trims_never_moves_slots(change, kind, availability, cut):
    """Asking for a later start returns the tail of the same list: nothing realigns to the query."""
    full = slots_around(change, kind, availability)
    start = datetime.combine(change - timedelta(days=3), datetime.min.time(), ZONE).astimezone(UTC)
    query_start = start + timedelta(hours=cut)
    end = datetime.combine(change + timedelta(days=4), datetime.min.time(), ZONE).astimezone(UTC)
    query = SlotQuery(kind, "sv", query_start, end, start - timedelta(days=1))
    trimmed = available_slots(query, ZONE, [Counsellor(1, availability)], BusyIndex({}), {})
    assert trimmed == [slot for slot in full if slot.start >= query_start]
