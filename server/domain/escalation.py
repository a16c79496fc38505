"""Escalations to social services: kinds, the minimal fields, the state machine, deadlines and
the backup route. Pure; no I/O.

    draft -> awaiting_approval -> sent -> acknowledged -> received -> under_assessment -> closed_with_feedback
             awaiting_approval -> sent_back -> awaiting_approval
    draft -> sent                              (imminent danger: no approval, the route is told at once)

The wording and the legal texts of each kind live in config/escalation.toml, because the law
behind them changes; the safety rules (a second person approves, imminent danger does not wait,
contact details only with consent) live here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, get_args

from server.domain.errors import Forbidden, InvalidInput, InvalidTransition
from server.domain.permissions import Action, Fact, Ownership
from server.domain.staff import StaffUser
from server.domain.text import clean_text


class Kind(enum.StrEnum):
    CHILD_CONCERN = "child_concern"
    CONSENT_REFERRAL = "consent_referral"
    IMMINENT_DANGER = "imminent_danger"
    SIG_REFERRAL = "sig_referral"


class State(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SENT_BACK = "sent_back"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    RECEIVED = "received"
    UNDER_ASSESSMENT = "under_assessment"
    CLOSED_WITH_FEEDBACK = "closed_with_feedback"


class RelativeStatus(enum.StrEnum):
    """All a relative ever learns about an escalation."""

    SENT = "sent"
    RECEIVED = "received"
    CLOSED = "closed"


AgeBand = Literal["0-12", "13-17", "18-25", "26+"]
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)
CONTACT_FIELDS = ("name", "phone", "email", "preferred_time")
OPTIONAL_REQUIREMENTS = frozenset({"contact", "indicators"})

MAX_SUMMARY = 4000
MAX_RELATION = 200
MAX_CONTACT_FIELD = 200
MAX_FEEDBACK = 2000
MAX_REASON = 1000
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")

TRANSITIONS: Mapping[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.AWAITING_APPROVAL, State.SENT}),
    State.AWAITING_APPROVAL: frozenset({State.SENT, State.SENT_BACK}),
    State.SENT_BACK: frozenset({State.AWAITING_APPROVAL}),
    State.SENT: frozenset({State.ACKNOWLEDGED}),
    State.ACKNOWLEDGED: frozenset({State.RECEIVED, State.UNDER_ASSESSMENT, State.CLOSED_WITH_FEEDBACK}),
    State.RECEIVED: frozenset({State.UNDER_ASSESSMENT, State.CLOSED_WITH_FEEDBACK}),
    State.UNDER_ASSESSMENT: frozenset({State.CLOSED_WITH_FEEDBACK}),
    State.CLOSED_WITH_FEEDBACK: frozenset(),
}
#: The states social services report back; as names, for the wire.
OutcomeStateName = Literal["received", "under_assessment", "closed_with_feedback"]
OUTCOME_STATES = tuple(State(name) for name in get_args(OutcomeStateName))
DELIVERED_STATES = frozenset(
    {State.SENT, State.ACKNOWLEDGED, State.RECEIVED, State.UNDER_ASSESSMENT, State.CLOSED_WITH_FEEDBACK}
)
_RELATIVE_STATUS: Mapping[State, RelativeStatus] = {
    State.SENT: RelativeStatus.SENT,
    State.ACKNOWLEDGED: RelativeStatus.SENT,
    State.RECEIVED: RelativeStatus.RECEIVED,
    State.UNDER_ASSESSMENT: RelativeStatus.RECEIVED,
    State.CLOSED_WITH_FEEDBACK: RelativeStatus.CLOSED,
}


# ---- configuration, as loaded from config/escalation.toml ----


@dataclass(frozen=True)
class KindText:
    """Wording of one kind in one language. Only relative_notice is needed for every language the
    relative can choose; the staff texts are needed in the console's languages."""

    title: str = ""
    guidance: str = ""
    law: str = ""
    relative_notice: str = ""
    emergency_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindRule:
    kind: Kind
    age_bands: tuple[str, ...]
    requires_consent: bool
    required: frozenset[str]
    texts: Mapping[str, KindText]

    def text(self, language: str, fallbacks: tuple[str, ...] = ("en", "sv")) -> KindText:
        for code in (language, *fallbacks):
            if code in self.texts:
                return self.texts[code]
        return KindText()

    def relative_notice(self, language: str) -> str:
        """The notice in the relative's language, else English, else Swedish."""
        for code in (language, "en", "sv"):
            text = self.texts.get(code)
            if text and text.relative_notice:
                return text.relative_notice
        return ""


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class Route:
    id: str
    name: str
    kinds: frozenset[Kind]
    ack_deadline: timedelta
    backup_route: str | None = None
    inbox: bool = True
    on_call_sms: str | None = field(default=None, repr=False)
    webhook: Webhook | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class EscalationConfig:
    routes: Mapping[str, Route]
    kinds: Mapping[Kind, KindRule]
    indicators: tuple[Indicator, ...]
    sms_new: str
    sms_backup: str

    @property
    def indicator_ids(self) -> frozenset[str]:
        return frozenset(indicator.id for indicator in self.indicators)

    def route(self, route_id: str) -> Route:
        found = self.routes.get(route_id)
        if found is None:
            raise InvalidInput("route: no such route", code="unknown_route")
        return found


