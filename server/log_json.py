"""``log.format = "json"``: one JSON object per line, for a log collector. The fields are
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, when there is one, ``exception``
(the traceback text). The privacy filter (server/log_privacy.py) runs on the handler before this
formatter, exactly as for text lines, so the same things are withheld."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
