"""Shared socket.io plumbing: typed payloads, unknown events, and error acks in one shape."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel, ConfigDict, ValidationError
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from server.domain.errors import DomainError
from server.transports.errors import ack_for, describe_validation, error_detail, failed_ack

log = logging.getLogger(__name__)

Payload = TypeVar("Payload", bound=BaseModel)
Handler = Callable[[Any, str, Any], Awaitable[Any]]
LIFECYCLE_EVENTS = frozenset({"connect", "disconnect"})


class TextPacket(socketio.packet.Packet):  # type: ignore[misc]
    """Kinline sends JSON only, never bytes, so python-socketio's recursive search of every
    outgoing payload for binary attachments (a measurable share of the CPU per message) is skipped."""

    uses_binary_events = False


def refuse(code: str, message: str) -> SocketRefused:
    """A refusal the client sees as a connect error whose data is ``{"code", "message"}``."""
    return SocketRefused(message, error_detail(code, message))


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class Empty(EventPayload):
    pass


def event(model: type[Payload]) -> Callable[[Callable[[Any, str, Payload], Awaitable[Any]]], Handler]:
    """Mark a namespace method as the handler of a client event with a typed payload."""

    def mark(function: Callable[[Any, str, Payload], Awaitable[Any]]) -> Handler:
        function.payload_model = model  # type: ignore[attr-defined]
        return function  # type: ignore[return-value]

    return mark


class GuardedNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    # Gets the seconds from receiving each send_message to its ack (the metrics), when set.
    ack_observer: Callable[[float], None] | None = None

    async def trigger_event(self, event_name: str, *args: Any) -> Any:
        if event_name == "send_message" and self.ack_observer is not None:
            started = time.perf_counter()
            try:
                return await self._dispatch(event_name, *args)
            finally:
                self.ack_observer(time.perf_counter() - started)
        return await self._dispatch(event_name, *args)

    async def _dispatch(self, event_name: str, *args: Any) -> Any:
        if event_name in LIFECYCLE_EVENTS:
            return await super().trigger_event(event_name, *args)
        handler = getattr(self, f"on_{event_name}", None)
        model = getattr(handler, "payload_model", None)
        if handler is None or model is None:
            return failed_ack("unknown_event", "no such event in this namespace")
        sid = args[0]
        raw = args[1] if len(args) > 1 else {}
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            return failed_ack("invalid_request", "the payload must be a JSON object")
        try:
            payload = model.model_validate(raw)
        except ValidationError as error:
            return failed_ack("invalid_request", describe_validation(error))
        try:
            return await handler(sid, payload)
        except DomainError as error:
            return ack_for(error)
        except Exception:
            log.exception("event %s failed", event_name)
            return failed_ack("internal_error", "the server could not handle this event")
