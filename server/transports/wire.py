"""The JSON shapes of docs/protocol.md, built from domain objects."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from server.domain.booking.appointments import Appointment
from server.domain.booking.slots import Slot
from server.domain.conversations import Conversation, Message, Note, needs_language
from server.domain.escalation import AGE_BANDS, Escalation, EscalationConfig, requires_approval
from server.domain.knowledge import Contact, Item, Kind, ResourceCard, Version
from server.domain.queue_rounds import RoundPlan, line_id
from server.domain.reminders import sms_problem
from server.domain.staff import StaffUser
from server.domain.supervision import Alert, LiveConversation, LiveCounsellor, Overview
from server.services.booking import StaffAppointment
from server.services.chat import RelativeStatus
from server.services.ports.retention import SweepCounts
from server.services.ports.staff import StaffAccount
from server.services.retention import RetentionReport
from server.transports import markdown


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "sender": m.sender.value,
        "text": m.text,
        "sent_at": iso(m.sent_at),
        "client_id": m.client_id,
        **({"resource": resource_card(m.card)} if m.card else {}),
    }


def resource_card(card: ResourceCard) -> dict[str, Any]:
    return {"id": card.id, "title": card.title, "summary": card.summary, "contact": contact(card.contact)}


def queue_item(c: Conversation, away: bool) -> dict[str, Any]:
    return {**_summary(c), "away": away}


def _summary(c: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": c.id,
        "language": c.language,
        "topic": c.topic,
        "waiting_since": iso(c.created_at),
        "priority": c.priority,
        "priority_reason": c.priority_reason,
        "language_choice": c.language_choice.value if c.language_choice else None,
    }


def queue(
    view: list[Conversation],
    languages: Collection[str],
    is_away: Callable[[Conversation], bool],
    shown: int,
) -> dict[str, Any]:
    """A counsellor's queue event: the first ``shown`` of their view, each item marked when its
    relative has gone away and when its relative waits for a language the counsellor does not
    speak, and how many wait in all."""
    return {
        "conversations": [
            {**queue_item(c, is_away(c)), "needs_language": needs_language(c, languages)}
            for c in view[:shown]
        ],
        "total": len(view),
    }


def conversation(c: Conversation, unread: int = 0) -> dict[str, Any]:
    return {
        **_summary(c),
        "state": c.state.value,
        "counsellor_id": c.counsellor_id,
        "created_at": iso(c.created_at),
        "claimed_at": iso(c.claimed_at),
        "closed_at": iso(c.closed_at),
        "outcome": c.outcome,
        "last_seq": c.last_seq,
        "unread": unread,
        "colleague_id": c.colleague_id,
    }


def note(n: Note) -> dict[str, Any]:
    return {
        "id": n.id,
        "conversation_id": n.conversation_id,
        "author": n.author,
        "text": n.text,
        "created_at": iso(n.created_at),
    }


#: The page where a member of staff chooses their password with a setup link. The link's secret
#: goes in the fragment, which browsers never send to a server (nor in a Referer).
SETUP_PATH = "/console/setup.html"


def setup_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{SETUP_PATH}#token={token}"


def account(a: StaffAccount) -> dict[str, Any]:
    """One account in the admins' list: never a hash, secret or code."""
    return {
        **staff_member(a.user),
        "totp_enabled": a.totp_enabled,
        "last_login_at": iso(a.last_login_at),
        "created_at": iso(a.created_at),
    }


def staff_member(u: StaffUser) -> dict[str, Any]:
    """An account after an admin's change: who, role, route, enabled or not."""
    return {**user(u), "route": u.route, "active": u.active}


def user(u: StaffUser) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role.value}


def status(
    state: str,
    queue_position: int | None,
    estimated_wait_seconds: int | None,
    closed_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "state": state,
        "queue_position": queue_position,
        "estimated_wait_seconds": estimated_wait_seconds,
        "language": None,
        "language_online": None,
        "language_choice": None,
        "line": None,
        "round": None,
        "closed_reason": closed_reason,
    }


def relative_status(s: RelativeStatus, queue_round: int | None = None) -> dict[str, Any]:
    """``queue_round``: the queue round the position belongs to, for a page that derives later
    positions from the `queue` broadcast (None: the page must wait for a status that has one)."""
    return {
        **status(s.state.value, s.queue_position, s.estimated_wait_seconds, s.closed_reason),
        "language": s.language,
        "language_online": s.language_online,
        "language_choice": s.language_choice.value if s.language_choice else None,
        "line": line_id(s.line) if s.line is not None else None,
        "round": queue_round,
    }


def queue_round(plan: RoundPlan, per_position: float) -> dict[str, Any]:
    """The `queue` broadcast to waiting relatives: what changed in each view, encoded once."""
    return {
        "round": plan.number,
        "views": {
            line_id(line): {"vacated": list(change.vacated), "inserted": list(change.inserted)}
            for line, change in plan.changes.items()
        },
        "wait_per_position": per_position,
    }


