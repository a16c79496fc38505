"""The OpenAPI 3.1 document for the HTTP part of docs/protocol.md, built from the request models."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server.domain.conversations import Sender
from server.domain.staff import Role
from server.domain.statistics.tables import DIMENSIONS
from server.transports.http.account_routes import (
    AccountChange,
    NewAccount,
    PasswordChange,
    SetupPassword,
    SetupToken,
    TotpCode,
)
from server.transports.http.auth_routes import Login
from server.transports.http.booking_routes import (
    AvailabilityBody,
    BookAppointment,
    ConversationToken,
    ManageCode,
    Outcome,
    Rebook,
    SlotOfferBody,
)
from server.transports.http.chat_routes import LeaveConversation, ResumeConversation, StartConversation
from server.transports.http.escalation_routes import (
    CreateEscalation,
    DraftIn,
    RecordOutcome,
    SendBack,
    StatusLookup,
)
from server.transports.http.knowledge_routes import COLLECTIONS, ItemBody, PreviewBody
from server.transports.http.survey_routes import SurveyAnswer
from server.transports.http.totp_routes import ConfirmTotp

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_MESSAGE = {
    "type": "object",
    "required": ["id", "conversation_id", "seq", "sender", "text", "sent_at"],
    "properties": {
        "id": {"type": "integer"},
        "conversation_id": {"type": "string"},
        "seq": {"type": "integer", "minimum": 1},
        "sender": {"enum": [sender.value for sender in Sender]},
        "text": {"type": "string"},
        "sent_at": {"type": "string", "format": "date-time"},
    },
}
_USER_FIELDS: dict[str, Any] = {
    "id": {"type": "integer"},
    "username": {"type": "string"},
    "display_name": {"type": "string"},
    "role": {"enum": [role.value for role in Role]},
}
_USER = {"type": "object", "properties": _USER_FIELDS}
_ACCOUNT = {
    "type": "object",
    "properties": {
        **_USER_FIELDS,
        "route": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
        "totp_enabled": {"type": "boolean"},
        "last_login_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_SETUP_LINK = {
    "type": "object",
    "description": "shown this once: the link (its secret in the fragment) and when it stops working",
    "properties": {"url": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}},
}
_ACCOUNT_AND_LINK = {"type": "object", "properties": {"user": _ACCOUNT, "setup": _SETUP_LINK}}
_USERNAME = [{"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}]
_RECOVERY_CODES = {
    "type": "object",
    "properties": {"recovery_codes": {"type": "array", "items": {"type": "string"}}},
}
SCHEMAS = "#/components/schemas/"
# What each error status means; every JSON body that does not parse is a 400 invalid_json.
_ERROR_MEANINGS = {
    400: "invalid_json: the body is not JSON, not UTF-8, nested too deep, or holds an integer of "
    "more digits than allowed",
    401: "not_authenticated, invalid_credentials, ...",
    403: "forbidden (or a failed same-origin check)",
    404: "not_found",
    408: "request_timeout: the body did not arrive within limits.body_read_timeout",
    409: "conflict, invalid_transition, ...",
    413: "payload_too_large",
    422: "invalid_request (a field out of range, integers within -2^63..2^63-1), or a more specific code",
    429: "rate_limited",
    503: "closed",
}

_TOTP_STATUS = {
    "type": "object",
    "required": ["enabled", "required", "recovery_codes_left"],
    "properties": {
        "enabled": {"type": "boolean"},
        "required": {"type": "boolean"},
        "recovery_codes_left": {"type": "integer", "minimum": 0},
    },
}
_TOTP_ENROLLMENT = {
    "type": "object",
    "required": ["secret", "otpauth_uri", "qr_svg"],
    "properties": {
        "secret": {"type": "string", "description": "base32"},
        "otpauth_uri": {"type": "string"},
        "qr_svg": {"type": "string", "description": "data:image/svg+xml URI of the QR code"},
    },
}
_TOTP_CONFIRMED = {
    "type": "object",
    "required": ["enabled", "recovery_codes"],
    "properties": {
        "enabled": {"const": True},
        "recovery_codes": {"type": "array", "items": {"type": "string"}, "minItems": 10, "maxItems": 10},
    },
}

_AUDIT_ENTRIES = {
    "type": "object",
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "at", "actor_id", "actor", "action", "conversation_id"],
                "properties": {
                    "id": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time"},
                    "actor_id": {"type": ["integer", "null"]},
                    "actor": {"type": ["string", "null"], "description": "display name; null for the system"},
                    "action": {"type": "string"},
                    "conversation_id": {
                        "type": "string",
                        "description": "or * for a reading of the whole log",
                    },
                },
            },
        }
    },
}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema; its nested models ($defs) are moved to the components by document()."""
    schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _hoist_defs(node: Any, into: dict[str, Any]) -> None:
    """Move every ``$defs`` entry of the request schemas into ``components.schemas``, where the
    ``$ref``s written with SCHEMAS point."""
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            if into.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are both named {name}")
        for value in node.values():
            _hoist_defs(value, into)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, into)


