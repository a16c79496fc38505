"""The library log filter of `kinline serve`: values and exception messages withheld, client
faults down to DEBUG, real faults kept at their level with their frames."""

from __future__ import annotations

import logging
import sys

from aiohttp.http_exceptions import BadHttpMessage

from server.log_privacy import LibraryLogFilter

AGENT = "KinlineCanaryAgent/9.9"


def record(
    name: str, level: int, msg: str, args: tuple[object, ...], error: BaseException | None
) -> logging.LogRecord:
    exc_info = None
    if error is not None:
        try:
            raise error
        except BaseException:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)


def formatted(entry: logging.LogRecord) -> str:
    return logging.Formatter("%(levelname)s %(name)s: %(message)s").format(entry)


def test_a_bad_request_becomes_one_redacted_debug_line() -> None:
    entry = record(
        "aiohttp.server",
        logging.ERROR,
        "Error handling request from %s",
        ("127.0.0.1",),
        BadHttpMessage(f"Invalid header value char: User-Agent: {AGENT}"),
    )
    assert LibraryLogFilter(logging.DEBUG).filter(entry)
    text = formatted(entry)
    expected = "Error handling request from <withheld> (BadHttpMessage, caused by the client)"
    assert text == f"DEBUG aiohttp.server: {expected}"
    assert not LibraryLogFilter(logging.INFO).filter(
        record(
            "aiohttp.server",
            logging.ERROR,
            "Error handling request from %s",
            ("127.0.0.1",),
            BadHttpMessage("x"),
        )
    )


def test_a_real_fault_keeps_its_level_and_frames_but_not_its_message() -> None:
    entry = record("engineio.server", logging.ERROR, "post request handler error", (), KeyError(AGENT))
    assert LibraryLogFilter(logging.INFO).filter(entry)
    text = formatted(entry)
    assert entry.levelno == logging.ERROR
    assert "KeyError" in text and __file__ in text
    assert AGENT not in text


def test_own_records_pass_untouched() -> None:
    entry = record("server.app", logging.INFO, "serving on port %d", (8080,), None)
    assert LibraryLogFilter(logging.INFO).filter(entry)
    assert formatted(entry) == "INFO server.app: serving on port 8080"
