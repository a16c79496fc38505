"""A logging filter for the serve process: library loggers never print a client's data.

aiohttp logs ``Error handling request from <address>`` with the exception, whose message quotes the
offending header (a whole User-Agent); python-engineio and python-socketio log a traceback for
every packet they cannot decode, and asyncio's messages can name a transport. Records from these
libraries therefore keep only their message template with the values withheld, and the
exception's type and frames, never its message. Faults that the client caused (a request aiohttp
cannot parse, a packet that does not decode, a connection that went away) become one line at
DEBUG: visible when debugging, never an ERROR."""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

from aiohttp.http_exceptions import HttpProcessingError

LIBRARY_LOGGERS = frozenset({"aiohttp", "engineio", "socketio", "asyncio", "apscheduler"})
# APScheduler reports the exception of a scheduled job (a sweep that lost its database, whose
# message names the database's address): withheld like the others, but never taken for a fault of
# a client, so it stays an ERROR.
SERVER_SIDE_LOGGERS = frozenset({"apscheduler"})
WITHHELD = "<withheld>"
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
# Frames of the decoders that read what a client sent over Engine.IO and Socket.IO.
_DECODER_FILES = ("engineio/packet.py", "engineio/payload.py", "socketio/packet.py", "json/decoder.py")


def _client_fault(error: BaseException | None, tb: TracebackType | None) -> bool:
    if isinstance(error, HttpProcessingError | ConnectionError | TimeoutError):
        return True
    return any(frame.filename.endswith(_DECODER_FILES) for frame in traceback.extract_tb(tb))


def _frames(error: BaseException | None, tb: TracebackType | None) -> str:
    frames = "".join(traceback.format_list(traceback.extract_tb(tb)))
    return f"Traceback (message withheld):\n{frames}{type(error).__name__}"


class LibraryLogFilter(logging.Filter):
    """Installed on the root handlers; ``threshold`` is the configured level, applied again to
    records this filter moved down to DEBUG."""

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] not in LIBRARY_LOGGERS:
            return True
        template = str(record.msg).splitlines()[0] if str(record.msg) else ""
        message = _PLACEHOLDER.sub(WITHHELD, template) if record.args else template
        error, tb = (record.exc_info[1], record.exc_info[2]) if record.exc_info else (None, None)
        server_side = record.name.partition(".")[0] in SERVER_SIDE_LOGGERS
        if error is not None and not server_side and _client_fault(error, tb):
            message = f"{message} ({type(error).__name__}, caused by the client)"
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_text = None
        elif error is not None:
            record.exc_text = _frames(error, tb)
        record.msg, record.args, record.exc_info, record.stack_info = message, (), None, None
        return record.levelno >= self.threshold


def install(level: int | str) -> None:
    threshold = logging.getLevelName(level) if isinstance(level, str) else level
    for handler in logging.getLogger().handlers:
        handler.addFilter(LibraryLogFilter(int(threshold)))