_SWEEP_COUNTS = {
    "type": "object",
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in ("closed_inactive", "conversations", "messages", "notes", "tokens")
    },
}
_RETENTION_REPORT = {
    "type": "object",
    "properties": {
        "last_sweep": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        "ran_at": {"type": "string", "format": "date-time"},
                        "counts": _SWEEP_COUNTS,
                    },
                },
            ]
        },
        "totals": _SWEEP_COUNTS,
        "sweeps": {"type": "integer", "minimum": 0},
        "since": {"type": ["string", "null"], "format": "date-time"},
        "chat_retention_seconds": {"type": "integer"},
        "auto_close_after_seconds": {"type": ["integer", "null"]},
    },
}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


RETRY_AFTER = {
    "Retry-After": {
        "description": "whole seconds to wait before the next attempt can succeed",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _errors(*statuses: int) -> dict[str, Any]:
    """Error responses in the one shape; every 429 (`rate_limited`) carries Retry-After."""
    responses = {
        str(status): _json(_ERROR_MEANINGS.get(status, "error"), {"$ref": SCHEMAS + "Error"})
        for status in statuses
    }
    if 429 in statuses:
        responses["429"] = {**responses["429"], "headers": RETRY_AFTER}
    return responses


def _staff(summary: str, ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"session": []}],
        "responses": {"200": ok, **_errors(401, *errors)},
    }