# ---- the escalation ----


@dataclass(frozen=True)
class Subject:
    age_band: str
    relation: str


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_time: str | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in CONTACT_FIELDS)

    def as_dict(self) -> dict[str, str]:
        return {name: value for name in CONTACT_FIELDS if (value := getattr(self, name))}


@dataclass(frozen=True)
class Draft:
    """What a counsellor fills in. Everything else on an escalation is set by the flow."""

    route: str
    kind: Kind
    summary: str
    indicators: tuple[str, ...]
    consent: bool
    subject: Subject
    contact: Contact | None = None
    share_transcript: bool = False


@dataclass(frozen=True)
class Escalation:
    id: str
    conversation_id: str | None
    language: str
    drafter_id: int
    draft: Draft
    state: State
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    approved_by: int | None = None
    sent_back_by: int | None = None
    sent_back_reason: str | None = None
    sent_at: datetime | None = None
    ack_deadline: datetime | None = None
    acknowledged_by: int | None = None
    acknowledged_at: datetime | None = None
    deadline_missed_at: datetime | None = None
    backup_route: str | None = None
    backup_deadline: datetime | None = None
    outcome_at: datetime | None = None
    feedback: str | None = None

    @property
    def route(self) -> str:
        return self.draft.route

    @property
    def kind(self) -> Kind:
        return self.draft.kind

    @property
    def routes(self) -> frozenset[str]:
        """Every route this escalation has been delivered to (the backup joins on a missed deadline)."""
        return frozenset(r for r in (self.draft.route, self.backup_route) if r)

    @property
    def delivered(self) -> bool:
        return self.state in DELIVERED_STATES

    @property
    def deadline(self) -> datetime | None:
        """The acknowledgement deadline now in force: the backup route's once it was notified."""
        return self.backup_deadline or self.ack_deadline

    def facts(self) -> frozenset[Fact]:
        facts = set()
        if self.delivered:
            facts.add(Fact.DELIVERED)
        if self.draft.share_transcript and self.draft.consent:
            facts.add(Fact.TRANSCRIPT_SHARED)
        return frozenset(facts)

    def ownership(self, user: StaffUser) -> Ownership:
        if user.id == self.drafter_id:
            return Ownership.OWN
        if user.route is not None and user.route in self.routes:
            return Ownership.ROUTE
        return Ownership.OTHER

    def is_overdue(self, now: datetime) -> bool:
        deadline = self.deadline
        return self.state is State.SENT and deadline is not None and now >= deadline

    def relative_status(self) -> RelativeStatus | None:
        return _RELATIVE_STATUS.get(self.state)


# Actions that make sense in each state, before asking who may do them.
_ACTIONS_BY_STATE: Mapping[State, frozenset[Action]] = {
    State.AWAITING_APPROVAL: frozenset({Action.ESCALATION_APPROVE, Action.ESCALATION_SEND_BACK}),
    State.SENT_BACK: frozenset({Action.ESCALATION_RESUBMIT}),
    State.SENT: frozenset({Action.ESCALATION_ACKNOWLEDGE}),
    State.ACKNOWLEDGED: frozenset({Action.ESCALATION_OUTCOME}),
    State.RECEIVED: frozenset({Action.ESCALATION_OUTCOME}),
    State.UNDER_ASSESSMENT: frozenset({Action.ESCALATION_OUTCOME}),
}


