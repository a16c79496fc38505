"""Loads config/escalation.toml: routes per district, the kinds with their wording, the indicator
checklist and the neutral SMS texts. Checked once at start; every error names its key."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from server.config.settings import SettingsError
from server.domain.durations import parse_duration
from server.domain.escalation import (
    AGE_BANDS,
    EscalationConfig,
    Indicator,
    Kind,
    KindRule,
    KindText,
    Route,
    Webhook,
)

STAFF_LANGUAGES = ("sv", "en")
_ROUTE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_INDICATOR_ID = re.compile(r"^[a-z0-9_]{2,64}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class RoutesFileError(SettingsError):
    """The routes file is missing or wrong; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


DurationText = Annotated[
    timedelta, BeforeValidator(lambda value: parse_duration(value) if isinstance(value, str) else value)
]


class _Text(_Strict):
    title: str = ""
    guidance: str = ""
    law: str = ""
    relative_notice: str = ""
    emergency_steps: list[str] = Field(default_factory=list)


class _Kind(_Strict):
    age_bands: list[str] = Field(default_factory=lambda: list(AGE_BANDS))
    requires_consent: bool = False
    required: list[Literal["contact", "indicators"]] = Field(default_factory=list)
    text: dict[str, _Text]


class _Webhook(_Strict):
    url: str = Field(pattern=r"^https?://\S+$")
    secret_env: str = Field(pattern=_ENV_NAME.pattern)


class _Route(_Strict):
    name: str = Field(min_length=1)
    kinds: list[Kind] = Field(min_length=1)
    ack_deadline: DurationText
    backup_route: str | None = None
    inbox: bool = True
    on_call_sms: str | None = Field(default=None, pattern=_E164.pattern)
    webhook: _Webhook | None = None


class _Indicator(_Strict):
    id: str = Field(pattern=_INDICATOR_ID.pattern)
    labels: dict[str, str]


class _Notifications(_Strict):
    sms_new: str = Field(min_length=1, max_length=320)
    sms_backup: str = Field(min_length=1, max_length=320)


class _File(_Strict):
    notifications: _Notifications
    indicators: list[_Indicator] = Field(default_factory=list)
    kinds: dict[Kind, _Kind]
    routes: dict[str, _Route] = Field(min_length=1)


def _problems(parsed: _File, environ: Mapping[str, str]) -> list[str]:
    """Rules that span keys, each reported with the key it is about."""
    problems: list[str] = []
    for kind in Kind:
        if kind not in parsed.kinds:
            problems.append(f"kinds.{kind.value}: missing")
    for kind, rule in parsed.kinds.items():
        key = f"kinds.{kind.value}"
        for band in rule.age_bands:
            if band not in AGE_BANDS:
                problems.append(f"{key}.age_bands: unknown band {band!r}; use {list(AGE_BANDS)}")
        if not rule.age_bands:
            problems.append(f"{key}.age_bands: at least one")
        for language in STAFF_LANGUAGES:
            text = rule.text.get(language)
            for name in ("title", "guidance", "relative_notice"):
                if text is None or not getattr(text, name).strip():
                    problems.append(f"{key}.text.{language}.{name}: required")
            if kind is Kind.IMMINENT_DANGER and (text is None or not text.emergency_steps):
                problems.append(f"{key}.text.{language}.emergency_steps: required for imminent danger")
    seen: set[str] = set()
    for index, indicator in enumerate(parsed.indicators):
        if indicator.id in seen:
            problems.append(f"indicators.{index}.id: {indicator.id!r} is listed twice")
        seen.add(indicator.id)
        for language in STAFF_LANGUAGES:
            if not indicator.labels.get(language, "").strip():
                problems.append(f"indicators.{index}.labels.{language}: required")
    for route_id, route in parsed.routes.items():
        key = f"routes.{route_id}"
        if not _ROUTE_ID.match(route_id):
            problems.append(f"{key}: route ids are 2-64 lower-case letters, digits or '-'")
        if route.ack_deadline.total_seconds() <= 0:
            problems.append(f"{key}.ack_deadline: must be longer than 0s")
        if route.backup_route is not None:
            if route.backup_route == route_id:
                problems.append(f"{key}.backup_route: cannot be the route itself")
            elif route.backup_route not in parsed.routes:
                problems.append(f"{key}.backup_route: no route {route.backup_route!r}")
            else:
                backup_kinds = parsed.routes[route.backup_route].kinds
                missing = sorted(kind.value for kind in set(route.kinds) - set(backup_kinds))
                if missing:
                    problems.append(f"{key}.backup_route: {route.backup_route} does not receive {missing}")
        if not (route.inbox or route.on_call_sms or route.webhook):
            problems.append(f"{key}: needs at least one of inbox, on_call_sms, webhook")
        if route.webhook and not environ.get(route.webhook.secret_env):
            problems.append(
                f"{key}.webhook.secret_env: environment variable {route.webhook.secret_env} is not set"
            )
    return problems


def _config(parsed: _File, environ: Mapping[str, str], emergency_number: str) -> EscalationConfig:
    def fill(text: str) -> str:
        return text.strip().replace("{emergency_number}", emergency_number)

    kinds = {
        kind: KindRule(
            kind=kind,
            age_bands=tuple(rule.age_bands),
            requires_consent=rule.requires_consent,
            required=frozenset(rule.required),
            texts={
                language: KindText(
                    title=fill(text.title),
                    guidance=fill(text.guidance),
                    law=fill(text.law),
                    relative_notice=fill(text.relative_notice),
                    emergency_steps=tuple(fill(step) for step in text.emergency_steps),
                )
                for language, text in rule.text.items()
            },
        )
        for kind, rule in parsed.kinds.items()
    }
    routes = {
        route_id: Route(
            id=route_id,
            name=route.name,
            kinds=frozenset(route.kinds),
            ack_deadline=route.ack_deadline,
            backup_route=route.backup_route,
            inbox=route.inbox,
            on_call_sms=route.on_call_sms,
            webhook=Webhook(route.webhook.url, environ[route.webhook.secret_env].encode())
            if route.webhook
            else None,
        )
        for route_id, route in parsed.routes.items()
    }
    indicators = tuple(Indicator(i.id, dict(i.labels)) for i in parsed.indicators)
    return EscalationConfig(
        routes=routes,
        kinds=kinds,
        indicators=indicators,
        sms_new=parsed.notifications.sms_new,
        sms_backup=parsed.notifications.sms_backup,
    )


def load_escalation_config(
    path: Path, environ: Mapping[str, str] | None = None, emergency_number: str = "112"
) -> EscalationConfig:
    environ = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RoutesFileError(f"{path}: no such file (escalation.routes_file)") from None
    except tomllib.TOMLDecodeError as error:
        raise RoutesFileError(f"{path}: not valid TOML: {error}") from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as error:
        lines = [
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise RoutesFileError(f"{path}: invalid escalation routes:\n  " + "\n  ".join(lines)) from None
    problems = _problems(parsed, environ)
    if problems:
        raise RoutesFileError(f"{path}: invalid escalation routes:\n  " + "\n  ".join(problems))
    return _config(parsed, environ, emergency_number)
