"""What the escalation tests share: the shipped routes file with a webhook on every route, and
drafts whose free text is easy to find (at rest it must not be)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from server.config.escalation_file import load_escalation_config
from server.config.paths import config_dir
from server.domain.escalation import Contact, Draft, EscalationConfig, Kind, Subject, Webhook

SHIPPED = load_escalation_config(config_dir() / "escalation.toml", environ={})
RETENTION = timedelta(days=730)
SUMMARY = "canary-summary Lingonris 4711 pappan visar barnen våldsfilmer"
RELATION = "canary-relation Kattfot 0815"
PHONE = "+46701740699"


def with_webhook(config: EscalationConfig, deadline: timedelta | None = None) -> EscalationConfig:
    routes = {}
    for route_id, route in config.routes.items():
        route = replace(route, webhook=Webhook(f"https://{route_id}.example/hook", b"secret"))
        routes[route_id] = replace(route, ack_deadline=deadline) if deadline else route
    return replace(config, routes=routes)


CONFIG = with_webhook(SHIPPED)


def draft(kind: Kind = Kind.CHILD_CONCERN, route: str = "spanga-tensta", **changes: Any) -> Draft:
    base = Draft(route, kind, SUMMARY, ("child_exposed",), False, Subject("0-12", RELATION))
    if kind is Kind.CONSENT_REFERRAL:
        base = replace(base, consent=True, subject=Subject("26+", RELATION), contact=Contact(phone=PHONE))
    if kind is Kind.SIG_REFERRAL:
        base = replace(base, consent=True, subject=Subject("13-17", RELATION))
    return replace(base, **changes)
