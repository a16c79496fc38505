"""create_app(settings): assembles adapters, services and transports. Nothing runs at import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import socketio
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import IntegrityError

from bots.intake import IntakeBot, greetings
from bots.sms import SmsBot
from server import app_keys
from server.adapters.counters import Counters, counter_hash
from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.operational_counts import SqlOperationalCounts
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.adapters.metrics import BackendErrorLog, Metrics
from server.adapters.probes import DatabaseProbe, RedisProbe
from server.adapters.sms.outbox import OutboxSmsSender
from server.adapters.sms.twilio import TwilioConfig, TwilioSmsSender
from server.adapters.webhook import WebhookClient, new_session
from server.config.escalation_file import load_escalation_config
from server.config.i18n import Catalogs
from server.config.knowledge import read_directory
from server.config.paths import config_dir, web_dir
from server.config.settings import Settings
from server.domain.booking.kinds import GroupSchedule, KindRules
from server.domain.escalation import EscalationConfig
from server.domain.hours import OpeningHours
from server.domain.reminders import ThrottlePolicy
from server.domain.supervision import AlertRules
from server.services.accounts import AccountPolicy, AccountService
from server.services.audit import AuditService
from server.services.auth import AuthService, SessionPolicy, login_throttle
from server.services.booking import BookingPolicy, BookingService
from server.services.chat import ChatPolicy, ChatService
from server.services.contact_records import ContactRecorder, RecordPolicy
from server.services.escalation import EscalationPolicy, EscalationService
from server.services.events import EventBus
from server.services.knowledge import KnowledgePolicy, KnowledgeService
from server.services.operations import OperationsService
from server.services.ports.clock import system_clock
from server.services.ports.operations import Probe
from server.services.reminders import TextPolicy, TextService
from server.services.retention import RetentionService
from server.services.statistics import StatisticsPolicy, StatisticsService
from server.services.supervision import JOINED, LEFT, SupervisionPolicy, SupervisionService
from server.services.survey import SurveyService
from server.transports.client_address import parse_trusted
from server.transports.http.all_routes import add_http_routes
from server.transports.http.hardening import body_limits, hide_server_version, security_headers
from server.transports.http.middlewares import errors_middleware
from server.transports.http.staff_auth import cookie_name
from server.transports.sockets import json_codec
from server.transports.sockets.appointments import AppointmentPush
from server.transports.sockets.base import TextPacket
from server.transports.sockets.broadcast import Broadcaster
from server.transports.sockets.counsellor import CounsellorNamespace
from server.transports.sockets.escalations import EscalationNamespace, EscalationPush
from server.transports.sockets.managers import IndexedAsyncManager, IndexedAsyncRedisManager
from server.transports.sockets.overview import OverviewPush
from server.transports.sockets.presence import Presence
from server.transports.sockets.relative import RelativeNamespace
from server.transports.sockets.session_watch import SessionWatch

log = logging.getLogger(__name__)


def presence_sweep_seconds(policy: ChatPolicy) -> float:
    """Often enough that a conversation turns away soon after ``away_after`` and closes soon
    after ``abandon_after``, at most every 15 s."""
    shortest = min(policy.away_after, policy.abandon_after)
    return min(15.0, max(0.5, shortest.total_seconds() / 4))


def retention_sweep_seconds(auto_close_after: timedelta) -> float:
    """Every 10 minutes, or more often when ``chat.auto_close_after`` is short (at least every
    quarter of it, at most every 0.5 s), so an inactive conversation closes soon after it is due."""
    return min(600.0, max(0.5, auto_close_after.total_seconds() / 4))


def opening_hours(settings: Settings) -> OpeningHours:
    return OpeningHours(
        timezone=settings.hours.timezone,
        weekly=settings.hours.weekly,
        closed_dates=frozenset(date.fromisoformat(d) for d in settings.hours.closed_dates),
        always_open=settings.hours.always_open,
    )


def chat_policy(settings: Settings, catalogs: Catalogs) -> ChatPolicy:
    chat = settings.chat
    return ChatPolicy(
        hours=opening_hours(settings),
        languages=tuple(chat.languages),
        topics=tuple(chat.topics),
        outcomes=tuple(chat.outcomes),
        capacity=chat.counsellor_capacity,
        max_text_length=chat.max_text_length,
        token_lifetime=chat.token_lifetime,
        default_wait=chat.default_wait_estimate,
        online_window=settings.security.session_idle_timeout,
        greetings=greetings(catalogs, chat.languages, settings.privacy.emergency_number),
        waiting_per_address=settings.limits.waiting_per_address,
        abandon_after=chat.abandon_after,
        away_after=chat.away_after,
        auto_close_after=chat.auto_close_after,
        records=contact_recorder(settings),
    )


def knowledge_policy(settings: Settings, escalation: EscalationConfig) -> KnowledgePolicy:
    """The perspectives are the statistics' and the districts the escalation routes' ids."""
    return KnowledgePolicy(tuple(settings.statistics.perspectives), tuple(escalation.routes))


def supervision_policy(settings: Settings, catalogs: Catalogs) -> SupervisionPolicy:
    supervision = settings.supervision
    return SupervisionPolicy(
        alerts=AlertRules(supervision.wait_alert, supervision.deadline_warning),
        online_window=supervision.online_window,
        read_reasons=tuple(supervision.read_reasons),
        notices={
            language: {
                JOINED: catalogs.text(language, "bot.colleague_joined"),
                LEFT: catalogs.text(language, "bot.colleague_left"),
            }
            for language in settings.chat.languages
        },
    )


def contact_recorder(settings: Settings) -> ContactRecorder:
    return ContactRecorder(
        RecordPolicy(
            settings.statistics.rules(), settings.statistics.route, ZoneInfo(settings.hours.timezone)
        )
    )


def _library_logger(name: str) -> logging.Logger:
    """python-socketio's and python-engineio's logger, given to them so that they do not add a
    handler of their own: their records go through the root handlers and the privacy filter
    (server/log_privacy.py). At INFO they log packet contents, so they start at WARNING."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    return logger


