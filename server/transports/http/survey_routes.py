"""The end-of-chat survey over HTTP: ``POST /api/conversations/survey`` (docs/protocol.md)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from server import app_keys
from server.transports.http.middlewares import parse_body


class SurveyAnswer(BaseModel):
    token: str = Field(min_length=1, max_length=128)
    answer: Literal["yes", "partly", "no", "skipped"]


async def answer_survey(request: web.Request) -> web.Response:
    body = await parse_body(request, SurveyAnswer)
    await request.app[app_keys.SURVEY].answer(body.token, body.answer)
    return web.Response(status=204)


def add_survey_routes(app: web.Application) -> None:
    app.router.add_post("/api/conversations/survey", answer_survey)
