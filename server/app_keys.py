"""Typed keys for everything create_app puts on the application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import socketio

    from bots.intake import IntakeBot
    from bots.sms import SmsBot
    from server.adapters.counters import Counters
    from server.adapters.db.engine import Database
    from server.adapters.db.unit_of_work import SqlUnitOfWork
    from server.adapters.metrics import Metrics
    from server.config.i18n import Catalogs
    from server.config.settings import Settings
    from server.domain.escalation import EscalationConfig
    from server.domain.tokens import KeyedHash
    from server.services.accounts import AccountService
    from server.services.audit import AuditService
    from server.services.auth import AuthService
    from server.services.booking import BookingService
    from server.services.chat import ChatService
    from server.services.escalation import EscalationService
    from server.services.events import EventBus
    from server.services.knowledge import KnowledgeService
    from server.services.operations import OperationsService
    from server.services.ports.counters import RateLimit
    from server.services.ports.sms import SmsGateway
    from server.services.reminders import TextService
    from server.services.retention import RetentionService
    from server.services.statistics import StatisticsService
    from server.services.supervision import SupervisionService
    from server.services.survey import SurveyService
    from server.transports.client_address import TrustedProxies
    from server.transports.sockets.presence import Presence
    from server.transports.sockets.relative import RelativeNamespace
    from server.transports.sockets.session_watch import SessionWatch

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
UNIT_OF_WORK: web.AppKey[SqlUnitOfWork] = web.AppKey("unit_of_work")
CHAT: web.AppKey[ChatService] = web.AppKey("chat")
# The consoles open in this process; the chat service asks it who is online.
PRESENCE: web.AppKey[Presence] = web.AppKey("presence")
AUTH: web.AppKey[AuthService] = web.AppKey("auth")
ACCOUNTS: web.AppKey[AccountService] = web.AppKey("accounts")
AUDIT: web.AppKey[AuditService] = web.AppKey("audit")
STATISTICS: web.AppKey[StatisticsService] = web.AppKey("statistics")
SUPERVISION: web.AppKey[SupervisionService] = web.AppKey("supervision")
SURVEY: web.AppKey[SurveyService] = web.AppKey("survey")
RETENTION: web.AppKey[RetentionService] = web.AppKey("retention")
EVENTS: web.AppKey[EventBus] = web.AppKey("events")
CATALOGS: web.AppKey[Catalogs] = web.AppKey("catalogs")
KNOWLEDGE: web.AppKey[KnowledgeService] = web.AppKey("knowledge")
CONVERSATION_LIMITER: web.AppKey[RateLimit] = web.AppKey("conversation_limiter")
RESUME_LIMITER: web.AppKey[RateLimit] = web.AppKey("resume_limiter")
SLOT_LIMITER: web.AppKey[RateLimit] = web.AppKey("slot_limiter")
LOGIN_LIMITER: web.AppKey[RateLimit] = web.AppKey("login_limiter")
RATE_LIMIT_HMAC: web.AppKey[KeyedHash] = web.AppKey("rate_limit_hmac")
TRUSTED_PROXIES: web.AppKey[TrustedProxies] = web.AppKey("trusted_proxies")
# rate limits and the sign-in slowdown, in memory or shared through Redis
COUNTERS: web.AppKey[Counters] = web.AppKey("counters")
# observability: /metrics and /readyz
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
OPERATIONS: web.AppKey[OperationsService] = web.AppKey("operations")
ESCALATION_CONFIG: web.AppKey[EscalationConfig] = web.AppKey("escalation_config")
ESCALATIONS: web.AppKey[EscalationService] = web.AppKey("escalations")
# booking and SMS
SMS: web.AppKey[SmsGateway] = web.AppKey("sms")
BOOKING: web.AppKey[BookingService] = web.AppKey("booking")
TEXTS: web.AppKey[TextService] = web.AppKey("texts")
SMS_BOT: web.AppKey[SmsBot] = web.AppKey("sms_bot")
BOOKING_LIMITER: web.AppKey[RateLimit] = web.AppKey("booking_limiter")
MANAGE_LIMITER: web.AppKey[RateLimit] = web.AppKey("manage_limiter")
# realtime
SIO: web.AppKey[socketio.AsyncServer] = web.AppKey("sio")
SESSION_WATCH: web.AppKey[SessionWatch] = web.AppKey("session_watch")
RELATIVES: web.AppKey[RelativeNamespace] = web.AppKey("relatives")
INTAKE: web.AppKey[IntakeBot] = web.AppKey("intake")
