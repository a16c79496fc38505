"""HTTP middlewares: domain errors to statuses, security headers, and no client data in logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.domain.errors import DomainError, InvalidInput
from server.transports.errors import describe_validation, error_body, http_headers, http_status

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Model = TypeVar("Model", bound=BaseModel)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(code, message), status=status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as error:
        return json_error(http_status(error), error.code, error.message, http_headers(error))
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "payload_too_large", "the request body is too large")
    except web.HTTPException as error:
        if error.status >= 400 and request.path.startswith(("/api/", "/webhooks/")):
            code = error.reason.lower().replace(" ", "_")
            return json_error(error.status, code, error.reason)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.match_info.route.resource)
        return json_error(500, "internal_error", "the server could not handle this request")


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def parse_body(request: web.Request, model: type[Model]) -> Model:
    """A JSON object validated into model; errors name the fields, never echo the values."""
    try:
        raw: Any = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedRequest("the body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidInput("the body must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(describe_validation(error)) from None


def query_limit(request: web.Request, default: int) -> int:
    """The ``limit`` query parameter; the service decides the range."""
    try:
        return int(request.query.get("limit", str(default)))
    except ValueError:
        raise InvalidInput("limit must be an integer") from None


class MalformedRequest(DomainError):
    code = "invalid_json"
