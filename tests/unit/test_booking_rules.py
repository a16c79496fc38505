"""The appointment state machine, manage-code rules, reminder planning and triage, delivery
reports, the texts' wording and how replies are read."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.config.i18n import Catalogs
from server.domain.booking.appointments import (
    Appointment,
    AppointmentState,
    CancelledBy,
    cancel,
    record_outcome,
    require_manageable,
    reschedule,
)
from server.domain.errors import Conflict, InvalidInput, NotFound
from server.domain.reminders import (
    Command,
    DueText,
    TextFacts,
    TextPurpose,
    TextState,
    Unresolved,
    after_report,
    after_unknown_not_found,
    classify,
    compose,
    plan_reminders,
    state_for_provider_status,
    triage,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Stockholm")
CATALOGS_DIR = Path(__file__).resolve().parents[2] / "web" / "i18n"
CATALOGS = Catalogs(CATALOGS_DIR)
LANGS = ("sv", "en", "ar", "so", "fa", "ti")


def appointment(**changes) -> Appointment:
    base = Appointment(
        id="a1",
        reference="ABC234",
        kind="phone",
        language="sv",
        start=NOW + timedelta(days=1),
        end=NOW + timedelta(days=1, minutes=45),
        counsellor_id=1,
        state=AppointmentState.BOOKED,
        created_at=NOW,
    )
    return replace(base, **changes)


# ---- appointments


def test_cancelling_moves_to_cancelled_once():
    cancelled = cancel(appointment(), NOW, CancelledBy.RELATIVE)
    assert cancelled.state is AppointmentState.CANCELLED
    assert cancelled.cancelled_by is CancelledBy.RELATIVE and cancelled.version == 2
    with pytest.raises(Conflict) as again:
        cancel(cancelled, NOW, CancelledBy.RELATIVE)
    assert again.value.code == "already_cancelled"


def test_a_relative_cannot_cancel_a_past_appointment_but_staff_can():
    started = appointment(start=NOW - timedelta(minutes=1))
    with pytest.raises(Conflict) as past:
        cancel(started, NOW, CancelledBy.SMS)
    assert past.value.code == "appointment_past"
    assert cancel(started, NOW, CancelledBy.STAFF).state is AppointmentState.CANCELLED


def test_a_manage_code_works_only_while_the_appointment_is_booked_and_ahead():
    assert require_manageable(appointment(), NOW).id == "a1"
    for broken, code in [
        (None, "unknown_manage_code"),
        (appointment(state=AppointmentState.CANCELLED), "already_cancelled"),
        (appointment(start=NOW), "appointment_past"),
        (appointment(state=AppointmentState.ATTENDED), "appointment_past"),
    ]:
        with pytest.raises((NotFound, Conflict)) as refused:
            require_manageable(broken, NOW)
        assert refused.value.code == code


def test_rescheduling_changes_time_and_version():
    moved = reschedule(appointment(), NOW + timedelta(days=2), NOW + timedelta(days=2, minutes=45), 2, NOW)
    assert moved.start == NOW + timedelta(days=2) and moved.counsellor_id == 2 and moved.version == 2
    with pytest.raises(Conflict):
        reschedule(moved, moved.start, moved.end, 2, NOW)


def test_outcomes_only_after_the_start_and_only_once():
    with pytest.raises(Conflict) as early:
        record_outcome(appointment(), "attended", NOW)
    assert early.value.code == "appointment_future"
    started = appointment(start=NOW - timedelta(minutes=5))
    attended = record_outcome(started, "no_show", NOW)
    assert attended.state is AppointmentState.NO_SHOW
    with pytest.raises(Conflict):
        record_outcome(attended, "attended", NOW)
    with pytest.raises(InvalidInput):
        record_outcome(started, "cancelled", NOW)


# ---- reminders


def test_reminders_are_planned_per_offset_and_only_when_still_ahead():
    start = NOW + timedelta(hours=10)
    plans = plan_reminders(start, [timedelta(hours=24), timedelta(hours=2), timedelta(hours=2)], NOW)
    assert [(p.offset, p.due_at) for p in plans] == [(timedelta(hours=2), start - timedelta(hours=2))]
    assert len(plan_reminders(NOW + timedelta(days=3), [timedelta(hours=24), timedelta(hours=2)], NOW)) == 2


def due(text_id: int, appointment_id: str, due_at: datetime, start: datetime, **kw) -> DueText:
    return DueText(
        id=text_id,
        appointment_id=appointment_id,
        purpose=kw.get("purpose", TextPurpose.REMINDER),
        due_at=due_at,
        appointment_start=start,
        appointment_booked=kw.get("booked", True),
    )


def test_triage_sends_late_reminders_marks_missed_and_keeps_only_the_latest():
    start = NOW + timedelta(hours=1)
    decision = triage(
        [
            due(1, "a", start - timedelta(hours=24), start),
            due(2, "a", start - timedelta(hours=2), start),
            due(3, "b", NOW - timedelta(hours=3), NOW - timedelta(minutes=1)),
            due(4, "c", NOW, start, booked=False),
            due(5, "d", NOW, start, purpose=TextPurpose.CANCELLATION, booked=False),
        ],
        NOW,
    )
    assert decision.send == [2, 5]
    assert decision.superseded == [1]
    assert decision.missed == [3]
    assert decision.withdrawn == [4]


def test_delivery_reports_only_move_forward():
    assert after_report(TextState.SENT, TextState.DELIVERED) is TextState.DELIVERED
    assert after_report(TextState.DELIVERED, TextState.SENT) is None
    assert after_report(TextState.DELIVERED, TextState.DELIVERED) is None
    assert after_report(TextState.UNKNOWN, TextState.SENT) is TextState.SENT
    assert after_report(TextState.FAILED, TextState.DELIVERED) is None
    assert state_for_provider_status("queued") is TextState.SENT
    assert state_for_provider_status("undelivered") is TextState.UNDELIVERED
    assert state_for_provider_status("receiving") is None


def test_an_unknown_send_is_only_retried_after_the_provider_confirms_it_never_got_it():
    text = Unresolved(
        TextState.UNKNOWN, NOW - timedelta(minutes=1), 1, NOW + timedelta(hours=2), TextPurpose.REMINDER
    )
    grace, attempts = timedelta(minutes=2), 3
    assert after_unknown_not_found(text, NOW, grace, attempts) is None
    later = NOW + timedelta(minutes=5)
    assert after_unknown_not_found(text, later, grace, attempts) is TextState.PENDING
    assert after_unknown_not_found(replace(text, attempts=3), later, grace, attempts) is TextState.FAILED
    too_late = replace(text, appointment_start=later - timedelta(minutes=1))
    assert after_unknown_not_found(too_late, later, grace, attempts) is TextState.FAILED


# ---- words


def lookup(language: str, key: str) -> str:
    return CATALOGS.text(language, key)


@pytest.mark.parametrize("language", ["sv", "en", "ar", "so", "fa", "ti"])
@pytest.mark.parametrize("purpose", list(TextPurpose))
def test_every_language_has_every_text_and_it_says_when(language, purpose):
    start = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    body = compose(TextFacts(purpose, language, "phone", start), lookup, ZONE)
    assert "sms." not in body and "{" not in body
    assert "18:00" in body and "3/12" in body


def test_texts_are_neutral_unless_a_sender_name_is_configured():
    start = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    body = compose(
        TextFacts(TextPurpose.CONFIRMATION, "sv", "visit", start, address="Exempelgatan 1"), lookup, ZONE
    )
    assert body.startswith("Bokat: besök tor 3/12 kl. 18:00.")
    assert "AVBOKA" in body and "Exempelgatan 1" in body
    for word in ("extremism", "Kinline", "anhörig", "chatt"):
        assert word.lower() not in body.lower()
    named = compose(
        TextFacts(TextPurpose.REMINDER, "sv", "phone", start), lookup, ZONE, sender_name="Stödlinjen"
    )
    assert named.startswith("Stödlinjen: ")


def test_a_cancellation_text_does_not_invite_to_cancel_again():
    start = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    body = compose(TextFacts(TextPurpose.CANCELLATION, "en", "phone", start), lookup, ZONE)
    assert body.startswith("Cancelled:") and "CANCEL to" not in body


def test_summer_time_shows_in_the_text():
    start = datetime(2027, 6, 10, 8, 0, tzinfo=UTC)
    assert "10:00" in compose(TextFacts(TextPurpose.REMINDER, "sv", "phone", start), lookup, ZONE)


@pytest.mark.parametrize(
    ("reply", "command"),
    [
        ("AVBOKA", Command.CANCEL),
        ("avboka.", Command.CANCEL),
        ("  Cancel please", Command.CANCEL),
        ("إلغاء", Command.CANCEL),
        ("baaji", Command.CANCEL),
        ("لغو", Command.CANCEL),
        ("ሰርዝ", Command.CANCEL),
        ("STOP", Command.STOP),
        ("Stopp!", Command.STOP),
        ("unsubscribe", Command.STOP),
        ("hej", Command.OTHER),
        ("", Command.OTHER),
        ("avbokad", Command.OTHER),
    ],
)
def test_replies_are_read_by_their_first_word(reply, command):
    words = frozenset({"avboka", "cancel", "إلغاء", "baaji", "لغو", "ሰርዝ"})
    assert classify(reply, words) is command


def test_the_catalogs_give_every_language_its_own_cancel_word():
    words = [json.loads((CATALOGS_DIR / f"{code}.json").read_text())["sms"]["cancel_word"] for code in LANGS]
    assert len(set(words)) == len(LANGS)