# ---- booking


def slot(s: Slot) -> dict[str, Any]:
    return {"start": iso(s.start), "end": iso(s.end), "kind": s.kind, "seats_left": s.seats_left}


def _appointment(a: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": a.id,
        "reference": a.reference,
        "kind": a.kind,
        "language": a.language,
        "start": iso(a.start),
        "end": iso(a.end),
        "state": a.state.value,
    }


def relative_appointment(a: Appointment, address: str) -> dict[str, Any]:
    """What the manage code shows the relative: never who the counsellor is."""
    return {**_appointment(a), "address": address}


def staff_appointment(view: StaffAppointment) -> dict[str, Any]:
    a = view.appointment
    return {
        **_appointment(a),
        "counsellor_id": a.counsellor_id,
        "counsellor_name": view.counsellor_name,
        "conversation_id": a.conversation_id,
        "created_at": iso(a.created_at),
        "cancelled_at": iso(a.cancelled_at),
        "cancelled_by": a.cancelled_by.value if a.cancelled_by else None,
        "has_phone": a.has_phone,
        "interpreter_language": a.interpreter_language,
        "sms_problem": sms_problem(text.state for text in view.texts),
        "texts": [
            {
                "id": text.id,
                "purpose": text.purpose.value,
                "offset_seconds": text.offset_seconds,
                "due_at": iso(text.due_at),
                "state": text.state.value,
                "attempts": text.attempts,
                "error_code": text.error_code,
                "updated_at": iso(text.updated_at),
            }
            for text in view.texts
        ],
    }


# ---- escalations


def escalation_summary(escalation: Escalation, overdue: bool) -> dict[str, Any]:
    """A list item: where it is and when it is due; no content."""
    return {
        "escalation_id": escalation.id,
        "kind": escalation.kind.value,
        "route": escalation.route,
        "backup_route": escalation.backup_route,
        "state": escalation.state.value,
        "drafter_id": escalation.drafter_id,
        "created_at": iso(escalation.created_at),
        "sent_at": iso(escalation.sent_at),
        "deadline": iso(escalation.deadline),
        "overdue": overdue,
        "deadline_missed": escalation.deadline_missed_at is not None,
    }


def escalation_detail(escalation: Escalation, overdue: bool, actions: list[str]) -> dict[str, Any]:
    """The escalation's own fields (never the transcript) and what the caller may do next."""
    draft = escalation.draft
    return {
        **escalation_summary(escalation, overdue),
        "conversation_id": escalation.conversation_id,
        "language": escalation.language,
        "summary": draft.summary,
        "indicators": list(draft.indicators),
        "consent": draft.consent,
        "share_transcript": draft.share_transcript,
        "subject": {"age_band": draft.subject.age_band, "relation": draft.subject.relation},
        "contact": draft.contact.as_dict() if draft.contact else None,
        "submitted_at": iso(escalation.submitted_at),
        "approved_by": escalation.approved_by,
        "sent_back_reason": escalation.sent_back_reason,
        "ack_deadline": iso(escalation.ack_deadline),
        "acknowledged_by": escalation.acknowledged_by,
        "acknowledged_at": iso(escalation.acknowledged_at),
        "backup_deadline": iso(escalation.backup_deadline),
        "outcome_at": iso(escalation.outcome_at),
        "feedback": escalation.feedback,
        "actions": actions,
    }


def escalation_form_config(config: EscalationConfig) -> dict[str, Any]:
    return {
        "age_bands": list(AGE_BANDS),
        "routes": [
            {
                "id": route.id,
                "name": route.name,
                "kinds": sorted(kind.value for kind in route.kinds),
                "ack_deadline_seconds": int(route.ack_deadline.total_seconds()),
                "backup_route": route.backup_route,
            }
            for route in config.routes.values()
        ],
        "kinds": [
            {
                "id": rule.kind.value,
                "requires_approval": requires_approval(rule.kind),
                "requires_consent": rule.requires_consent,
                "required": sorted(rule.required),
                "age_bands": list(rule.age_bands),
                "texts": {
                    language: {
                        "title": text.title,
                        "guidance": text.guidance,
                        "law": text.law,
                        "emergency_steps": list(text.emergency_steps),
                    }
                    for language, text in rule.texts.items()
                    if text.title
                },
            }
            for rule in config.kinds.values()
        ],
        "indicators": [{"id": i.id, "labels": dict(i.labels)} for i in config.indicators],
    }


