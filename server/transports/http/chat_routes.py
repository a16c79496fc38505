"""HTTP routes of the chat: parse, call a service, shape the answer. No rules live here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from server import app_keys
from server.domain.errors import InvalidInput
from server.transports import wire
from server.transports.http.middlewares import parse_body, query_limit, rate_limit_key
from server.transports.http.staff_auth import (
    require_staff,
)


class StartConversation(BaseModel):
    language: str = Field(min_length=2, max_length=8)
    topic: str | None = Field(default=None, max_length=32)


class ResumeConversation(BaseModel):
    resume_code: str = Field(min_length=1, max_length=64)


class LeaveConversation(BaseModel):
    token: str = Field(min_length=1, max_length=128)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def public_settings(request: web.Request) -> web.Response:
    settings = request.app[app_keys.SETTINGS]
    hours = request.app[app_keys.CHAT].policy.hours
    now = datetime.now(UTC)
    return web.json_response(
        {
            "open": hours.is_open(now),
            "always_open": hours.always_open,
            "next_open": wire.iso(hours.next_open(now)),
            "closes_at": wire.iso(hours.closes_at(now)),
            "timezone": hours.timezone,
            "weekly": settings.hours.weekly,
            "languages": settings.chat.languages,
            "topics": settings.chat.topics,
            "emergency_number": settings.privacy.emergency_number,
            "exit_url": settings.privacy.exit_url,
            "max_text_length": settings.chat.max_text_length,
            "heading": settings.page.heading,
        }
    )


async def start_conversation(request: web.Request) -> web.Response:
    body = await parse_body(request, StartConversation)
    key = rate_limit_key(request)
    await request.app[app_keys.CONVERSATION_LIMITER].check(key)
    started = await request.app[app_keys.CHAT].start_conversation(body.language, body.topic, key)
    return web.json_response(
        {
            "conversation_id": started.conversation.id,
            "token": started.token,
            "resume_code": started.resume_code,
        },
        status=201,
    )


async def resume_conversation(request: web.Request) -> web.Response:
    body = await parse_body(request, ResumeConversation)
    await request.app[app_keys.RESUME_LIMITER].check(rate_limit_key(request))
    conversation, token = await request.app[app_keys.CHAT].resume(body.resume_code)
    return web.json_response({"conversation_id": conversation.id, "token": token})


async def leave_conversation(request: web.Request) -> web.Response:
    """Leave by token: what quick exit sends (as a beacon) as the page goes away."""
    body = await parse_body(request, LeaveConversation)
    await request.app[app_keys.CHAT].leave_with_token(body.token)
    return web.Response(status=204)


async def staff_settings(request: web.Request) -> web.Response:
    await require_staff(request)
    policy = request.app[app_keys.CHAT].policy
    return web.json_response(
        {
            "outcomes": list(policy.outcomes),
            "topics": list(policy.topics),
            "languages": list(policy.languages),
            "capacity": policy.capacity,
            "max_text_length": policy.max_text_length,
            "read_reasons": list(request.app[app_keys.SUPERVISION].policy.read_reasons),
            # The knowledge bank's tags, and the district route every chat belongs to (docs/knowledge.md).
            "district": request.app[app_keys.SETTINGS].statistics.route,
            "districts": wire.districts(request.app[app_keys.ESCALATION_CONFIG]),
            "perspectives": list(request.app[app_keys.SETTINGS].statistics.perspectives),
        }
    )


async def canned_answers(request: web.Request) -> web.Response:
    request.app[app_keys.CHAT].permit_console(await require_staff(request))
    language = request.query.get("language", "sv")
    answers = await request.app[app_keys.KNOWLEDGE].canned(language)
    return web.json_response(
        {"answers": [{"id": a.id, "title": a.title, "text": a.text, "language": a.language} for a in answers]}
    )


async def staff_conversations(request: web.Request) -> web.Response:
    user = await require_staff(request)
    if request.query.get("state", "closed") != "closed":
        raise InvalidInput("only state=closed is listed here; live ones come over the socket")
    found = await request.app[app_keys.CHAT].closed_conversations(user, query_limit(request, 50))
    return web.json_response({"conversations": [wire.conversation(c) for c in found]})


async def staff_conversation(request: web.Request) -> web.Response:
    user = await require_staff(request)
    conversation, messages, notes = await request.app[app_keys.CHAT].conversation_detail(
        request.match_info["conversation_id"], user
    )
    body: dict[str, Any] = {
        "conversation": wire.conversation(conversation),
        "messages": [wire.message(m) for m in messages],
        "notes": [wire.note(n) for n in notes],
    }
    return web.json_response(body)


def add_chat_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/public", public_settings)
    app.router.add_post("/api/conversations", start_conversation)
    app.router.add_post("/api/conversations/resume", resume_conversation)
    app.router.add_post("/api/conversations/leave", leave_conversation)
    app.router.add_get("/api/staff/settings", staff_settings)
    app.router.add_get("/api/staff/canned", canned_answers)
    app.router.add_get("/api/staff/conversations", staff_conversations)
    app.router.add_get("/api/staff/conversations/{conversation_id}", staff_conversation)
