"""HTTP middlewares and request helpers: domain errors to statuses, no client data in logs, body
parsing and the rate-limit key. The security headers and body limits are in hardening.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from server import app_keys
from server.domain.errors import DomainError, InvalidInput
from server.transports.bounds import DbCount
from server.transports.client_address import client_address
from server.transports.errors import describe_validation, error_body, http_headers, http_status

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Model = TypeVar("Model", bound=BaseModel)


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
            return _json_http_error(error)
        raise
    except ConnectionResetError:
        return _client_left(request)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.match_info.route.resource)
        return json_error(500, "internal_error", "the server could not handle this request")


def _json_http_error(error: web.HTTPException) -> web.Response:
    """aiohttp's own errors (404, 405, ...) in the API's JSON shape, keeping ``Allow``."""
    response = json_error(error.status, error.reason.lower().replace(" ", "_"), error.reason)
    if allow := error.headers.get("Allow"):
        response.headers["Allow"] = allow
    return response


def _client_left(request: web.Request) -> web.Response:
    """The client hung up mid-request: it is gone, not a fault of the server."""
    log.debug("client left during %s %s", request.method, request.match_info.route.resource)
    return web.Response(status=400)


async def parse_body(request: web.Request, model: type[Model]) -> Model:
    """A JSON object validated into model; errors name the fields, never echo the values."""
    try:
        raw: Any = await request.json()
    except (ValueError, RecursionError):
        # ValueError: not JSON, not UTF-8, or an integer of more digits than Python converts.
        raise MalformedRequest("the body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidInput("the body must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(describe_validation(error)) from None


def query_limit(request: web.Request, default: int) -> int:
    """The ``limit`` query parameter, an integer the database holds; the service decides the range."""
    try:
        return _LIMIT.validate_python(request.query.get("limit", str(default)))
    except ValidationError:
        raise InvalidInput("limit must be an integer from 0 to 2^63-1") from None


_LIMIT: TypeAdapter[int] = TypeAdapter(DbCount)


class MalformedRequest(DomainError):
    code = "invalid_json"


def rate_limit_key(request: web.Request) -> str:
    """A keyed HMAC of the client address for rate limits; the address itself goes nowhere.
    Forwarded headers count only from a trusted proxy (transports.client_address)."""
    address = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), request.app[app_keys.TRUSTED_PROXIES]
    )
    return request.app[app_keys.RATE_LIMIT_HMAC](address)
