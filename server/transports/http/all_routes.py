"""The one place where every HTTP route group is registered, in matching order: the API groups
first, the static pages and files last."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.transports.http.account_routes import add_account_routes
from server.transports.http.audit_routes import add_audit_routes
from server.transports.http.auth_routes import add_auth_routes
from server.transports.http.booking_routes import add_booking_routes
from server.transports.http.chat_routes import add_chat_routes
from server.transports.http.escalation_routes import add_escalation_routes
from server.transports.http.help_page import add_help_page
from server.transports.http.knowledge_routes import add_knowledge_routes
from server.transports.http.openapi import add_openapi_route
from server.transports.http.ops_routes import add_ops_routes
from server.transports.http.retention_routes import add_retention_routes
from server.transports.http.static import add_static_routes
from server.transports.http.statistics_routes import add_statistics_routes
from server.transports.http.stats_chart_routes import add_stats_chart_routes
from server.transports.http.stats_export_routes import add_stats_export_routes
from server.transports.http.survey_routes import add_survey_routes
from server.transports.http.totp_routes import add_totp_routes
from server.transports.webhooks.twilio import add_twilio_webhooks


def add_http_routes(app: web.Application, web_root: Path) -> None:
    add_chat_routes(app)
    add_auth_routes(app)
    add_totp_routes(app)
    add_account_routes(app)
    add_audit_routes(app)
    add_retention_routes(app)
    add_escalation_routes(app)
    add_booking_routes(app)
    add_stats_chart_routes(app)
    add_stats_export_routes(app)
    add_statistics_routes(app)
    add_survey_routes(app)
    add_knowledge_routes(app)
    add_help_page(app)
    add_twilio_webhooks(app)
    add_ops_routes(app)
    add_openapi_route(app)
    add_static_routes(app, web_root)
