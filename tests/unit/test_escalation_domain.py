"""Escalation rules: draft validation per kind, the state machine, the second-person rule,
imminent danger without approval, deadlines and the backup route, what a relative may learn."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server.config.escalation_file import load_escalation_config
from server.config.paths import config_dir
from server.domain import escalation as rules
from server.domain.errors import Forbidden, InvalidInput, InvalidTransition
from server.domain.escalation import (
    TRANSITIONS,
    Contact,
    Draft,
    Escalation,
    Kind,
    RelativeStatus,
    State,
    Subject,
)
from server.domain.permissions import Action, Fact, Ownership
from server.domain.staff import Role, StaffUser
from tests.support.assertions import raises_code

CONFIG = load_escalation_config(config_dir() / "escalation.toml", environ={})
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DRAFTER, SUPERVISOR, LIAISON = 1, 2, 3
ROUTE = CONFIG.routes["spanga-tensta"]
BACKUP = CONFIG.routes["rinkeby-kista"]

VALID: dict[Kind, Draft] = {
    Kind.CHILD_CONCERN: Draft(
        "spanga-tensta",
        Kind.CHILD_CONCERN,
        " Barnen ser våldsfilmer ",
        ("child_exposed",),
        False,
        Subject("0-12", " son "),
    ),
    Kind.CONSENT_REFERRAL: Draft(
        "spanga-tensta",
        Kind.CONSENT_REFERRAL,
        "Vill ha anhörigstöd",
        (),
        True,
        Subject("26+", "myself"),
        Contact(phone="+46 70 174 06 05", preferred_time="kvällar"),
    ),
    Kind.IMMINENT_DANGER: Draft(
        "spanga-tensta",
        Kind.IMMINENT_DANGER,
        "Har en kniv och är på väg",
        ("weapons",),
        False,
        Subject("18-25", "brother"),
    ),
    Kind.SIG_REFERRAL: Draft(
        "rinkeby-kista",
        Kind.SIG_REFERRAL,
        "Rekryteras av en grupp",
        ("contact_with_milieu",),
        True,
        Subject("13-17", "nephew"),
    ),
}


def drafted(kind: Kind = Kind.CHILD_CONCERN, **changes: object) -> Escalation:
    draft = rules.validate_draft(replace(VALID[kind], **changes), CONFIG)  # type: ignore[arg-type]
    return rules.new_escalation("e-1", "c-1", "sv", DRAFTER, draft, NOW)


def sent(kind: Kind = Kind.CHILD_CONCERN) -> Escalation:
    submitted = rules.submit(drafted(kind), ROUTE, NOW)
    if submitted.state is State.SENT:
        return submitted
    return rules.approve(submitted, SUPERVISOR, ROUTE, NOW)


def user(user_id: int, role: Role, route: str | None = None) -> StaffUser:
    return StaffUser(user_id, f"u{user_id}", f"U{user_id}", role, route=route)


# ---- validation ----


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_a_valid_minimal_draft(kind: Kind) -> None:
    draft = rules.validate_draft(VALID[kind], CONFIG)
    assert draft.summary == VALID[kind].summary.strip()
    assert draft.subject.relation == VALID[kind].subject.relation.strip()


def test_an_empty_indicator_list_is_valid_where_the_summary_says_enough() -> None:
    assert rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], indicators=()), CONFIG).indicators == ()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"summary": "   "}, "summary"),
        ({"indicators": ("no_such_indicator",)}, "indicators"),
        ({"indicators": ("weapons", "weapons")}, "indicators"),
        ({"subject": Subject("7-9", "son")}, "subject.age_band"),
        ({"subject": Subject("0-12", "  ")}, "subject.relation"),
        ({"summary": "x" * (rules.MAX_SUMMARY + 1)}, "summary"),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], **changes), CONFIG)  # type: ignore[arg-type]
    assert caught.value.message.startswith(f"{field}:")


def test_a_child_concern_is_about_a_child() -> None:
    with raises_code(InvalidInput, "age_band_not_allowed"):
        rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], subject=Subject("26+", "husband")), CONFIG)


def test_unknown_route_and_kinds_a_route_does_not_receive_are_refused() -> None:
    with raises_code(InvalidInput, "unknown_route"):
        rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], route="nowhere"), CONFIG)
    narrow = replace(
        CONFIG, routes={**CONFIG.routes, "narrow": replace(ROUTE, id="narrow", kinds=frozenset())}
    )
    with raises_code(InvalidInput, "kind_not_routed"):
        rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], route="narrow"), narrow)


def test_contact_details_only_with_consent() -> None:
    with raises_code(InvalidInput, "consent_required"):
        rules.validate_draft(
            replace(VALID[Kind.CHILD_CONCERN], contact=Contact(phone="+46701740605")), CONFIG
        )
    with raises_code(InvalidInput, "consent_required"):
        rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], share_transcript=True), CONFIG)


def test_a_consent_referral_needs_consent_and_contact_details() -> None:
    with raises_code(InvalidInput, "consent_required"):
        rules.validate_draft(replace(VALID[Kind.CONSENT_REFERRAL], consent=False, contact=None), CONFIG)
    with pytest.raises(InvalidInput, match=r"^contact: required"):
        rules.validate_draft(replace(VALID[Kind.CONSENT_REFERRAL], contact=Contact(name="  ")), CONFIG)


def test_contact_details_are_checked_for_shape() -> None:
    with pytest.raises(InvalidInput, match=r"^contact.phone"):
        rules.validate_draft(replace(VALID[Kind.CONSENT_REFERRAL], contact=Contact(phone="call me")), CONFIG)
    with pytest.raises(InvalidInput, match=r"^contact.email"):
        rules.validate_draft(replace(VALID[Kind.CONSENT_REFERRAL], contact=Contact(email="nope")), CONFIG)


# ---- the state machine ----


def test_a_draft_waits_for_approval_and_is_sent_by_a_second_person() -> None:
    waiting = rules.submit(drafted(), ROUTE, NOW)
    assert waiting.state is State.AWAITING_APPROVAL
    assert waiting.ack_deadline is None and not waiting.delivered
    with raises_code(Forbidden, "own_escalation"):
        rules.approve(waiting, DRAFTER, ROUTE, NOW)
    approved = rules.approve(waiting, SUPERVISOR, ROUTE, NOW + timedelta(minutes=5))
    assert approved.state is State.SENT and approved.approved_by == SUPERVISOR
    assert approved.ack_deadline == NOW + timedelta(minutes=5) + ROUTE.ack_deadline


def test_imminent_danger_is_sent_at_once_without_approval() -> None:
    escalation = rules.submit(drafted(Kind.IMMINENT_DANGER), ROUTE, NOW)
    assert escalation.state is State.SENT and escalation.approved_by is None
    assert escalation.sent_at == NOW and escalation.ack_deadline == NOW + ROUTE.ack_deadline
    assert not rules.requires_approval(Kind.IMMINENT_DANGER)
    assert all(rules.requires_approval(kind) for kind in Kind if kind is not Kind.IMMINENT_DANGER)


def test_sent_back_then_resubmitted_with_changes() -> None:
    waiting = rules.submit(drafted(), ROUTE, NOW)
    with raises_code(Forbidden, "own_escalation"):
        rules.send_back(waiting, DRAFTER, "no", NOW)
    back = rules.send_back(waiting, SUPERVISOR, "  Skriv vad som iakttogs  ", NOW)
    assert back.state is State.SENT_BACK and back.sent_back_reason == "Skriv vad som iakttogs"
    changed = rules.validate_draft(replace(VALID[Kind.CHILD_CONCERN], summary="Mer detaljer"), CONFIG)
    again = rules.resubmit(back, changed, NOW)
    assert again.state is State.AWAITING_APPROVAL and again.draft.summary == "Mer detaljer"
    assert again.sent_back_reason is None


def test_the_route_acknowledges_then_records_outcomes_forward_only() -> None:
    acknowledged = rules.acknowledge(sent(), LIAISON, NOW)
    assert acknowledged.state is State.ACKNOWLEDGED and acknowledged.acknowledged_by == LIAISON
    received = rules.record_outcome(acknowledged, State.RECEIVED, None, NOW)
    assessing = rules.record_outcome(received, State.UNDER_ASSESSMENT, None, NOW)
    with pytest.raises(InvalidInput, match=r"^feedback: required"):
        rules.record_outcome(assessing, State.CLOSED_WITH_FEEDBACK, " ", NOW)
    closed = rules.record_outcome(assessing, State.CLOSED_WITH_FEEDBACK, "Kontakt tagen", NOW)
    assert closed.feedback == "Kontakt tagen"
    with pytest.raises(InvalidTransition):
        rules.record_outcome(closed, State.RECEIVED, None, NOW)
    with pytest.raises(InvalidTransition):
        rules.record_outcome(assessing, State.RECEIVED, None, NOW)
    with pytest.raises(InvalidInput):
        rules.record_outcome(acknowledged, State.SENT, None, NOW)


@pytest.mark.parametrize("state", list(State))
def test_every_state_refuses_what_its_transitions_do_not_list(state: State) -> None:
    escalation = replace(drafted(), state=state)
    attempts = {
        State.ACKNOWLEDGED: lambda: rules.acknowledge(escalation, LIAISON, NOW),
        State.SENT_BACK: lambda: rules.send_back(escalation, SUPERVISOR, None, NOW),
    }
    for target, attempt in attempts.items():
        if target in TRANSITIONS[state]:
            assert attempt().state is target
        else:
            with pytest.raises(InvalidTransition):
                attempt()


@pytest.mark.parametrize("state", [s for s in State if s is not State.AWAITING_APPROVAL])
def test_only_an_escalation_awaiting_approval_can_be_approved(state: State) -> None:
    with pytest.raises(InvalidTransition):
        rules.approve(replace(drafted(), state=state), SUPERVISOR, ROUTE, NOW)


def test_closed_is_final() -> None:
    assert TRANSITIONS[State.CLOSED_WITH_FEEDBACK] == frozenset()


# ---- deadlines and the backup route ----


def test_a_missed_deadline_brings_in_the_backup_route_once_with_its_own_deadline() -> None:
    escalation = sent()
    assert escalation.deadline is not None
    assert not escalation.is_overdue(escalation.deadline - timedelta(seconds=1))
    late = escalation.deadline + timedelta(seconds=1)
    assert escalation.is_overdue(late)
    missed = rules.miss_deadline(escalation, BACKUP, late)
    assert missed.backup_route == BACKUP.id and missed.deadline == late + BACKUP.ack_deadline
    assert missed.routes == {ROUTE.id, BACKUP.id}
    with pytest.raises(InvalidTransition):
        rules.miss_deadline(missed, BACKUP, missed.deadline + timedelta(seconds=1))
    with pytest.raises(InvalidTransition):
        rules.miss_deadline(escalation, BACKUP, escalation.deadline - timedelta(seconds=1))


def test_a_route_without_backup_still_marks_the_deadline_missed() -> None:
    escalation = sent()
    assert escalation.deadline is not None
    missed = rules.miss_deadline(escalation, None, escalation.deadline)
    assert missed.deadline_missed_at == escalation.deadline and missed.backup_route is None


def test_an_acknowledged_escalation_is_never_overdue() -> None:
    acknowledged = rules.acknowledge(sent(), LIAISON, NOW)
    assert not acknowledged.is_overdue(NOW + timedelta(days=30))


# ---- what each side sees ----


def test_the_relative_learns_sent_received_or_closed_and_nothing_before_sending() -> None:
    expected = {
        State.DRAFT: None,
        State.AWAITING_APPROVAL: None,
        State.SENT_BACK: None,
        State.SENT: RelativeStatus.SENT,
        State.ACKNOWLEDGED: RelativeStatus.SENT,
        State.RECEIVED: RelativeStatus.RECEIVED,
        State.UNDER_ASSESSMENT: RelativeStatus.RECEIVED,
        State.CLOSED_WITH_FEEDBACK: RelativeStatus.CLOSED,
    }
    assert {state: replace(drafted(), state=state).relative_status() for state in State} == expected


def test_ownership_and_facts() -> None:
    escalation = sent()
    assert escalation.ownership(user(DRAFTER, Role.COUNSELLOR)) is Ownership.OWN
    assert escalation.ownership(user(LIAISON, Role.SOCIAL_SERVICES, ROUTE.id)) is Ownership.ROUTE
    assert escalation.ownership(user(LIAISON, Role.SOCIAL_SERVICES, BACKUP.id)) is Ownership.OTHER
    assert escalation.ownership(user(SUPERVISOR, Role.SUPERVISOR)) is Ownership.OTHER
    assert escalation.facts() == {Fact.DELIVERED}
    shared = replace(escalation, draft=replace(escalation.draft, consent=True, share_transcript=True))
    assert shared.facts() == {Fact.DELIVERED, Fact.TRANSCRIPT_SHARED}
    assert rules.submit(drafted(), ROUTE, NOW).facts() == frozenset()


def test_possible_actions_follow_the_state() -> None:
    assert Action.ESCALATION_APPROVE in rules.possible_actions(rules.submit(drafted(), ROUTE, NOW))
    assert Action.ESCALATION_ACKNOWLEDGE in rules.possible_actions(sent())
    assert Action.ESCALATION_APPROVE not in rules.possible_actions(sent())


def test_relative_notices_exist_in_all_six_languages_and_fall_back_to_english() -> None:
    for kind in Kind:
        rule = CONFIG.kinds[kind]
        for language in ("sv", "en", "ar", "so", "fa", "ti"):
            assert rule.relative_notice(language) == rule.texts[language].relative_notice != ""
        # A language an operator's own file leaves out gets English.
        assert rule.relative_notice("xx") == rule.texts["en"].relative_notice
    for language in ("ar", "so", "fa", "ti"):
        assert "112" in CONFIG.kinds[Kind.IMMINENT_DANGER].relative_notice(language)
