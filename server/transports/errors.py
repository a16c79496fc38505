"""The one place that maps domain errors to HTTP statuses and socket.io error acks."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from server.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
)

_STATUS_BY_KIND: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (Unavailable, 503),
)


def http_status(error: DomainError) -> int:
    for kind, status in _STATUS_BY_KIND:
        if isinstance(error, kind):
            return status
    return 400


def http_headers(error: DomainError) -> dict[str, str]:
    """Headers that go with the error's status: Retry-After (seconds) on a 429 that knows it."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return {"Retry-After": str(error.retry_after)}
    return {}


def error_detail(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": error_detail(code, message)}


def failed_ack(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": error_detail(code, message)}


def ack_for(error: DomainError) -> dict[str, Any]:
    return failed_ack(error.code, error.message)


def describe_validation(error: ValidationError) -> str:
    """Field names and reasons, never the submitted values."""
    parts = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        parts.append(f"{field}: {problem['msg']}")
    return "; ".join(parts)
