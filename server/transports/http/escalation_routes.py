"""HTTP routes of escalations (docs/protocol.md, "Escalation"): parse, call the service, shape the
answer. The permission rules live in server/domain/permissions.py, not here."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server import app_keys
from server.domain.escalation import (
    MAX_CONTACT_FIELD,
    MAX_FEEDBACK,
    MAX_REASON,
    MAX_RELATION,
    MAX_SUMMARY,
    AgeBand,
    Contact,
    Draft,
    Escalation,
    Kind,
    OutcomeStateName,
    State,
    Subject,
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
    age_band: AgeBand
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
    state: OutcomeStateName
    feedback: str | None = Field(default=None, max_length=MAX_FEEDBACK)


class StatusLookup(_Body):
    resume_code: str = Field(min_length=1, max_length=64)


def _service(request: web.Request) -> EscalationService:
    return request.app[app_keys.ESCALATIONS]


async def _detail_response(request: web.Request, user: StaffUser, escalation: Escalation) -> web.Response:
    service = _service(request)
    actions = [a.value for a in service.actions_for(user, escalation)]
    return web.json_response(
        {"escalation": wire.escalation_detail(escalation, service.is_overdue(escalation), actions)}
    )


async def list_escalations(request: web.Request) -> web.Response:
    user = await require_staff(request)
    service = _service(request)
    found = await service.visible_to(user)
    return web.json_response(
        {"escalations": [wire.escalation_summary(e, service.is_overdue(e)) for e in found]}
    )


async def create_escalation(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, CreateEscalation)
    service = _service(request)
    escalation = await service.draft(user, body.conversation_id, body.to_draft())
    answer: dict[str, Any] = {"escalation_id": escalation.id, "state": escalation.state.value}
    steps = service.emergency_steps(escalation)
    if steps is not None:
        answer["emergency_steps"] = {language: list(texts) for language, texts in steps.items()}
    return web.json_response(answer, status=201)


async def escalation_config(request: web.Request) -> web.Response:
    user = await require_staff(request)
    return web.json_response(wire.escalation_form_config(_service(request).form_config(user)))


async def audit_trail(request: web.Request) -> web.Response:
    user = await require_staff(request)
    entries = await _service(request).audit_trail(user, request.query.get("escalation_id") or None)
    return web.json_response(
        {"entries": [audit_entry(entry, "escalation_id", entry.object_id) for entry in entries]}
    )


async def relative_status(request: web.Request) -> web.Response:
    """Public: the relative's resume code is the key, rate-limited like resuming."""
    body = await parse_body(request, StatusLookup)
    await request.app[app_keys.RESUME_LIMITER].check(rate_limit_key(request))
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
