"""Who may do what, as data: role x action x ownership -> allowed.

Ownership is how the acting staff member relates to the object of the action:

- ``own``: they drafted the escalation (or hold the conversation an action starts from);
- ``route``: the escalation is delivered to their route (district);
- ``other``: neither;
- ``none``: the action has no single object (a list, the audit view, a socket subscription).

A rule can also ask for facts about the object (``requires``), such as "delivered to the route"
or "the relative consented to share the transcript". Services compute ownership and facts and
ask ``require``; nothing else decides. New actions (the chat's, for example) are new rows.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from server.domain.errors import Forbidden
from server.domain.staff import CHAT_ROLES, Role


class Ownership(enum.StrEnum):
    OWN = "own"
    ROUTE = "route"
    OTHER = "other"
    NONE = "none"


class Fact(enum.StrEnum):
    DELIVERED = "delivered"
    TRANSCRIPT_SHARED = "transcript_shared"


class Action(enum.StrEnum):
    ESCALATION_CREATE = "escalation.create"
    ESCALATION_LIST = "escalation.list"
    ESCALATION_READ = "escalation.read"
    ESCALATION_TRANSCRIPT = "escalation.transcript"
    ESCALATION_RESUBMIT = "escalation.resubmit"
    ESCALATION_APPROVE = "escalation.approve"
    ESCALATION_SEND_BACK = "escalation.send_back"
    ESCALATION_ACKNOWLEDGE = "escalation.acknowledge"
    ESCALATION_OUTCOME = "escalation.outcome"
    ESCALATION_AUDIT = "escalation.audit"
    ESCALATION_SUBSCRIBE = "escalation.subscribe"
    CHAT_CONSOLE = "chat.console"
    CONVERSATION_CLAIM = "conversation.claim"
    CONVERSATION_SEND = "conversation.send"
    CONVERSATION_READ = "conversation.read"
    CONVERSATION_READ_CLOSED = "conversation.read_closed"
    CONVERSATION_NOTE = "conversation.note"
    CONVERSATION_TRANSFER = "conversation.transfer"
    CONVERSATION_CLOSE = "conversation.close"
    STAFF_LIST = "staff.list"
    STAFF_ADD = "staff.add"
    STAFF_EDIT = "staff.edit"
    STAFF_PASSWORD_RESET = "staff.password_reset"  # noqa: S105 (an action name)
    STAFF_TOTP_RESET = "staff.totp_reset"
    AUDIT_READ = "audit.read"
    AVAILABILITY_READ = "availability.read"
    AVAILABILITY_EDIT = "availability.edit"
    APPOINTMENT_LIST = "appointment.list"
    APPOINTMENT_CANCEL = "appointment.cancel"
    APPOINTMENT_OUTCOME = "appointment.outcome"
    APPOINTMENT_PHONE = "appointment.phone"
    SLOTS_OFFER_LIST = "slots.offer_list"
    SLOTS_OFFER = "slots.offer"
    SMS_OUTBOX_READ = "sms_outbox.read"
    STATISTICS_READ = "statistics.read"
    SUPERVISION_VIEW = "supervision.view"
    SUPERVISION_READ = "supervision.read"
    SUPERVISION_JOIN = "supervision.join"
    SUPERVISION_REASSIGN = "supervision.reassign"
    RETENTION_READ = "retention.read"
    KNOWLEDGE_EDIT = "knowledge.edit"
    KNOWLEDGE_READ_INTERNAL = "knowledge.read_internal"


@dataclass(frozen=True)
class Rule:
    ownership: frozenset[Ownership]
    requires: frozenset[Fact] = frozenset()


OBJECT_OWNERSHIPS = frozenset({Ownership.OWN, Ownership.ROUTE, Ownership.OTHER})
NO_OBJECT = frozenset({Ownership.NONE})


def _rule(*ownership: Ownership, requires: tuple[Fact, ...] = ()) -> Rule:
    return Rule(frozenset(ownership), frozenset(requires))


_ANY = _rule(*OBJECT_OWNERSHIPS)
_NOT_OWN = _rule(Ownership.ROUTE, Ownership.OTHER)
_OWN = _rule(Ownership.OWN)
_ROUTE_DELIVERED = _rule(Ownership.ROUTE, requires=(Fact.DELIVERED,))
_SIGNED_IN = _rule(Ownership.NONE)
_HOLDING = _rule(Ownership.OWN)
_ANY_CONVERSATION = _rule(Ownership.OWN, Ownership.OTHER)
OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)


def _chat(counsellor: Rule, overseer: Rule) -> dict[Role, Rule]:
    """A row for the roles who chat and take appointments: CHAT_ROLES."""
    return {role: overseer if role in OVERSEERS else counsellor for role in sorted(CHAT_ROLES)}


RULES: Mapping[Action, Mapping[Role, Rule]] = {
    # Drafting starts from a conversation; "own" means holding it.
    Action.ESCALATION_CREATE: {Role.COUNSELLOR: _OWN, Role.SUPERVISOR: _OWN},
    Action.ESCALATION_LIST: {
        Role.COUNSELLOR: _SIGNED_IN,
        Role.SUPERVISOR: _SIGNED_IN,
        Role.SOCIAL_SERVICES: _SIGNED_IN,
    },
    Action.ESCALATION_READ: {
        Role.COUNSELLOR: _OWN,
        Role.SUPERVISOR: _ANY,
        Role.SOCIAL_SERVICES: _ROUTE_DELIVERED,
    },
    Action.ESCALATION_TRANSCRIPT: {
        Role.COUNSELLOR: _OWN,
        Role.SUPERVISOR: _ANY,
        Role.SOCIAL_SERVICES: _rule(Ownership.ROUTE, requires=(Fact.DELIVERED, Fact.TRANSCRIPT_SHARED)),
    },
    Action.ESCALATION_RESUBMIT: {Role.COUNSELLOR: _OWN, Role.SUPERVISOR: _OWN},
    # Never the person who drafted it.
    Action.ESCALATION_APPROVE: {Role.SUPERVISOR: _NOT_OWN},
    Action.ESCALATION_SEND_BACK: {Role.SUPERVISOR: _NOT_OWN},
    Action.ESCALATION_ACKNOWLEDGE: {Role.SOCIAL_SERVICES: _ROUTE_DELIVERED},
    Action.ESCALATION_OUTCOME: {Role.SOCIAL_SERVICES: _ROUTE_DELIVERED},
    Action.ESCALATION_AUDIT: {Role.SUPERVISOR: _SIGNED_IN},
    Action.ESCALATION_SUBSCRIBE: {
        Role.COUNSELLOR: _SIGNED_IN,
        Role.SUPERVISOR: _SIGNED_IN,
        Role.SOCIAL_SERVICES: _SIGNED_IN,
    },
    # Chat: "own" means holding the conversation. Social services never see chats.
    Action.CHAT_CONSOLE: _chat(_SIGNED_IN, _SIGNED_IN),
    Action.CONVERSATION_CLAIM: _chat(_ANY_CONVERSATION, _ANY_CONVERSATION),
    Action.CONVERSATION_SEND: _chat(_HOLDING, _HOLDING),
    Action.CONVERSATION_TRANSFER: _chat(_HOLDING, _HOLDING),
    Action.CONVERSATION_READ: _chat(_HOLDING, _ANY_CONVERSATION),
    Action.CONVERSATION_NOTE: _chat(_HOLDING, _ANY_CONVERSATION),
    Action.CONVERSATION_CLOSE: _chat(_HOLDING, _ANY_CONVERSATION),
    # The history of closed conversations stays readable to everyone who chats.
    Action.CONVERSATION_READ_CLOSED: _chat(_ANY_CONVERSATION, _ANY_CONVERSATION),
    # Staff accounts: "own" means the account is the actor's. Admins list and add accounts, change
    # another's role, route or disabled state (staff.edit), and give another a new setup link
    # (a forgotten password) or reset their two-factor sign-in (a lost phone). Nobody disables,
    # demotes or resets their own account this way: their own password and recovery codes are
    # changed with the current ones, which needs no row here.
    Action.STAFF_LIST: {Role.ADMIN: _SIGNED_IN},
    Action.STAFF_ADD: {Role.ADMIN: _SIGNED_IN},
    Action.STAFF_EDIT: {Role.ADMIN: _rule(Ownership.OTHER)},
    Action.STAFF_PASSWORD_RESET: {Role.ADMIN: _rule(Ownership.OTHER)},
    Action.STAFF_TOTP_RESET: {Role.ADMIN: _rule(Ownership.OTHER)},
    # The chat audit log (who read or changed which conversation, never content) is for those who
    # oversee the line; escalations have their own audit view (escalation.audit).
    Action.AUDIT_READ: dict.fromkeys(OVERSEERS, _SIGNED_IN),
    # Booking: those who chat take appointments. "Own" means the appointment is booked with the
    # actor; supervisors and admins act on anyone's. Availability is always the actor's own.
    Action.AVAILABILITY_READ: _chat(_SIGNED_IN, _SIGNED_IN),
    Action.AVAILABILITY_EDIT: _chat(_SIGNED_IN, _SIGNED_IN),
    Action.APPOINTMENT_LIST: _chat(_SIGNED_IN, _SIGNED_IN),
    Action.APPOINTMENT_CANCEL: _chat(_OWN, _ANY_CONVERSATION),
    Action.APPOINTMENT_OUTCOME: _chat(_OWN, _ANY_CONVERSATION),
    Action.APPOINTMENT_PHONE: _chat(_OWN, _ANY_CONVERSATION),
    # Offering times happens inside a chat: "own" means holding the conversation.
    Action.SLOTS_OFFER_LIST: _chat(_SIGNED_IN, _SIGNED_IN),
    Action.SLOTS_OFFER: _chat(_HOLDING, _HOLDING),
    # The outbox holds the texts as sent (masked numbers, real bodies): administrators only.
    Action.SMS_OUTBOX_READ: {Role.ADMIN: _SIGNED_IN},
    # Counts over anonymous contact records (small counts suppressed): for those who oversee the
    # line and report on it; never counsellors or social services.
    Action.STATISTICS_READ: dict.fromkeys((*OVERSEERS, Role.COORDINATOR), _SIGNED_IN),
    # The knowledge bank (docs/knowledge.md): the coordinator and administrators write it (drafts,
    # versions, publishing); those who chat also read the internal guidance and unpublished items.
    # Sending a resource into a chat (send_resource) is conversation.send.
    Action.KNOWLEDGE_EDIT: dict.fromkeys((Role.COORDINATOR, Role.ADMIN), _SIGNED_IN),
    Action.KNOWLEDGE_READ_INTERNAL: dict.fromkeys((*sorted(CHAT_ROLES), Role.COORDINATOR), _SIGNED_IN),
    # Supervision (the live view): those who oversee the line see every waiting and active
    # conversation's facts (never its text), read one for a configured reason (audited), join it
    # as a second counsellor, and hand it to another counsellor. "Own" means holding or having
    # joined it. A private word to the counsellor is a conversation note (conversation.note).
    Action.SUPERVISION_VIEW: dict.fromkeys(OVERSEERS, _SIGNED_IN),
    Action.SUPERVISION_READ: dict.fromkeys(OVERSEERS, _ANY_CONVERSATION),
    Action.SUPERVISION_JOIN: dict.fromkeys(OVERSEERS, _ANY_CONVERSATION),
    Action.SUPERVISION_REASSIGN: dict.fromkeys(OVERSEERS, _ANY_CONVERSATION),
    # What the retention sweeps removed (counts only): the administrators who answer for retention.
    Action.RETENTION_READ: {Role.ADMIN: _SIGNED_IN},
}

ESCALATION_ACTIONS = frozenset(action for action in Action if action.value.startswith("escalation."))
STAFF_ACTIONS = frozenset(action for action in Action if action.value.startswith("staff."))
BOOKING_ACTIONS = frozenset(
    action
    for action in Action
    if action.value.startswith(("availability.", "appointment.", "slots.", "sms_outbox."))
)
STATISTICS_ACTIONS = frozenset(action for action in Action if action.value.startswith("statistics."))
# Running the service: the administrators' views (retention).
OPERATIONS_ACTIONS = frozenset(action for action in Action if action.value.startswith("retention."))
KNOWLEDGE_ACTIONS = frozenset(action for action in Action if action.value.startswith("knowledge."))
# Everything else is the chat's, its audit log (audit.read) included.
CHAT_ACTIONS = (
    frozenset(Action)
    - ESCALATION_ACTIONS
    - STAFF_ACTIONS
    - BOOKING_ACTIONS
    - STATISTICS_ACTIONS
    - OPERATIONS_ACTIONS
    - KNOWLEDGE_ACTIONS
)

# The ownerships that can occur for each action: actions on one escalation see own/route/other,
# drafting and chat actions see own/other (holding the conversation or not), staff-account actions
# see own/other (the actor's account or not), lists, consoles and subscriptions see none.
SCOPES: Mapping[Action, frozenset[Ownership]] = {
    action: (
        NO_OBJECT
        if action
        in {
            Action.ESCALATION_LIST,
            Action.ESCALATION_AUDIT,
            Action.ESCALATION_SUBSCRIBE,
            Action.CHAT_CONSOLE,
            Action.AUDIT_READ,
            Action.AVAILABILITY_READ,
            Action.AVAILABILITY_EDIT,
            Action.APPOINTMENT_LIST,
            Action.SLOTS_OFFER_LIST,
            Action.SMS_OUTBOX_READ,
            Action.STATISTICS_READ,
            Action.SUPERVISION_VIEW,
            Action.STAFF_LIST,
            Action.STAFF_ADD,
            Action.RETENTION_READ,
            Action.KNOWLEDGE_EDIT,
            Action.KNOWLEDGE_READ_INTERNAL,
        }
        else frozenset({Ownership.OWN, Ownership.OTHER})
        if action is Action.ESCALATION_CREATE or action in CHAT_ACTIONS | STAFF_ACTIONS | BOOKING_ACTIONS
        else OBJECT_OWNERSHIPS
    )
    for action in Action
}


def allowed(role: Role, action: Action, ownership: Ownership, facts: frozenset[Fact] = frozenset()) -> bool:
    rule = RULES.get(action, {}).get(role)
    return rule is not None and ownership in rule.ownership and rule.requires <= facts


def require(role: Role, action: Action, ownership: Ownership, facts: frozenset[Fact] = frozenset()) -> None:
    if not allowed(role, action, ownership, facts):
        raise Forbidden(f"{role.value} may not {action.value} here")


def roles_allowed(action: Action) -> frozenset[Role]:
    """Roles with any rule for action, whatever the ownership."""
    return frozenset(RULES.get(action, {}))


CONVERSATION_READS = (Action.CONVERSATION_READ, Action.CONVERSATION_READ_CLOSED)


def reads_conversations(role: Role) -> bool:
    """Whether the role may read some conversation, open or closed. To a role that never may, a
    conversation it is refused is answered as not found, so its id reveals nothing."""
    return any(role in roles_allowed(action) for action in CONVERSATION_READS)
