"""The chat rows of the permission table against the chat's promises, written out here by hand and
independently of server/domain/permissions.py: every chat role opens the console and claims from
the queue; only the holder writes to the relative (messages, typing, read marks) and hands a
conversation on; a counsellor reads, annotates and closes only what they hold, supervisors and
admins any conversation; closed history stays readable to everyone who chats; only supervisors and
admins read the chat audit log; only supervisors and admins see the live view and read, join or
reassign any open conversation from it; social services users never see chats (docs/protocol.md,
/counsellor and GET /api/staff/audit)."""

from __future__ import annotations

import itertools

import pytest

from server.domain import permissions, staff
from server.domain.permissions import CHAT_ACTIONS, RULES, SCOPES, Action, Fact, Ownership, allowed
from server.domain.staff import Role

NONE, OWN, OTHER = {Ownership.NONE}, {Ownership.OWN}, {Ownership.OWN, Ownership.OTHER}
C, S, A, SS = Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN, Role.SOCIAL_SERVICES

# action -> role -> the ownerships it is allowed with; a role left out may do nothing.
PROMISED: dict[Action, dict[Role, set[Ownership]]] = {
    Action.CHAT_CONSOLE: {C: NONE, S: NONE, A: NONE},
    Action.CONVERSATION_CLAIM: {C: OTHER, S: OTHER, A: OTHER},
    Action.CONVERSATION_SEND: {C: OWN, S: OWN, A: OWN},
    Action.CONVERSATION_TRANSFER: {C: OWN, S: OWN, A: OWN},
    Action.CONVERSATION_READ: {C: OWN, S: OTHER, A: OTHER},
    Action.CONVERSATION_NOTE: {C: OWN, S: OTHER, A: OTHER},
    Action.CONVERSATION_CLOSE: {C: OWN, S: OTHER, A: OTHER},
    Action.CONVERSATION_READ_CLOSED: {C: OTHER, S: OTHER, A: OTHER},
    Action.AUDIT_READ: {S: NONE, A: NONE},
    Action.SUPERVISION_VIEW: {S: NONE, A: NONE},
    Action.SUPERVISION_READ: {S: OTHER, A: OTHER},
    Action.SUPERVISION_JOIN: {S: OTHER, A: OTHER},
    Action.SUPERVISION_REASSIGN: {S: OTHER, A: OTHER},
}


def test_every_chat_action_has_a_written_promise() -> None:
    assert set(PROMISED) == set(CHAT_ACTIONS)


@pytest.mark.parametrize(
    ("role", "action", "ownership"),
    list(itertools.product(Role, sorted(CHAT_ACTIONS), Ownership)),
    ids=lambda value: value.value,
)
def test_every_combination_matches_the_promise(role: Role, action: Action, ownership: Ownership) -> None:
    assert allowed(role, action, ownership) is (ownership in PROMISED[action].get(role, set()))


@pytest.mark.parametrize("action", sorted(CHAT_ACTIONS), ids=str)
def test_no_chat_rule_asks_for_facts(action: Action) -> None:
    assert all(rule.requires == frozenset() for rule in RULES[action].values())
    for role, ownership in itertools.product(Role, Ownership):
        assert allowed(role, action, ownership, frozenset(Fact)) is allowed(role, action, ownership)


def test_chat_scopes_are_the_console_the_audit_log_or_holding() -> None:
    for action in CHAT_ACTIONS:
        expected = (
            NONE if action in {Action.CHAT_CONSOLE, Action.AUDIT_READ, Action.SUPERVISION_VIEW} else OTHER
        )
        assert SCOPES[action] == expected, action


def test_social_services_and_the_coordinator_never_see_chats() -> None:
    assert all(SS not in RULES[action] for action in CHAT_ACTIONS)
    assert all(Role.COORDINATOR not in RULES[action] for action in CHAT_ACTIONS)


def test_only_social_services_and_the_coordinator_never_read_conversations() -> None:
    """Those are told a conversation does not exist rather than that they may not see it."""
    never = {role for role in Role if not permissions.reads_conversations(role)}
    assert never == {SS, Role.COORDINATOR}


def test_the_roles_who_chat_are_those_the_table_lets_open_the_console() -> None:
    """staff.CHAT_ROLES (who is counted online, who takes appointments) is the console's row."""
    assert permissions.roles_allowed(Action.CHAT_CONSOLE) == staff.CHAT_ROLES


def test_a_refusal_that_holding_would_lift_is_told_apart() -> None:
    """The cases the server answers with not_holder rather than forbidden (docs/protocol.md)."""
    not_holder = {
        (role, action)
        for role, action in itertools.product(Role, CHAT_ACTIONS)
        if not allowed(role, action, Ownership.OTHER) and allowed(role, action, Ownership.OWN)
    }
    assert not_holder == {
        (C, Action.CONVERSATION_SEND),
        (S, Action.CONVERSATION_SEND),
        (A, Action.CONVERSATION_SEND),
        (C, Action.CONVERSATION_TRANSFER),
        (S, Action.CONVERSATION_TRANSFER),
        (A, Action.CONVERSATION_TRANSFER),
        (C, Action.CONVERSATION_READ),
        (C, Action.CONVERSATION_NOTE),
        (C, Action.CONVERSATION_CLOSE),
    }