def possible_actions(escalation: Escalation) -> frozenset[Action]:
    return _ACTIONS_BY_STATE.get(escalation.state, frozenset()) | {Action.ESCALATION_TRANSCRIPT}


# ---- rules ----


def requires_approval(kind: Kind) -> bool:
    return kind is not Kind.IMMINENT_DANGER


def _clean(text: str | None, limit: int, name: str) -> str | None:
    if text is None:
        return None
    stripped = clean_text(text).strip()
    if len(stripped) > limit:
        raise InvalidInput(f"{name}: at most {limit} characters")
    return stripped or None


def _clean_contact(contact: Contact | None) -> Contact | None:
    if contact is None:
        return None
    cleaned = Contact(
        **{
            name: _clean(getattr(contact, name), MAX_CONTACT_FIELD, f"contact.{name}")
            for name in CONTACT_FIELDS
        }
    )
    if cleaned.phone and not _PHONE.match(cleaned.phone):
        raise InvalidInput("contact.phone: not a phone number")
    if cleaned.email and not _EMAIL.match(cleaned.email):
        raise InvalidInput("contact.email: not an e-mail address")
    return None if cleaned.is_empty() else cleaned


def validate_draft(draft: Draft, config: EscalationConfig) -> Draft:
    """The draft with surrounding whitespace removed, or InvalidInput naming the field."""
    route = config.route(draft.route)
    if draft.kind not in route.kinds:
        raise InvalidInput(f"route: {route.id} does not receive {draft.kind.value}", code="kind_not_routed")
    rule = config.kinds[draft.kind]
    summary = _clean(draft.summary, MAX_SUMMARY, "summary")
    if not summary:
        raise InvalidInput("summary: required")
    unknown = [i for i in draft.indicators if i not in config.indicator_ids]
    if unknown:
        raise InvalidInput("indicators: unknown ids; see /api/escalations/config")
    if len(set(draft.indicators)) != len(draft.indicators):
        raise InvalidInput("indicators: listed twice")
    if "indicators" in rule.required and not draft.indicators:
        raise InvalidInput(f"indicators: required for {draft.kind.value}")
    if draft.subject.age_band not in AGE_BANDS:
        raise InvalidInput(f"subject.age_band: one of {list(AGE_BANDS)}")
    if draft.subject.age_band not in rule.age_bands:
        raise InvalidInput(
            f"subject.age_band: {draft.kind.value} is for {list(rule.age_bands)}", code="age_band_not_allowed"
        )
    relation = _clean(draft.subject.relation, MAX_RELATION, "subject.relation")
    if not relation:
        raise InvalidInput("subject.relation: required")
    if rule.requires_consent and not draft.consent:
        raise InvalidInput(
            f"consent: {draft.kind.value} needs the relative's consent", code="consent_required"
        )
    contact = _clean_contact(draft.contact)
    if contact is not None and not draft.consent:
        raise InvalidInput("contact: only with the relative's consent", code="consent_required")
    if "contact" in rule.required and contact is None:
        raise InvalidInput(f"contact: required for {draft.kind.value}")
    if draft.share_transcript and not draft.consent:
        raise InvalidInput("share_transcript: only with the relative's consent", code="consent_required")
    return replace(
        draft,
        summary=summary,
        indicators=tuple(draft.indicators),
        subject=Subject(draft.subject.age_band, relation),
        contact=contact,
    )


def _move(escalation: Escalation, to: State, now: datetime, **changes: object) -> Escalation:
    if to not in TRANSITIONS[escalation.state]:
        raise InvalidTransition(f"an escalation cannot go from {escalation.state.value} to {to.value}")
    return replace(escalation, state=to, updated_at=now, **changes)  # type: ignore[arg-type]


def new_escalation(
    escalation_id: str, conversation_id: str, language: str, drafter_id: int, draft: Draft, now: datetime
) -> Escalation:
    return Escalation(
        id=escalation_id,
        conversation_id=conversation_id,
        language=language,
        drafter_id=drafter_id,
        draft=draft,
        state=State.DRAFT,
        created_at=now,
        updated_at=now,
    )