def overview(o: Overview) -> dict[str, Any]:
    """The supervisors' live view (`overview` on /counsellor): facts, never text. Times are
    timestamps; the console counts durations against ``at``."""
    counts = o.counts
    names = {c.user.id: c.user.display_name for c in o.counsellors}
    return {
        "at": iso(o.at),
        "counts": {
            "waiting": counts.waiting,
            "active": counts.active,
            "longest_wait_seconds": counts.longest_wait_seconds,
            "counsellors_online": counts.counsellors_online,
        },
        "conversations": [_live_conversation(c, names) for c in o.conversations],
        "counsellors": [_live_counsellor(c) for c in o.counsellors],
        "alerts": [_alert(a) for a in o.alerts],
    }


def _live_conversation(live: LiveConversation, names: dict[int, str]) -> dict[str, Any]:
    c = live.conversation

    def staff(user_id: int | None) -> dict[str, Any] | None:
        return None if user_id is None else {"id": user_id, "display_name": names.get(user_id)}

    return {
        **_summary(c),
        "state": c.state.value,
        "counsellor": staff(c.counsellor_id),
        "colleague": staff(c.colleague_id),
        "claimed_at": iso(c.claimed_at),
        "last_message_at": iso(live.last_message_at),
        "flags": {"danger": live.danger, "escalation_draft": live.escalation_draft, "away": live.away},
    }


def _live_counsellor(c: LiveCounsellor) -> dict[str, Any]:
    return {
        "id": c.user.id,
        "display_name": c.user.display_name,
        "role": c.user.role.value,
        "online": c.online,
        "load": c.load,
        "capacity": c.capacity,
        "languages": list(c.user.languages),
        "last_active_at": iso(c.last_active_at),
    }


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "key": a.key,
        "kind": a.kind.value,
        "since": iso(a.since),
        "conversation_id": a.conversation_id,
        "escalation_id": a.escalation_id,
    }


# ---- retention


def sweep_counts(counts: SweepCounts) -> dict[str, int]:
    return {
        "closed_inactive": counts.closed_inactive,
        "conversations": counts.conversations,
        "messages": counts.messages,
        "notes": counts.notes,
        "tokens": counts.tokens,
    }


def retention_report(report: RetentionReport) -> dict[str, Any]:
    last = report.last
    return {
        "last_sweep": None
        if last is None
        else {"ran_at": iso(last.ran_at), "counts": sweep_counts(last.counts)},
        "totals": sweep_counts(report.totals),
        "sweeps": report.sweeps,
        "since": iso(report.since) if report.since else None,
        "chat_retention_seconds": int(report.chat_retention.total_seconds()),
        "auto_close_after_seconds": int(report.auto_close_after.total_seconds())
        if report.auto_close_after is not None
        else None,
    }


# The knowledge bank (docs/knowledge.md, docs/protocol.md) ----------------------------------------


def contact(c: Contact) -> dict[str, str]:
    return {"phone": c.phone, "url": c.url, "address": c.address, "hours": c.hours}


def public_item(item: Item, language: str) -> dict[str, Any]:
    """An article or resource for relatives, in ``language`` or its fallback (``language`` says
    which); resources carry ``contact``."""
    shown = item.text_for(language)
    body: dict[str, Any] = {
        "id": item.id,
        "language": shown.language,
        "title": shown.title,
        "summary": shown.summary,
        "body_html": markdown.render(shown.body),
        "perspectives": list(item.perspectives),
        "districts": list(item.districts),
        "languages": list(item.languages),
        "updated_at": iso(item.updated_at),
    }
    if item.kind is Kind.RESOURCE:
        body["contact"] = contact(item.contact)
    return body


def district_name(route_name: str) -> str:
    """The place of a route's name ("Spånga-Tensta, socialtjänstens mottagning" -> "Spånga-Tensta")."""
    return route_name.split(",")[0].strip()


def districts(config: EscalationConfig) -> list[dict[str, str]]:
    """The districts a resource may serve: the escalation routes, by id and place name."""
    return [{"id": route_id, "name": district_name(route.name)} for route_id, route in config.routes.items()]


def staff_item(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "key": item.key,
        "audience": item.audience.value,
        "published": item.published,
        "perspectives": list(item.perspectives),
        "districts": list(item.districts),
        "languages": list(item.languages),
        "contact": contact(item.contact),
        "texts": {
            language: {
                "title": text.title,
                "summary": text.summary,
                "body": text.body,
                "body_html": markdown.render(text.body),
                "version": text.version,
                "changed_by": text.changed_by,
                "changed_at": iso(text.changed_at),
            }
            for language, text in ((code, item.texts[code]) for code in item.languages)
        },
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def knowledge_version(v: Version) -> dict[str, Any]:
    return {
        "language": v.language,
        "version": v.version,
        "title": v.title,
        "summary": v.summary,
        "body": v.body,
        "changed_by": v.changed_by,
        "changed_by_name": v.changed_by_name,
        "changed_at": iso(v.changed_at),
    }
