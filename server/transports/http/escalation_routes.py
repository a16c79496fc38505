"""HTTP routes of escalations (docs/protocol.md, "Escalation"): parse, call the service, shape the
answer. The permission rules live in server/domain/permissions.py, not here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server import app_keys
from server.domain.escalation import (
    AGE_BANDS,
    MAX_CONTACT_FIELD,
    MAX_FEEDBACK,
    MAX_REASON,
    MAX_RELATION,
    MAX_SUMMARY,
    Contact,
    Draft,
    Escalation,
    EscalationConfig,
    Kind,
    State,
    Subject,
    requires_approval,
)
from server.domain.staff import StaffUser
from server.services.escalation import EscalationService
from server.transports import wire
from server.transports.http.audit_routes import audit_entry
from server.transports.http.middlewares import parse_body, rate_limit_key
from server.transports.http.staff_auth import require_staff

_MAX_INDICATORS = 50


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectIn(_Body):
    age_band: Literal["0-12", "13-17", "18-25", "26+"]
    relation: str = Field(max_length=MAX_RELATION)


class ContactIn(_Body):
    name: str | None = Field(default=None, max_length=MAX_CONTACT_FIELD)
    phone: str | None = Field(default=None, max_length=MAX_CONTACT_FIELD)
    email: str | None = Field(default=None, max_length=MAX_CONTACT_FIELD)
    preferred_time: str | None = Field(default=None, max_length=MAX_CONTACT_FIELD)


class DraftIn(_Body):
    route: str = Field(min_length=1, max_length=64)
    kind: Kind
    summary: str = Field(max_length=MAX_SUMMARY)
    indicators: list[str] = Field(max_length=_MAX_INDICATORS)
    consent: bool
    subject: SubjectIn
    contact: ContactIn | None = None
    share_transcript: bool = False

    def to_draft(self) -> Draft:
        return Draft(
            route=self.route,
            kind=self.kind,
            summary=self.summary,
            indicators=tuple(self.indicators),
            consent=self.consent,
            subject=Subject(self.subject.age_band, self.subject.relation),
            contact=Contact(**self.contact.model_dump()) if self.contact else None,
            share_transcript=self.share_transcript,
        )


class CreateEscalation(DraftIn):
    conversation_id: str = Field(min_length=1, max_length=64)


class SendBack(_Body):
    reason: str | None = Field(default=None, max_length=MAX_REASON)


class RecordOutcome(_Body):
    state: Literal["received", "under_assessment", "closed_with_feedback"]
    feedback: str | None = Field(default=None, max_length=MAX_FEEDBACK)


class StatusLookup(_Body):
    resume_code: str = Field(min_length=1, max_length=64)


def _service(request: web.Request) -> EscalationService:
    return request.app[app_keys.ESCALATIONS]


def summary(escalation: Escalation, now: datetime) -> dict[str, Any]:
    """A list item: where it is and when it is due; no content."""
    return {
        "escalation_id": escalation.id,
        "kind": escalation.kind.value,
        "route": escalation.route,
        "backup_route": escalation.backup_route,
        "state": escalation.state.value,
        "drafter_id": escalation.drafter_id,
        "created_at": wire.iso(escalation.created_at),
        "sent_at": wire.iso(escalation.sent_at),
        "deadline": wire.iso(escalation.deadline),
        "overdue": escalation.is_overdue(now),
        "deadline_missed": escalation.deadline_missed_at is not None,
    }


def detail(escalation: Escalation, now: datetime, actions: list[str]) -> dict[str, Any]:
    """The escalation's own fields (never the transcript) and what the caller may do next."""
    draft = escalation.draft
    return {
        **summary(escalation, now),
        "conversation_id": escalation.conversation_id,
        "language": escalation.language,
        "summary": draft.summary,
        "indicators": list(draft.indicators),
        "consent": draft.consent,
        "share_transcript": draft.share_transcript,
        "subject": {"age_band": draft.subject.age_band, "relation": draft.subject.relation},
        "contact": draft.contact.as_dict() if draft.contact else None,
        "submitted_at": wire.iso(escalation.submitted_at),
        "approved_by": escalation.approved_by,
        "sent_back_reason": escalation.sent_back_reason,
        "ack_deadline": wire.iso(escalation.ack_deadline),
        "acknowledged_by": escalation.acknowledged_by,
        "acknowledged_at": wire.iso(escalation.acknowledged_at),
        "backup_deadline": wire.iso(escalation.backup_deadline),
        "outcome_at": wire.iso(escalation.outcome_at),
        "feedback": escalation.feedback,
        "actions": actions,
    }