def document() -> dict[str, Any]:
    built = _document()
    _hoist_defs(built["paths"], built["components"]["schemas"])
    for operations in built["paths"].values():
        for operation in operations.values():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                operation["responses"].update(_errors(400))
    return built


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kinline",
            "version": "1",
            "description": "See docs/protocol.md; the Socket.IO part is described there.",
        },
        "components": {
            "schemas": {"Error": _ERROR, "Message": _MESSAGE, "User": _USER},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "kinline_session"},
                "metrics_token": {"type": "http", "scheme": "bearer"},
            },
        },
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "responses": {
                        "200": _json("ok", {"type": "object", "properties": {"status": {"const": "ok"}}})
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: the database (and Redis, when configured) answer",
                    "responses": {
                        "200": _json(
                            "ready", {"type": "object", "properties": {"status": {"const": "ready"}}}
                        ),
                        "503": _json(
                            "a backend does not answer",
                            {
                                "type": "object",
                                "required": ["status", "down"],
                                "properties": {
                                    "status": {"const": "unavailable"},
                                    "down": {
                                        "type": "array",
                                        "items": {"enum": ["database", "redis"]},
                                    },
                                },
                            },
                        ),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text format); only with observability.metrics_token set",
                    "security": [{"metrics_token": []}],
                    "responses": {
                        "200": {
                            "description": "the metrics (docs/operations.md, Monitoring)",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": _json("no or a wrong bearer token", {"$ref": SCHEMAS + "Error"}),
                        "404": _json("observability.metrics_token is not set", {"$ref": SCHEMAS + "Error"}),
                    },
                }
            },
            "/api/public": {
                "get": {
                    "summary": "Opening hours and settings for the relative page",
                    "responses": {"200": _json("public settings")},
                }
            },
            "/api/conversations": {
                "post": {
                    "summary": "Start an anonymous conversation",
                    "requestBody": _body(StartConversation),
                    "responses": {
                        "201": _json(
                            "started",
                            {
                                "type": "object",
                                "required": ["conversation_id", "token", "resume_code"],
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "token": {"type": "string"},
                                    "resume_code": {"type": "string"},
                                },
                            },
                        ),
                        **_errors(400, 413, 422, 429, 503),
                    },
                }
            },
            "/api/conversations/resume": {
                "post": {
                    "summary": "Continue a conversation with its resume code",
                    "requestBody": _body(ResumeConversation),
                    "responses": {
                        "200": _json(
                            "resumed",
                            {
                                "type": "object",
                                "required": ["conversation_id", "token"],
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "token": {"type": "string"},
                                },
                            },
                        ),
                        **_errors(400, 404, 422, 429),
                    },
                }
            },
            "/api/conversations/leave": {
                "post": {
                    "summary": "Leave a conversation by its token (quick exit): it closes, and its "
                    "tokens and resume code stop working",
                    "requestBody": _body(LeaveConversation),
                    "responses": {"204": {"description": "left"}, **_errors(400, 401, 422)},
                }
            },
            "/api/conversations/survey": {
                "post": {
                    "summary": "The relative's answer to 'Did this help you?' after the chat ended, "
                    "once; it goes into the anonymous contact record only",
                    "requestBody": _body(SurveyAnswer),
                    "responses": {
                        "204": {"description": "recorded"},
                        **_errors(400, 401, 409, 422),
                    },
                }
            },
            "/api/auth/login": {
                "post": {
                    "summary": "Staff sign-in; sets the session cookie",
                    "description": (
                        "One request carries the password and, once the account has two-factor "
                        "sign-in, its code or a recovery code. Every refusal is the same 401 "
                        "`invalid_credentials`, also while the second factor is locked after "
                        "`auth.totp_lockout_after` wrong codes. 429 `rate_limited` with Retry-After, "
                        "before anything is checked: another attempt for the same username is in "
                        "flight, the username is slowed down after repeated failures, or this "
                        "address passed `limits.logins_per_minute`."
                    ),
                    "requestBody": _body(Login),
                    "responses": {
                        "200": _json(
                            "signed in",
                            {"type": "object", "properties": {"user": {"$ref": "#/components/schemas/User"}}},
                        ),
                        **_errors(400, 401, 422, 429),
                    },
                }
            },
            "/api/auth/logout": {
                "post": {
                    "summary": "End the staff session",
                    "responses": {"204": {"description": "signed out"}},
                }
            },
            "/api/me": {"get": _staff("The signed-in staff member", _json("user"))},
            "/api/auth/totp": {
                "get": _staff(
                    "Two-factor sign-in status: enabled, required, recovery codes left",
                    _json("status", _TOTP_STATUS),
                )
            },
            "/api/auth/totp/enroll": {
                "post": _staff(
                    "Start enrolling: a new secret, its otpauth:// URI and an SVG QR code",
                    _json("enrollment", _TOTP_ENROLLMENT),
                    409,
                )
            },
            "/api/auth/totp/confirm": {
                "post": {
                    **_staff(
                        "Turn TOTP on with a current code; the recovery codes are shown this once",
                        _json("enabled", _TOTP_CONFIRMED),
                        409,
                        422,
                    ),
                    "requestBody": _body(ConfirmTotp),
                }
            },
            "/api/auth/totp/recovery-codes": {
                "post": {
                    **_staff(
                        "New recovery codes for the signed-in member, given a current authenticator "
                        "code (spent, and counted toward the lockout); the old codes stop working; "
                        "audited. 409 totp_not_enabled, 422 totp_invalid_code",
                        _json("the new codes, shown this once", _RECOVERY_CODES),
                        409,
                        422,
                    ),
                    "requestBody": _body(TotpCode),
                }
            },
            "/api/auth/password": {
                "post": {
                    **_staff(
                        "Change the signed-in member's password, giving the current one; their "
                        "other sessions end; audited. 422 wrong_password or weak_password; 429 "
                        "while the username is slowed down after wrong passwords",
                        {"description": "unused"},
                        422,
                        429,
                    ),
                    "responses": {"204": {"description": "changed"}, **_errors(401, 422, 429)},
                    "requestBody": _body(PasswordChange),
                }
            },
            "/api/auth/setup/inspect": {
                "post": {
                    "summary": "Whose account a setup link is for (no session needed)",
                    "description": (
                        "404 setup_link_invalid, setup_link_used or setup_link_expired. Counted "
                        "toward limits.logins_per_minute per address."
                    ),
                    "requestBody": _body(SetupToken),
                    "responses": {
                        "200": _json(
                            "the account",
                            {
                                "type": "object",
                                "properties": {
                                    "username": {"type": "string"},
                                    "display_name": {"type": "string"},
                                    "expires_at": {"type": "string", "format": "date-time"},
                                },
                            },
                        ),
                        **_errors(403, 404, 422, 429),
                    },
                }
            },
            "/api/auth/setup": {
                "post": {
                    "summary": "Choose the password with a setup link, which is spent (no session needed)",
                    "description": (
                        "404 setup_link_invalid, setup_link_used or setup_link_expired; 422 "
                        "weak_password. The member signs in afterwards as usual."
                    ),
                    "requestBody": _body(SetupPassword),
                    "responses": {
                        "200": _json(
                            "password set",
                            {"type": "object", "properties": {"user": {"$ref": SCHEMAS + "User"}}},
                        ),
                        **_errors(403, 404, 422, 429),
                    },
                }
            },
            "/api/staff/accounts": {
                "get": _staff(
                    "Admins: every staff account (role, route, TOTP on, last sign-in, disabled)",
                    _json(
                        "accounts",
                        {"type": "object", "properties": {"accounts": {"type": "array", "items": _ACCOUNT}}},
                    ),
                    403,
                ),
                "post": {
                    **_staff(
                        "Admins: add an account without a password; the answer holds its one-time "
                        "setup link (auth.setup_link_lifetime); audited. 409 user_exists, 422 "
                        "invalid_username or invalid_route",
                        {"description": "unused"},
                        403,
                        409,
                        422,
                    ),
                    "responses": {
                        "201": _json("added", _ACCOUNT_AND_LINK),
                        **_errors(401, 403, 409, 422),
                    },
                    "requestBody": _body(NewAccount),
                },
            },
            "/api/staff/accounts/{username}": {
                "patch": {
                    **_staff(
                        "Admins: change someone else's role, route or disabled state; a new role or "
                        "route and disabling end the account's sessions and sockets; audited",
                        _json("changed", {"type": "object", "properties": {"user": _ACCOUNT}}),
                        403,
                        404,
                        422,
                    ),
                    "parameters": _USERNAME,
                    "requestBody": _body(AccountChange),
                }
            },
            "/api/staff/accounts/{username}/password-reset": {
                "post": {
                    **_staff(
                        "Admins: someone else's password stops working and their sessions end; the "
                        "answer holds a new one-time setup link; audited",
                        _json("reset", _ACCOUNT_AND_LINK),
                        403,
                        404,
                    ),
                    "parameters": _USERNAME,
                }
            },
            "/api/staff/accounts/{username}/totp": {
                "delete": {
                    **_staff(
                        "Admins: reset someone else's TOTP (a lost phone); their sessions end; audited",
                        _json("user"),
                        403,
                        404,
                    ),
                    "parameters": _USERNAME,
                }
            },
            "/api/staff/settings": {
                "get": _staff(
                    "Outcomes, topics, languages, capacity, read reasons; the chats' district, the "
                    "districts and perspectives of the knowledge bank",
                    _json("settings"),
                )
            },
            "/api/staff/canned": {
                "get": {
                    **_staff("Canned answers for a language", _json("answers")),
                    "parameters": [{"name": "language", "in": "query", "schema": {"type": "string"}}],
                }
            },
            "/api/staff/conversations": {
                "get": {
                    **_staff("Closed conversations, newest first", _json("conversations"), 422),
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"const": "closed"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                }
            },
            "/api/staff/conversations/{conversation_id}": {
                "get": {
                    **_staff("A transcript with notes (audited)", _json("conversation"), 403, 404),
                    "parameters": [
                        {
                            "name": "conversation_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                }
            },
            "/api/staff/retention": {
                "get": {
                    **_staff(
                        "The retention sweeps (admins): the last sweep's counts and the totals of the "
                        "sweeps of the last 30 days; counts only, never content",
                        _json("report", _RETENTION_REPORT),
                        403,
                    )
                }
            },
            "/api/staff/audit": {
                "get": {
                    **_staff(
                        "The chat audit log (supervisors, admins): who did what to which conversation, "
                        "newest first; never content; the reading is audited too",
                        _json("entries", _AUDIT_ENTRIES),
                        403,
                        422,
                    ),
                    "parameters": [
                        {"name": "object_type", "in": "query", "schema": {"const": "conversation"}},
                        {"name": "object_id", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 200},
                        },
                    ],
                }
            },
            "/api/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": _json("the OpenAPI document")}}
            },
            **_escalation_paths(),
            **_booking_paths(),
            **_statistics_paths(),
            **_knowledge_paths(),
        },
    }