def _socket_server(settings: Settings) -> socketio.AsyncServer:
    redis_url = settings.scale.redis_url
    manager = IndexedAsyncRedisManager(redis_url) if redis_url else IndexedAsyncManager()
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=settings.security.allowed_origins or None,
        max_http_buffer_size=settings.limits.max_socket_payload_bytes,
        logger=_library_logger("socketio.server"),
        engineio_logger=_library_logger("engineio.server"),
        serializer=TextPacket,
        json=json_codec,
    )


async def _metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Counts the database and Redis errors logged while the app runs (server/adapters/metrics.py)."""
    errors = BackendErrorLog(app[app_keys.METRICS])
    errors.install()
    yield
    errors.uninstall()


async def _counters_ctx(app: web.Application) -> AsyncIterator[None]:
    """Rate limits and the sign-in slowdown's hash key: in this process, or shared through Redis
    (scale.redis_url) under a key derived from the data key."""
    settings = app[app_keys.SETTINGS]
    limits, security = settings.limits, settings.security
    keyed = counter_hash(
        settings.scale.redis_url, security.data_key, settings.resolved_path(security.data_key_file)
    )
    counters = Counters(settings.scale.redis_url, keyed, app[app_keys.METRICS].backend_error)
    app[app_keys.COUNTERS] = counters
    app[app_keys.RATE_LIMIT_HMAC] = keyed
    per_minute = limits.new_conversations_per_minute
    app[app_keys.CONVERSATION_LIMITER] = counters.rate_limit("conversations", per_minute)
    app[app_keys.RESUME_LIMITER] = counters.rate_limit("resume", max(per_minute * 2, 0))
    app[app_keys.SLOT_LIMITER] = counters.rate_limit("slots", limits.slot_queries_per_minute)
    app[app_keys.LOGIN_LIMITER] = counters.rate_limit("logins", limits.logins_per_minute)
    bookings = settings.booking.bookings_per_minute
    app[app_keys.BOOKING_LIMITER] = counters.rate_limit("bookings", bookings)
    app[app_keys.MANAGE_LIMITER] = counters.rate_limit("manage", bookings * 3)
    yield
    await counters.close()


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[app_keys.SETTINGS]
    database = Database(settings.resolved_database_url())
    security = settings.security
    ciphers = DataCiphers.load(security.data_key, settings.resolved_path(security.data_key_file))
    uow = SqlUnitOfWork(database, ciphers)
    events = app[app_keys.EVENTS]
    app[app_keys.DATABASE] = database
    app[app_keys.UNIT_OF_WORK] = uow
    presence = Presence()
    app[app_keys.PRESENCE] = presence
    app[app_keys.CHAT] = ChatService(
        uow, events, system_clock, chat_policy(settings, app[app_keys.CATALOGS]), online=presence
    )
    session_policy = SessionPolicy(
        settings.security.session_idle_timeout,
        settings.security.session_absolute_timeout,
        settings.limits.login_failures_before_delay,
        settings.auth.require_totp,
        settings.auth.totp_issuer,
        settings.auth.login_delay_base,
        settings.auth.login_delay_max,
        settings.auth.totp_lockout_after,
        settings.auth.totp_lockout_for,
    )
    counters = app[app_keys.COUNTERS]
    app[app_keys.AUTH] = AuthService(
        uow,
        events,
        system_clock,
        session_policy,
        ciphers.totp,
        attempts=counters.login_attempts(login_throttle(session_policy, app[app_keys.RATE_LIMIT_HMAC])),
    )
    app[app_keys.ACCOUNTS] = AccountService(
        uow,
        events,
        system_clock,
        AccountPolicy(settings.auth.setup_link_lifetime, frozenset(app[app_keys.ESCALATION_CONFIG].routes)),
        app[app_keys.AUTH].hasher,
    )
    backend_error = app[app_keys.METRICS].backend_error
    probes: list[Probe] = [DatabaseProbe(database, backend_error)]
    if counters.redis is not None:
        probes.append(RedisProbe(counters.redis, backend_error))
    app[app_keys.OPERATIONS] = OperationsService(
        SqlOperationalCounts(database),
        presence,
        system_clock,
        settings.observability.escalation_deadline_warning,
        probes,
    )
    app[app_keys.RETENTION] = RetentionService(
        uow,
        system_clock,
        settings.privacy.chat_retention,
        events,
        close_inactive=app[app_keys.CHAT].close_inactive,
        auto_close_after=settings.chat.auto_close_after,
    )
    app[app_keys.AUDIT] = AuditService(uow, system_clock)
    app[app_keys.SURVEY] = SurveyService(uow, system_clock)
    app[app_keys.SUPERVISION] = SupervisionService(
        uow,
        events,
        system_clock,
        app[app_keys.CHAT],
        supervision_policy(settings, app[app_keys.CATALOGS]),
    )
    app[app_keys.STATISTICS] = StatisticsService(
        uow, StatisticsPolicy(settings.statistics.min_cell, settings.statistics.max_weeks)
    )
    knowledge = KnowledgeService(
        uow, system_clock, knowledge_policy(settings, app[app_keys.ESCALATION_CONFIG])
    )
    app[app_keys.KNOWLEDGE] = knowledge
    await _first_start_knowledge(knowledge)
    yield
    await uow.close()
    await database.dispose()


async def _first_start_knowledge(knowledge: KnowledgeService) -> None:
    """A fresh database gets the shipped knowledge (config/knowledge/) so a new install behaves as
    the files say; a bank that holds anything is left alone (docs/knowledge.md). When two
    processes start on one new database, one import wins and the other finds its unique keys."""
    try:
        loaded = await knowledge.import_drafts(read_directory(config_dir() / "knowledge"), only_if_empty=True)
    except IntegrityError:
        loaded = 0
    if loaded:
        log.info("the empty knowledge bank got the %d shipped items", loaded)


async def _session_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """Closes the staff sockets of every staff namespace whose session ended."""
    watch = SessionWatch(
        app[app_keys.SIO], app[app_keys.AUTH], app[app_keys.SETTINGS].security.session_check_interval
    )
    app[app_keys.EVENTS].subscribe(watch.on_event)
    app[app_keys.SESSION_WATCH] = watch
    watch.start()
    yield
    await watch.stop()


async def _realtime_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[app_keys.SETTINGS]
    sio, chat, events = app[app_keys.SIO], app[app_keys.CHAT], app[app_keys.EVENTS]
    counsellors = CounsellorNamespace(
        chat,
        app[app_keys.SUPERVISION],
        app[app_keys.AUTH],
        cookie_name(settings.security.secure_cookies),
        app[app_keys.PRESENCE],
        app[app_keys.SESSION_WATCH],
        app[app_keys.KNOWLEDGE],
        settings.chat.console_queue_shown,
    )
    relatives = RelativeNamespace(chat, settings.limits.sockets_per_conversation)
    metrics = app[app_keys.METRICS]
    relatives.ack_observer = counsellors.ack_observer = metrics.observe_ack
    sio.register_namespace(relatives)
    sio.register_namespace(counsellors)
    broadcaster = Broadcaster(
        sio,
        chat,
        counsellors,
        relatives,
        settings.chat.queue_push_delay,
        observe_delivery=metrics.observe_delivery,
        shared=bool(settings.scale.redis_url),
    )
    events.subscribe(broadcaster.on_event)
    app[app_keys.PRESENCE].on_change(broadcaster.queue_changed)
    relatives.on_new_page(broadcaster.queue_changed, broadcaster.label)
    overview = OverviewPush(
        sio,
        app[app_keys.SUPERVISION],
        settings.supervision.push_interval,
        settings.supervision.refresh_every,
        shared=bool(settings.scale.redis_url),
    )
    events.subscribe(overview.on_event)
    app[app_keys.PRESENCE].on_people_change(overview.changed)
    intake = IntakeBot(
        chat,
        app[app_keys.CATALOGS],
        app[app_keys.KNOWLEDGE],
        settings.privacy.emergency_number,
        settings.chat.waiting_update_every,
    )
    events.subscribe(intake.on_event)
    app[app_keys.INTAKE] = intake
    app[app_keys.RELATIVES] = relatives
    broadcaster.start()
    overview.start()
    yield
    await overview.stop()
    await broadcaster.stop()


def appointment_kinds(settings: Settings) -> dict[str, KindRules]:
    return {
        name: KindRules(
            name=name,
            duration=kind.duration,
            buffer=kind.buffer,
            min_notice=kind.min_notice,
            horizon=kind.horizon,
            seats=kind.seats,
            address=kind.address,
            schedule=GroupSchedule.parse(kind.sessions, kind.weekly, kind.monthly),
            interpreter=kind.interpreter,
            counsellor_languages=tuple(kind.counsellor_languages) if kind.interpreter else (),
        )
        for name, kind in settings.booking.kinds.items()
    }


async def _booking_ctx(app: web.Application) -> AsyncIterator[None]:
    """Booking and SMS: the SMS backend (the Twilio client is built here, inside the loop), the
    text sender, the booking service, the SMS reply bot and the console push."""
    settings = app[app_keys.SETTINGS]
    uow = app[app_keys.UNIT_OF_WORK]
    sms = settings.sms
    twilio = None
    if sms.backend == "twilio":
        twilio = TwilioSmsSender(
            TwilioConfig(
                sms.twilio_account_sid,
                sms.twilio_auth_token,
                sms.twilio_from,
                sms.twilio_api_base,
                settings.public_url,
                sms.send_timeout,
            )
        )
        await twilio.open()
    gateway = twilio or OutboxSmsSender(uow, system_clock)
    zone, kinds = ZoneInfo(settings.booking.timezone), appointment_kinds(settings)
    catalogs = app[app_keys.CATALOGS]
    events = app[app_keys.EVENTS]
    texts = TextService(
        uow,
        gateway,
        system_clock,
        TextPolicy(
            zone=zone,
            kinds=kinds,
            sender_name=sms.sender_name,
            send_timeout=sms.send_timeout,
            max_concurrent=sms.max_concurrent_sends,
            reconcile_after=sms.reconcile_after,
            max_attempts=settings.booking.max_send_attempts,
            phone_retention=settings.booking.phone_retention,
            throttle=ThrottlePolicy(sms.throttle_retries, sms.throttle_backoff, sms.throttle_backoff_max),
        ),
        catalogs.text,
        events,
    )
    booking = BookingService(
        uow,
        system_clock,
        BookingPolicy(
            zone=zone,
            kinds=kinds,
            languages=tuple(settings.chat.languages),
            reminder_offsets=tuple(settings.booking.reminder_offsets),
            phone_region=settings.booking.phone_region,
            records=contact_recorder(settings),
        ),
        texts,
        app[app_keys.CHAT],
        events,
    )
    events.subscribe(AppointmentPush(app[app_keys.SIO], booking).on_event)
    app[app_keys.SMS], app[app_keys.TEXTS], app[app_keys.BOOKING] = gateway, texts, booking
    app[app_keys.SMS_BOT] = SmsBot(booking, catalogs, settings.chat.languages)
    yield
    await texts.drain()
    if twilio is not None:
        await twilio.close()


async def _escalation_ctx(app: web.Application) -> AsyncIterator[None]:
    """Escalations: their store, the on-call SMS through the booking context's SMS backend, the webhook
    client (closed on shutdown), the /escalations sockets."""
    settings = app[app_keys.SETTINGS]
    events = app[app_keys.EVENTS]
    events.subscribe(EscalationPush(app[app_keys.SIO]).on_event)
    async with new_session(settings.escalation.webhook_timeout) as http:
        service = EscalationService(
            app[app_keys.UNIT_OF_WORK],
            app[app_keys.CHAT],
            events,
            system_clock,
            EscalationPolicy(
                config=app[app_keys.ESCALATION_CONFIG],
                retention=settings.escalation.retention,
                console_url=f"{settings.public_url.rstrip('/')}/console/",
                records=contact_recorder(settings),
            ),
            sms=app[app_keys.SMS],
            webhooks=WebhookClient(http),
        )
        app[app_keys.ESCALATIONS] = service
        app[app_keys.SIO].register_namespace(
            EscalationNamespace(
                service,
                app[app_keys.AUTH],
                cookie_name(settings.security.secure_cookies),
                app[app_keys.SESSION_WATCH],
            )
        )
        yield
        await service.close()


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        app[app_keys.INTAKE].send_waiting_updates,
        "interval",
        seconds=15,
        id="waiting-updates",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        app[app_keys.RELATIVES].sweep,
        "interval",
        seconds=presence_sweep_seconds(app[app_keys.CHAT].policy),
        id="relative-presence",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        app[app_keys.RETENTION].sweep,
        "interval",
        seconds=retention_sweep_seconds(app[app_keys.SETTINGS].chat.auto_close_after),
        id="retention",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        app[app_keys.ESCALATIONS].sweep,
        "interval",
        seconds=app[app_keys.SETTINGS].escalation.sweep_interval.total_seconds(),
        id="escalation-sweep",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        app[app_keys.TEXTS].sweep,
        "interval",
        seconds=app[app_keys.SETTINGS].booking.sweep_interval.total_seconds(),
        id="booking-texts",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)


# How long shutdown waits for the sockets to say goodbye; a client that does not read must not
# hold the process (docs/operations.md: SIGTERM ends the process within 10 s).
CLOSE_SOCKETS_TIMEOUT_S = 2.0


async def _close_sockets(app: web.Application) -> None:
    """Close every socket at shutdown so clients reconnect elsewhere at once."""
    sio = app[app_keys.SIO]
    relatives = app.get(app_keys.RELATIVES)
    if relatives is not None:
        try:
            await relatives.release_all()
        except Exception:
            log.exception("could not note the relatives as gone at shutdown")
    if sio.eio.sockets:
        try:
            async with asyncio.timeout(CLOSE_SOCKETS_TIMEOUT_S):
                await sio.eio.disconnect()
        except TimeoutError:
            log.info("sockets still closing after %.0f s; shutting down anyway", CLOSE_SOCKETS_TIMEOUT_S)
    await sio.shutdown()


def create_app(settings: Settings) -> web.Application:
    limits = settings.limits
    app = web.Application(
        client_max_size=limits.max_body_bytes,
        middlewares=[
            errors_middleware,
            body_limits(
                limits.max_body_bytes,
                limits.max_socket_payload_bytes,
                limits.body_read_timeout.total_seconds(),
            ),
        ],
    )
    app.on_response_prepare.append(security_headers(https=settings.security.secure_cookies))
    hide_server_version()
    app[app_keys.SETTINGS] = settings
    app[app_keys.CATALOGS] = Catalogs(web_dir() / "i18n")
    app[app_keys.TRUSTED_PROXIES] = parse_trusted(settings.security.trusted_proxies)
    app[app_keys.ESCALATION_CONFIG] = load_escalation_config(
        settings.resolved_path(settings.escalation.routes_file),
        emergency_number=settings.privacy.emergency_number,
    )
    app[app_keys.EVENTS] = EventBus()
    app[app_keys.METRICS] = Metrics()
    app[app_keys.EVENTS].subscribe(app[app_keys.METRICS].on_event)
    sio = _socket_server(settings)
    sio.attach(app)
    app[app_keys.SIO] = sio
    app.on_shutdown.append(_close_sockets)
    add_http_routes(app, web_dir())
    app.cleanup_ctx.append(_metrics_ctx)
    app.cleanup_ctx.append(_counters_ctx)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_session_watch_ctx)
    app.cleanup_ctx.append(_realtime_ctx)
    app.cleanup_ctx.append(_booking_ctx)
    app.cleanup_ctx.append(_escalation_ctx)
    app.cleanup_ctx.append(_scheduler_ctx)
    return app
