"""The booking rows of the permission table against what booking allowed before they were rows,
written out here by hand and independently of server/domain/permissions.py: every role who chats
edits their own availability, lists appointments and the conversations to offer times in, and
offers times only in a conversation they hold; a counsellor cancels, records the outcome of and
reveals the number of only appointments booked with them, supervisors and admins of any; only
admins read the SMS outbox; social services users take no part in booking."""

from __future__ import annotations

import itertools

import pytest

from server.domain.permissions import (
    BOOKING_ACTIONS,
    CHAT_ACTIONS,
    RULES,
    SCOPES,
    Action,
    Fact,
    Ownership,
    allowed,
)
from server.domain.staff import Role

NONE, OWN, ANY = {Ownership.NONE}, {Ownership.OWN}, {Ownership.OWN, Ownership.OTHER}
C, S, A = Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN

# action -> role -> the ownerships it is allowed with; a role left out may do nothing.
PROMISED: dict[Action, dict[Role, set[Ownership]]] = {
    Action.AVAILABILITY_READ: {C: NONE, S: NONE, A: NONE},
    Action.AVAILABILITY_EDIT: {C: NONE, S: NONE, A: NONE},
    Action.APPOINTMENT_LIST: {C: NONE, S: NONE, A: NONE},
    Action.APPOINTMENT_CANCEL: {C: OWN, S: ANY, A: ANY},
    Action.APPOINTMENT_OUTCOME: {C: OWN, S: ANY, A: ANY},
    Action.APPOINTMENT_PHONE: {C: OWN, S: ANY, A: ANY},
    Action.SLOTS_OFFER_LIST: {C: NONE, S: NONE, A: NONE},
    Action.SLOTS_OFFER: {C: OWN, S: OWN, A: OWN},
    Action.SMS_OUTBOX_READ: {A: NONE},
}


def test_every_booking_action_has_a_written_promise() -> None:
    assert set(PROMISED) == set(BOOKING_ACTIONS)
    assert not BOOKING_ACTIONS & CHAT_ACTIONS


@pytest.mark.parametrize(
    ("role", "action", "ownership"),
    list(itertools.product(Role, sorted(BOOKING_ACTIONS), Ownership)),
    ids=lambda value: value.value,
)
def test_every_combination_matches_the_promise(role: Role, action: Action, ownership: Ownership) -> None:
    assert allowed(role, action, ownership) is (ownership in PROMISED[action].get(role, set()))
    assert allowed(role, action, ownership, frozenset(Fact)) is allowed(role, action, ownership)


def test_booking_scopes_are_none_or_own_and_other() -> None:
    for action in BOOKING_ACTIONS:
        promised = set().union(*PROMISED[action].values())
        assert SCOPES[action] == (NONE if promised == NONE else ANY), action


def test_social_services_take_no_part_in_booking() -> None:
    assert all(Role.SOCIAL_SERVICES not in RULES[action] for action in BOOKING_ACTIONS)