def submit(escalation: Escalation, route: Route, now: datetime) -> Escalation:
    """To the approval queue; imminent danger goes straight to the route."""
    if requires_approval(escalation.kind):
        return _move(escalation, State.AWAITING_APPROVAL, now, submitted_at=now)
    submitted = replace(escalation, submitted_at=now)
    return _move(submitted, State.SENT, now, sent_at=now, ack_deadline=now + route.ack_deadline)


def approve(escalation: Escalation, approver_id: int, route: Route, now: datetime) -> Escalation:
    if approver_id == escalation.drafter_id:
        raise Forbidden("the drafter cannot approve their own escalation", code="own_escalation")
    if escalation.state is not State.AWAITING_APPROVAL:
        raise InvalidTransition(
            f"only an escalation awaiting approval can be approved, not {escalation.state.value}"
        )
    return _move(
        escalation,
        State.SENT,
        now,
        approved_by=approver_id,
        sent_at=now,
        ack_deadline=now + route.ack_deadline,
    )


def send_back(escalation: Escalation, supervisor_id: int, reason: str | None, now: datetime) -> Escalation:
    if supervisor_id == escalation.drafter_id:
        raise Forbidden("the drafter cannot review their own escalation", code="own_escalation")
    return _move(
        escalation,
        State.SENT_BACK,
        now,
        sent_back_by=supervisor_id,
        sent_back_reason=_clean(reason, MAX_REASON, "reason"),
    )


def resubmit(escalation: Escalation, draft: Draft, now: datetime) -> Escalation:
    if escalation.state is not State.SENT_BACK:
        raise InvalidTransition(
            f"only a sent back escalation can be resubmitted, not {escalation.state.value}"
        )
    if draft.kind is Kind.IMMINENT_DANGER or escalation.kind is Kind.IMMINENT_DANGER:
        raise InvalidInput("kind: imminent danger is never sent back; draft a new one")
    return _move(
        escalation, State.AWAITING_APPROVAL, now, draft=draft, submitted_at=now, sent_back_reason=None
    )


def acknowledge(escalation: Escalation, user_id: int, now: datetime) -> Escalation:
    return _move(escalation, State.ACKNOWLEDGED, now, acknowledged_by=user_id, acknowledged_at=now)


def record_outcome(escalation: Escalation, outcome: State, feedback: str | None, now: datetime) -> Escalation:
    if outcome not in OUTCOME_STATES:
        raise InvalidInput(f"state: one of {[s.value for s in OUTCOME_STATES]}")
    cleaned = _clean(feedback, MAX_FEEDBACK, "feedback")
    if outcome is State.CLOSED_WITH_FEEDBACK and not cleaned:
        raise InvalidInput("feedback: required to close")
    return _move(escalation, outcome, now, outcome_at=now, feedback=cleaned or escalation.feedback)


def miss_deadline(escalation: Escalation, backup: Route | None, now: datetime) -> Escalation:
    """The deadline passed without an acknowledgement: the backup route joins, with its own deadline.
    Happens once; the caller claims it with a conditional write."""
    if not escalation.is_overdue(now) or escalation.deadline_missed_at is not None:
        raise InvalidTransition("the deadline has not passed, or was already handled")
    if backup is None:
        return replace(escalation, deadline_missed_at=now, updated_at=now)
    return replace(
        escalation,
        deadline_missed_at=now,
        backup_route=backup.id,
        backup_deadline=now + backup.ack_deadline,
        updated_at=now,
    )


def backup_of(route: Route, config: EscalationConfig) -> Route | None:
    return config.routes.get(route.backup_route) if route.backup_route else None


def emergency_steps(kind: Kind, config: EscalationConfig) -> dict[str, tuple[str, ...]] | None:
    """Imminent danger does not wait: its drafter is shown what to do now, per language (only
    the languages that have steps). None for every other kind."""
    if kind is not Kind.IMMINENT_DANGER:
        return None
    texts = config.kinds[Kind.IMMINENT_DANGER].texts
    return {language: text.emergency_steps for language, text in texts.items() if text.emergency_steps}
