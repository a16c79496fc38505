"""The metrics adapter: purges and messages from the event bus, database and Redis errors from the
log records that report them, in a registry per app."""

from __future__ import annotations

import logging
import sqlite3

from server.adapters.metrics import BackendErrorLog, Metrics
from server.services.events import RetentionPurged
from server.services.operations import Snapshot


def sample(metrics: Metrics, line_start: str) -> float:
    text = metrics.render(Snapshot(waiting=0, active=0, counsellors_online=0)).decode()
    return float(next(line for line in text.splitlines() if line.startswith(line_start)).rpartition(" ")[2])


async def test_purges_are_counted_by_what_and_apps_do_not_share_a_registry() -> None:
    metrics, other = Metrics(), Metrics()
    await metrics.on_event(RetentionPurged("conversations", 3))
    await metrics.on_event(RetentionPurged("conversations", 2))
    await metrics.on_event(RetentionPurged("phone_numbers", 1))
    assert sample(metrics, 'kinline_retention_purged_total{what="conversations"}') == 5
    assert sample(metrics, 'kinline_retention_purged_total{what="phone_numbers"}') == 1
    assert sample(other, 'kinline_retention_purged_total{what="conversations"}') == 0


def test_logged_database_and_redis_errors_are_counted_and_others_are_not() -> None:
    metrics = Metrics()
    errors = BackendErrorLog(metrics)
    errors.install()
    logger = logging.getLogger("kinline.test_metrics")
    try:
        try:
            try:
                raise sqlite3.OperationalError("disk I/O error")
            except sqlite3.OperationalError as cause:
                raise RuntimeError("commit failed") from cause
        except RuntimeError:
            logger.exception("a write failed")
        try:
            raise ValueError("not a backend")
        except ValueError:
            logger.exception("something else failed")
        logging.getLogger("socketio.server").error("Cannot receive from redis... retrying in 1 secs")
    finally:
        errors.uninstall()
    assert sample(metrics, 'kinline_backend_errors_total{backend="database"}') == 1
    assert sample(metrics, 'kinline_backend_errors_total{backend="redis"}') == 1
