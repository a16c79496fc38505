"""The interpreter kind and the languages with free times, by example: a call with an interpreter
is offered in every language and held by a counsellor who speaks one of the kind's own languages;
a booking in any other language needs an interpreter for it."""

from __future__ import annotations

from datetime import date, timedelta

from server.domain.booking.kinds import KindRules
from server.domain.booking.slots import (
    Busy,
    BusyIndex,
    Counsellor,
    available_slots,
    free_counsellors,
    languages_with_slots,
)
from tests.unit.test_booking_slots import LANGS, NOW, PHONE, ZONE, local_times, query, weekdays

INTERPRETER = KindRules(
    "interpreter_call",
    duration=timedelta(hours=1),
    buffer=timedelta(minutes=15),
    interpreter=True,
    counsellor_languages=("sv", "en"),
)
MONDAY = date(2026, 11, 23)


def test_an_interpreter_kind_needs_an_interpreter_only_outside_its_counsellors_languages():
    assert [INTERPRETER.interpreted(language) for language in LANGS] == [False, False, True, True, True, True]
    assert INTERPRETER.held_in("so") == ("sv", "en")
    assert INTERPRETER.held_in("en") == ("en",)
    assert not PHONE.interpreted("so") and PHONE.held_in("so") == ("so",)


def test_a_swedish_speaking_counsellor_gives_interpreter_times_in_every_language():
    swedish = Counsellor(1, weekdays("09:00", "11:30"))
    for language in ("sv", "ar", "so", "fa", "ti"):
        slots = available_slots(query(INTERPRETER, language), ZONE, [swedish], BusyIndex({}), {})
        assert local_times(slots, MONDAY) == ["09:00", "10:15"], language
    # The same counsellor gives no plain phone times in Somali, and none with an interpreter in
    # English, which a counsellor holds in English.
    assert available_slots(query(PHONE, "so"), ZONE, [swedish], BusyIndex({}), {}) == []
    assert available_slots(query(INTERPRETER, "en"), ZONE, [swedish], BusyIndex({}), {}) == []


def test_a_counsellor_of_neither_counsellor_language_does_not_hold_interpreter_calls():
    somali_only = Counsellor(1, weekdays("09:00", "12:00", ("so",)))
    assert available_slots(query(INTERPRETER, "fa"), ZONE, [somali_only], BusyIndex({}), {}) == []
    assert free_counsellors(query(INTERPRETER, "fa"), ZONE, [somali_only], BusyIndex({}), NOW) == []


def test_busy_time_blocks_interpreter_times_as_any_other():
    swedish = Counsellor(7, weekdays("09:00", "11:30"))
    taken = Busy(NOW.replace(hour=8), NOW.replace(hour=9, minute=15))  # 09:00-10:15 local
    slots = available_slots(query(INTERPRETER, "so"), ZONE, [swedish], BusyIndex({7: [taken]}), {})
    assert local_times(slots, MONDAY) == ["10:15"]


def test_the_languages_with_free_times_follow_the_counsellors_and_their_busy_time():
    swedish = Counsellor(1, weekdays("09:00", "10:00"))
    arabic = Counsellor(2, weekdays("13:00", "14:00", ("ar", "en")))
    both = [swedish, arabic]
    assert languages_with_slots(query(), LANGS, ZONE, both, BusyIndex({}), {}) == ["sv", "en", "ar"]
    assert languages_with_slots(query(INTERPRETER), LANGS, ZONE, both, BusyIndex({}), {}) == list(LANGS)

    # Arabic's only counsellor is taken all week: Arabic and English drop out, Swedish stays.
    whole_week = Busy(NOW, NOW + timedelta(days=8))
    busy = BusyIndex({2: [whole_week]})
    assert languages_with_slots(query(), LANGS, ZONE, both, busy, {}) == ["sv"]
    assert languages_with_slots(query(), LANGS, ZONE, [], BusyIndex({}), {}) == []