def form_config(config: EscalationConfig) -> dict[str, Any]:
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


def _now() -> datetime:
    return datetime.now(UTC)


async def _detail_response(request: web.Request, user: StaffUser, escalation: Escalation) -> web.Response:
    actions = [a.value for a in _service(request).actions_for(user, escalation)]
    return web.json_response({"escalation": detail(escalation, _now(), actions)})


async def list_escalations(request: web.Request) -> web.Response:
    user = await require_staff(request)
    found = await _service(request).visible_to(user)
    now = _now()
    return web.json_response({"escalations": [summary(e, now) for e in found]})


async def create_escalation(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, CreateEscalation)
    service = _service(request)
    escalation = await service.draft(user, body.conversation_id, body.to_draft())
    answer: dict[str, Any] = {"escalation_id": escalation.id, "state": escalation.state.value}
    if escalation.kind is Kind.IMMINENT_DANGER:
        texts = service.config.kinds[Kind.IMMINENT_DANGER].texts
        answer["emergency_steps"] = {
            language: list(text.emergency_steps) for language, text in texts.items() if text.emergency_steps
        }
    return web.json_response(answer, status=201)


async def escalation_config(request: web.Request) -> web.Response:
    user = await require_staff(request)
    return web.json_response(form_config(_service(request).form_config(user)))


async def audit_trail(request: web.Request) -> web.Response:
    user = await require_staff(request)
    entries = await _service(request).audit_trail(user, request.query.get("escalation_id") or None)
    return web.json_response(
        {"entries": [audit_entry(entry, "escalation_id", entry.object_id) for entry in entries]}
    )


async def relative_status(request: web.Request) -> web.Response:
    """Public: the relative's resume code is the key, rate-limited like resuming."""
    body = await parse_body(request, StatusLookup)
    request.app[app_keys.RESUME_LIMITER].check(rate_limit_key(request))
    statuses = await _service(request).relative_status(body.resume_code)
    return web.json_response({"escalations": [{"status": status.value} for status in statuses]})


async def read_escalation(request: web.Request) -> web.Response:
    user = await require_staff(request)
    escalation = await _service(request).read(user, request.match_info["escalation_id"])
    return await _detail_response(request, user, escalation)


async def read_transcript(request: web.Request) -> web.Response:
    user = await require_staff(request)
    messages = await _service(request).transcript(user, request.match_info["escalation_id"])
    return web.json_response({"messages": [wire.message(m) for m in messages]})


def _state(escalation: Escalation) -> web.Response:
    return web.json_response({"escalation_id": escalation.id, "state": escalation.state.value})


async def approve(request: web.Request) -> web.Response:
    user = await require_staff(request)
    return _state(await _service(request).approve(user, request.match_info["escalation_id"]))


async def send_back(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, SendBack) if request.can_read_body else SendBack()
    return _state(await _service(request).send_back(user, request.match_info["escalation_id"], body.reason))


async def resubmit(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, DraftIn)
    return _state(
        await _service(request).resubmit(user, request.match_info["escalation_id"], body.to_draft())
    )


async def acknowledge(request: web.Request) -> web.Response:
    user = await require_staff(request)
    return _state(await _service(request).acknowledge(user, request.match_info["escalation_id"]))


async def record_outcome(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, RecordOutcome)
    escalation = await _service(request).record_outcome(
        user, request.match_info["escalation_id"], State(body.state), body.feedback
    )
    return _state(escalation)


def add_escalation_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/api/escalations", list_escalations)
    router.add_post("/api/escalations", create_escalation)
    router.add_get("/api/escalations/config", escalation_config)
    router.add_get("/api/escalations/audit", audit_trail)
    router.add_post("/api/escalations/status", relative_status)
    router.add_get("/api/escalations/{escalation_id}", read_escalation)
    router.add_get("/api/escalations/{escalation_id}/transcript", read_transcript)
    router.add_post("/api/escalations/{escalation_id}/approve", approve)
    router.add_post("/api/escalations/{escalation_id}/send-back", send_back)
    router.add_post("/api/escalations/{escalation_id}/resubmit", resubmit)
    router.add_post("/api/escalations/{escalation_id}/acknowledge", acknowledge)
    router.add_post("/api/escalations/{escalation_id}/outcome", record_outcome)
