"""Prometheus metrics of one app, in a registry of its own (never the library's global one, so
tests and several apps in one process do not clash).

Counters and histograms are fed as things happen: messages from the event bus, purges from the
event bus, ack and delivery latency from the socket transports (one ``observe`` each), database
and Redis errors from the log records that report them. Gauges are set at scrape time from an
OperationsService snapshot. Nothing here names a person, a conversation or an address."""

from __future__ import annotations

import logging
import sqlite3

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from server.domain.conversations import Sender
from server.domain.escalation import State as EscalationState
from server.domain.reminders import TextState
from server.services.events import Event, MessagePosted, RetentionPurged
from server.services.operations import Snapshot

__all__ = ["CONTENT_TYPE", "BackendErrorLog", "Metrics"]

# Seconds: an ack is an fsync and a few pushes; a delivery crosses Redis when several processes run.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BACKENDS = ("database", "redis")
OPEN_ESCALATION_STATES = tuple(
    state.value
    for state in EscalationState
    if state not in (EscalationState.DRAFT, EscalationState.CLOSED_WITH_FEEDBACK)
)
# What retention deletes (RetentionPurged.what), shown at 0 before the first purge.
PURGED = ("conversations", "phone_numbers", "escalations")


class Metrics:
    content_type = CONTENT_TYPE

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.conversations = Gauge(
            "kinline_conversations", "Conversations waiting or active", ["state"], registry=registry
        )
        self.counsellors_online = Gauge(
            "kinline_counsellors_online",
            "Staff consoles open in this process (sum over the processes)",
            registry=registry,
        )
        self.messages = Counter(
            "kinline_messages_posted", "Messages stored, by sender", ["sender"], registry=registry
        )
        self.ack_latency = Histogram(
            "kinline_ack_latency_seconds",
            "From receiving send_message to its ack (stored and committed)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "kinline_delivery_latency_seconds",
            "From a message's timestamp (taken before its commit) to its emit to the other side",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sms = Gauge(
            "kinline_sms_texts", "Appointment texts held, by state (outcome)", ["state"], registry=registry
        )
        self.reminder_lag = Gauge(
            "kinline_reminder_lag_seconds",
            "How long the oldest due reminder text has waited unsent (0: none is late)",
            registry=registry,
        )
        self.escalations_open = Gauge(
            "kinline_escalations_open",
            "Escalations neither draft nor closed, by state",
            ["state"],
            registry=registry,
        )
        self.escalations_near_deadline = Gauge(
            "kinline_escalations_near_deadline",
            "Escalations sent and not acknowledged whose deadline is near (not yet missed)",
            registry=registry,
        )
        self.escalations_deadline_missed = Gauge(
            "kinline_escalations_deadline_missed",
            "Escalations sent and not acknowledged whose deadline has passed",
            registry=registry,
        )
        self.purged = Counter(
            "kinline_retention_purged", "Rows deleted by retention, by what", ["what"], registry=registry
        )
        self.backend_errors = Counter(
            "kinline_backend_errors", "Database and Redis errors seen", ["backend"], registry=registry
        )
        for backend in BACKENDS:
            self.backend_errors.labels(backend)
        for sender in Sender:
            self.messages.labels(sender.value)
        for what in PURGED:
            self.purged.labels(what)

    async def on_event(self, event: Event) -> None:
        if isinstance(event, MessagePosted) and not event.repeat:
            self.messages.labels(event.message.sender.value).inc()
        elif isinstance(event, RetentionPurged):
            self.purged.labels(event.what).inc(event.count)

    def observe_ack(self, seconds: float) -> None:
        self.ack_latency.observe(seconds)

    def observe_delivery(self, seconds: float) -> None:
        self.delivery_latency.observe(seconds)

    def backend_error(self, backend: str) -> None:
        self.backend_errors.labels(backend).inc()

    def render(self, snapshot: Snapshot) -> bytes:
        """The text exposition, with the gauges set from ``snapshot``."""
        self.conversations.labels("waiting").set(snapshot.waiting)
        self.conversations.labels("active").set(snapshot.active)
        self.counsellors_online.set(snapshot.counsellors_online)
        for text_state in TextState:
            self.sms.labels(text_state.value).set(snapshot.texts_by_state.get(text_state.value, 0))
        self.reminder_lag.set(snapshot.reminder_lag.total_seconds())
        for escalation_state in OPEN_ESCALATION_STATES:
            self.escalations_open.labels(escalation_state).set(
                snapshot.escalations_open.get(escalation_state, 0)
            )
        self.escalations_near_deadline.set(snapshot.escalations_near_deadline)
        self.escalations_deadline_missed.set(snapshot.escalations_deadline_missed)
        return generate_latest(self.registry)


def _backend_of(error: BaseException | None) -> str | None:
    """ "database" or "redis" when ``error`` or an error it came from is one of theirs."""
    seen = 0
    while error is not None and seen < 10:
        module = type(error).__module__.partition(".")[0]
        if module == "redis":
            return "redis"
        if module in ("sqlalchemy", "asyncpg", "aiosqlite") or isinstance(error, sqlite3.Error):
            return "database"
        error = error.__cause__ or error.__context__
        seen += 1
    return None


class BackendErrorLog(logging.Handler):
    """Counts the database and Redis errors that Kinline and its libraries already log: a record
    at WARNING or above whose exception is one of theirs, or python-socketio's Redis manager
    reporting a lost connection. It prints nothing. Installed ahead of the other root handlers,
    so it sees each record before the privacy filter (server/log_privacy.py) strips it."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.WARNING)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        backend = _backend_of(record.exc_info[1] if record.exc_info else None)
        if backend is None and record.name.startswith("socketio") and "redis" in str(record.msg).lower():
            backend = "redis"
        if backend is not None:
            self.metrics.backend_error(backend)

    def install(self) -> None:
        logging.getLogger().handlers.insert(0, self)

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)