async def openapi_json(_request: web.Request) -> web.Response:
    return web.json_response(document())


def add_openapi_route(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi_json)


def _escalation_paths() -> dict[str, Any]:
    """docs/protocol.md, "Escalation". 404 means "not yours to know about", 403 "not yours to do"."""
    by_id = [{"name": "escalation_id", "in": "path", "required": True, "schema": {"type": "string"}}]

    def change(summary: str, body: type[BaseModel] | None = None) -> dict[str, Any]:
        operation = {**_staff(summary, _json("the new state"), 403, 404, 409, 422), "parameters": by_id}
        if body is not None:
            operation["requestBody"] = _body(body)
        return {"post": operation}

    created = {
        "type": "object",
        "required": ["escalation_id", "state"],
        "properties": {
            "escalation_id": {"type": "string"},
            "state": {"enum": ["awaiting_approval", "sent"]},
            "emergency_steps": {"type": "object"},
        },
    }
    return {
        "/api/escalations": {
            "get": _staff(
                "Escalations the caller may see, with state and deadline (audited)", _json("list"), 403
            ),
            "post": {
                "summary": "Draft an escalation from a conversation the caller holds",
                "security": [{"session": []}],
                "requestBody": _body(CreateEscalation),
                "responses": {"201": _json("drafted", created), **_errors(400, 401, 403, 404, 422)},
            },
        },
        "/api/escalations/config": {
            "get": _staff("Routes, kinds, texts and indicators for the forms", _json("config"))
        },
        "/api/escalations/audit": {
            "get": {
                **_staff("The escalation audit log (supervisors); never content", _json("entries"), 403),
                "parameters": [{"name": "escalation_id", "in": "query", "schema": {"type": "string"}}],
            }
        },
        "/api/escalations/status": {
            "post": {
                "summary": "The relative's view: sent, received or closed, by resume code",
                "requestBody": _body(StatusLookup),
                "responses": {"200": _json("statuses"), **_errors(400, 404, 422, 429)},
            }
        },
        "/api/escalations/{escalation_id}": {
            "get": {
                **_staff("One escalation's fields, never the transcript (audited)", _json("escalation"), 404),
                "parameters": by_id,
            }
        },
        "/api/escalations/{escalation_id}/transcript": {
            "get": {
                **_staff("The conversation, where the rules allow (audited)", _json("messages"), 403, 404),
                "parameters": by_id,
            }
        },
        "/api/escalations/{escalation_id}/approve": change(
            "Approve and send (a supervisor who did not draft it)"
        ),
        "/api/escalations/{escalation_id}/send-back": change("Send back to the drafter", SendBack),
        "/api/escalations/{escalation_id}/resubmit": change("Resubmit a sent back escalation", DraftIn),
        "/api/escalations/{escalation_id}/acknowledge": change(
            "Acknowledge (the route's social services user)"
        ),
        "/api/escalations/{escalation_id}/outcome": change(
            "Record received, under assessment or closed", RecordOutcome
        ),
    }


