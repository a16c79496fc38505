"""The permission rules as data: the promises of issue 4 hold for every role x action x ownership,
written out here independently of the table in server/domain/permissions.py."""

from __future__ import annotations

import itertools

import pytest

from server.domain.errors import Forbidden
from server.domain.permissions import (
    ESCALATION_ACTIONS,
    RULES,
    SCOPES,
    Action,
    Fact,
    Ownership,
    allowed,
    require,
    roles_allowed,
)
from server.domain.staff import Role

ALL_FACTS = frozenset(Fact)
DELIVERED = frozenset({Fact.DELIVERED})


def expected(role: Role, action: Action, ownership: Ownership, facts: frozenset[Fact]) -> bool:
    """Issue 4, section 5, in plain code: a counsellor sees what they drafted, a supervisor sees all,
    a social services user sees only their route's delivered escalations (the transcript only with
    consent); approving is never for the drafter; only the route acknowledges; admins and the
    coordinator see nothing."""
    delivered = Fact.DELIVERED in facts
    if role in (Role.ADMIN, Role.COORDINATOR):
        return False
    if action is Action.ESCALATION_CREATE:
        return role in {Role.COUNSELLOR, Role.SUPERVISOR} and ownership is Ownership.OWN
    if action in {Action.ESCALATION_LIST, Action.ESCALATION_SUBSCRIBE}:
        return ownership is Ownership.NONE
    if action is Action.ESCALATION_AUDIT:
        return role is Role.SUPERVISOR and ownership is Ownership.NONE
    if ownership is Ownership.NONE:
        return False
    if action is Action.ESCALATION_READ:
        return {
            Role.COUNSELLOR: ownership is Ownership.OWN,
            Role.SUPERVISOR: True,
            Role.SOCIAL_SERVICES: ownership is Ownership.ROUTE and delivered,
        }[role]
    if action is Action.ESCALATION_TRANSCRIPT:
        return {
            Role.COUNSELLOR: ownership is Ownership.OWN,
            Role.SUPERVISOR: True,
            Role.SOCIAL_SERVICES: ownership is Ownership.ROUTE and facts == ALL_FACTS,
        }[role]
    if action is Action.ESCALATION_RESUBMIT:
        return role in {Role.COUNSELLOR, Role.SUPERVISOR} and ownership is Ownership.OWN
    if action in {Action.ESCALATION_APPROVE, Action.ESCALATION_SEND_BACK}:
        return role is Role.SUPERVISOR and ownership is not Ownership.OWN
    if action in {Action.ESCALATION_ACKNOWLEDGE, Action.ESCALATION_OUTCOME}:
        return role is Role.SOCIAL_SERVICES and ownership is Ownership.ROUTE and delivered
    raise AssertionError(f"no expectation written for {action}")


FACT_SETS = [frozenset(), DELIVERED, frozenset({Fact.TRANSCRIPT_SHARED}), ALL_FACTS]


@pytest.mark.parametrize(
    ("role", "action", "ownership", "facts"),
    list(itertools.product(Role, sorted(ESCALATION_ACTIONS), Ownership, FACT_SETS)),
    ids=lambda value: value.value if hasattr(value, "value") else "+".join(sorted(value)) or "no-facts",
)
def test_every_combination_matches_the_issue(
    role: Role, action: Action, ownership: Ownership, facts: frozenset[Fact]
) -> None:
    assert allowed(role, action, ownership, facts) is expected(role, action, ownership, facts)


def test_every_action_has_rules_and_a_scope() -> None:
    assert set(RULES) == set(Action) == set(SCOPES)


def test_rules_only_name_ownerships_the_action_can_have() -> None:
    for action, by_role in RULES.items():
        for role, rule in by_role.items():
            assert rule.ownership <= SCOPES[action], f"{role} {action}"


def test_require_raises_forbidden() -> None:
    require(Role.SUPERVISOR, Action.ESCALATION_APPROVE, Ownership.OTHER)
    with pytest.raises(Forbidden):
        require(Role.SUPERVISOR, Action.ESCALATION_APPROVE, Ownership.OWN)


def test_roles_allowed() -> None:
    assert roles_allowed(Action.ESCALATION_ACKNOWLEDGE) == {Role.SOCIAL_SERVICES}
    assert Role.ADMIN not in roles_allowed(Action.ESCALATION_READ)