def _booking_paths() -> dict[str, Any]:
    """Booking and Twilio's webhooks (docs/protocol.md, "Booking")."""
    slot = {
        "type": "object",
        "required": ["start", "end", "kind", "seats_left"],
        "properties": {
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "kind": {"type": "string"},
            "seats_left": {"type": "integer", "minimum": 1},
        },
    }
    booked = {
        "type": "object",
        "required": ["appointment_id", "reference", "start", "end", "manage_code"],
        "properties": {
            "appointment_id": {"type": "string"},
            "reference": {"type": "string"},
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "manage_code": {"type": "string"},
        },
    }
    by_id = [{"name": "appointment_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    time_range = [
        {
            "name": "from",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "format": "date-time"},
        },
        {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date-time"}},
    ]
    twilio_form = {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
    signature = [
        {"name": "X-Twilio-Signature", "in": "header", "required": True, "schema": {"type": "string"}}
    ]

    def manage(summary: str, model: type[BaseModel], *errors: int) -> dict[str, Any]:
        return {
            "post": {
                "summary": summary,
                "requestBody": _body(model),
                "responses": {"200": _json("the appointment"), **_errors(400, 404, 422, 429, *errors)},
            }
        }

    return {
        "/api/booking/options": {
            "get": {
                "summary": "Appointment kinds, languages and time zone",
                "responses": {"200": _json("options")},
            }
        },
        "/api/slots": {
            "get": {
                "summary": "Free slots of a kind in a language; never a counsellor's name",
                "parameters": [
                    {"name": "kind", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "language", "in": "query", "required": True, "schema": {"type": "string"}},
                    *time_range,
                ],
                "responses": {
                    "200": _json(
                        "slots", {"type": "object", "properties": {"slots": {"type": "array", "items": slot}}}
                    ),
                    **_errors(422, 429),
                },
            }
        },
        "/api/slots/languages": {
            "get": {
                "summary": "The languages with at least one free slot of a kind in the window",
                "parameters": [
                    {"name": "kind", "in": "query", "required": True, "schema": {"type": "string"}},
                    *time_range,
                ],
                "responses": {
                    "200": _json(
                        "languages",
                        {
                            "type": "object",
                            "required": ["kind", "languages"],
                            "properties": {
                                "kind": {"type": "string"},
                                "languages": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    ),
                    **_errors(422, 429),
                },
            }
        },
        "/api/appointments": {
            "post": {
                "summary": "Book a slot anonymously with a mobile number for texts",
                "requestBody": _body(BookAppointment),
                "responses": {"201": _json("booked", booked), **_errors(400, 401, 409, 422, 429)},
            }
        },
        "/api/appointments/lookup": manage("The appointment a manage code belongs to", ManageCode),
        "/api/appointments/cancel": manage("Cancel with the manage code", ManageCode, 409),
        "/api/appointments/rebook": manage(
            "Move to another free time; answers a new manage code", Rebook, 409
        ),
        "/api/appointments/calendar": {
            "post": {
                "summary": "An .ics file with a neutral title",
                "requestBody": _body(ManageCode),
                "responses": {
                    "200": {
                        "description": "calendar",
                        "content": {"text/calendar": {"schema": {"type": "string"}}},
                    },
                    **_errors(404, 422),
                },
            }
        },
        "/api/appointments/offer": manage(
            "Times a counsellor offered in this relative's chat", ConversationToken, 401
        ),
        "/api/me/availability": {
            "get": _staff("The signed-in counsellor's availability", _json("availability")),
            "put": {
                **_staff(
                    "Replace languages, weekly times (local, Monday = 0) and exceptions", _json("stored"), 422
                ),
                "requestBody": _body(AvailabilityBody),
            },
        },
        "/api/staff/appointments": {
            "get": {
                **_staff(
                    "Appointments in a period with the status of every text", _json("appointments"), 422
                ),
                "parameters": time_range,
            }
        },
        "/api/staff/appointments/{appointment_id}/cancel": {
            "post": {
                **_staff("Cancel; the relative gets a text", _json("appointment"), 403, 404, 409),
                "parameters": by_id,
            }
        },
        "/api/staff/appointments/{appointment_id}/outcome": {
            "post": {
                **_staff("Mark attended or no-show", _json("appointment"), 403, 404, 409, 422),
                "parameters": by_id,
                "requestBody": _body(Outcome),
            }
        },
        "/api/staff/appointments/{appointment_id}/phone": {
            "get": {
                **_staff("The relative's number, for the call (audited)", _json("phone"), 403, 404),
                "parameters": by_id,
            }
        },
        "/api/staff/sms-outbox": {
            "get": _staff("Texts the embedded outbox kept (administrators)", _json("texts"), 403)
        },
        "/api/staff/booking/conversations": {
            "get": _staff("The caller's active chats, to offer times in", _json("chats"))
        },
        "/api/staff/conversations/{conversation_id}/slot-offer": {
            "post": {
                **_staff("Offer up to six times in a chat the caller holds", _json("offered"), 403, 422),
                "parameters": [
                    {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": _body(SlotOfferBody),
            }
        },
        "/webhooks/twilio/sms": {
            "post": {
                "summary": "Twilio: a text to our number (AVBOKA/CANCEL, STOP/STOPP, anything else)",
                "parameters": signature,
                "requestBody": twilio_form,
                "responses": {
                    "200": {"description": "TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}},
                    **_errors(403),
                },
            }
        },
        "/webhooks/twilio/status": {
            "post": {
                "summary": "Twilio: a delivery report for a text we sent",
                "parameters": [*signature, {"name": "text", "in": "query", "schema": {"type": "string"}}],
                "requestBody": twilio_form,
                "responses": {"204": {"description": "recorded"}, **_errors(403)},
            }
        },
    }


_STATS = {
    "type": "object",
    "required": ["from", "to", "by", "min_cell", "rows", "total"],
    "properties": {
        "from": {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"},
        "to": {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"},
        "by": {"type": "array", "items": {"enum": list(DIMENSIONS)}, "minItems": 1, "maxItems": 2},
        "min_cell": {"type": "integer", "minimum": 2},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "count", "suppressed"],
                "properties": {
                    "key": {
                        "type": "object",
                        "description": "one value per dimension of by (null: not set, e.g. no milieu)",
                        "additionalProperties": {"type": ["string", "boolean", "null"]},
                    },
                    "count": {"type": ["integer", "null"], "description": "null when suppressed"},
                    "suppressed": {"type": "boolean"},
                },
            },
        },
        "total": {"type": ["integer", "null"], "description": "null when it would reveal a suppressed cell"},
    },
}


def _statistics_paths() -> dict[str, Any]:
    week = {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"}
    table_query = [
        {"name": "from", "in": "query", "required": True, "schema": week},
        {"name": "to", "in": "query", "required": True, "schema": week},
        {
            "name": "by",
            "in": "query",
            "required": True,
            "description": "one dimension, or two separated by a comma",
            "schema": {"type": "string"},
        },
    ]

    def download(summary: str, media: str) -> dict[str, Any]:
        ok = {"description": "an attachment", "content": {media: {"schema": {"type": "string"}}}}
        return {"get": {**_staff(summary, ok, 403, 422), "parameters": table_query}}

    chart_query = [
        {"name": "chart", "in": "query", "required": True, "schema": {"enum": ["line", "bar"]}},
        {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "default": "sv"}},
    ]
    svg = {"description": "the plot", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}
    return {
        "/api/stats": {
            "get": {
                **_staff(
                    "Counts of contact records over a range of ISO weeks, by one or two dimensions; "
                    "counts under min_cell suppressed (supervisors, admins)",
                    _json("the table", _STATS),
                    403,
                    422,
                ),
                "parameters": table_query,
            }
        },
        "/api/stats.csv": download("The same table as CSV (the format of kinline report)", "text/csv"),
        "/api/stats.json": download("The same table as a JSON file", "application/json"),
        "/api/stats.svg": {
            "get": {
                **_staff(
                    "The table as a plot: counts per week as lines (by must include week), or bars; "
                    "labels in lang; suppressed cells are not drawn",
                    svg,
                    403,
                    422,
                ),
                "parameters": [*table_query, *chart_query],
            }
        },
    }


_CONTACT = {
    "type": "object",
    "required": ["phone", "url", "address", "hours"],
    "properties": {name: {"type": "string"} for name in ("phone", "url", "address", "hours")},
}
_PUBLIC_ITEM_FIELDS = {
    "id": {"type": "integer"},
    "language": {"type": "string", "description": "the language shown: the one asked for, else sv, else en"},
    "title": {"type": "string"},
    "summary": {"type": "string"},
    "body_html": {"type": "string", "description": "Markdown rendered and sanitised (docs/knowledge.md)"},
    "perspectives": {"type": "array", "items": {"type": "string"}},
    "districts": {"type": "array", "items": {"type": "string"}, "description": "route ids, or all"},
    "languages": {"type": "array", "items": {"type": "string"}},
    "updated_at": {"type": "string", "format": "date-time"},
}


def _public_list(name: str, with_contact: bool) -> dict[str, Any]:
    fields = {**_PUBLIC_ITEM_FIELDS, **({"contact": _CONTACT} if with_contact else {})}
    item = {"type": "object", "required": sorted(fields), "properties": fields}
    return {"type": "object", "required": [name], "properties": {name: {"type": "array", "items": item}}}


def _knowledge_paths() -> dict[str, Any]:
    """The knowledge bank: public reading, and each staff collection (docs/knowledge.md)."""
    language = {"name": "language", "in": "query", "schema": {"type": "string", "default": "sv"}}
    district = {"name": "district", "in": "query", "schema": {"type": "string"}}
    query = {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}}
    by_id = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    item = _json("the item", {"type": "object", "required": ["item"]})
    html = {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}}
    paths: dict[str, Any] = {
        "/help": {
            "get": {
                "summary": "The public page Information and help: server-rendered, works without JavaScript",
                "parameters": [
                    {"name": "lang", "in": "query", "schema": {"type": "string", "default": "sv"}},
                    district,
                ],
                "responses": {"200": html},
            }
        },
        "/api/resources": {
            "get": {
                "summary": "Published resources for relatives, for a district (or all)",
                "parameters": [language, district],
                "responses": {"200": _json("resources", _public_list("resources", True)), **_errors(422)},
            }
        },
        "/api/articles": {
            "get": {
                "summary": "Published public articles for relatives",
                "parameters": [language],
                "responses": {"200": _json("articles", _public_list("articles", False)), **_errors(422)},
            }
        },
        "/api/staff/knowledge/search": {
            "get": {
                **_staff("Search articles and resources in every language (staff)", _json("items"), 403, 422),
                "parameters": [query],
            }
        },
        "/api/staff/knowledge/preview": {
            "post": {
                **_staff(
                    "The editor's preview: a Markdown text rendered and sanitised as it will show, stored "
                    "nowhere (coordinator, admin)",
                    _json(
                        "html",
                        {"type": "object", "required": ["html"], "properties": {"html": {"type": "string"}}},
                    ),
                    403,
                    422,
                ),
                "requestBody": _body(PreviewBody),
            }
        },
    }
    for collection in COLLECTIONS:
        base = f"/api/staff/{collection}"
        edit = (403, 404, 409, 422)
        paths[base] = {
            "get": {
                **_staff(
                    f"Every item of {collection}, or those matching q (staff)", _json("items"), 403, 422
                ),
                "parameters": [query],
            },
            "post": {
                "summary": f"Create one of {collection} (coordinator, admin; audited)",
                "security": [{"session": []}],
                "requestBody": _body(ItemBody),
                "responses": {"201": item, **_errors(401, 403, 409, 422)},
            },
        }
        paths[base + "/{item_id}"] = {
            "get": {**_staff("One item with its texts (staff)", item, 403, 404, 422), "parameters": by_id},
            "put": {
                **_staff("Change an item; a changed text becomes a new version (audited)", item, *edit),
                "parameters": by_id,
                "requestBody": _body(ItemBody),
            },
            "delete": {
                "summary": "Delete an item and its versions (coordinator, admin; audited)",
                "security": [{"session": []}],
                "parameters": by_id,
                "responses": {"204": {"description": "deleted"}, **_errors(401, 403, 404, 422)},
            },
        }
        for verb in ("publish", "unpublish"):
            paths[f"{base}/{{item_id}}/{verb}"] = {
                "post": {**_staff(f"{verb.capitalize()} an item (audited)", item, *edit), "parameters": by_id}
            }
        paths[base + "/{item_id}/versions"] = {
            "get": {
                **_staff(
                    "Every version of every language, newest first (staff)", _json("versions"), 403, 404
                ),
                "parameters": by_id,
            }
        }
    return paths
