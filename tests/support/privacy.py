"""What no server log may hold, and the search for it. The session-wide scan (tests/conftest.py)
looks for these in the log of every server the session started, whatever order the tests ran in;
tests/e2e/test_privacy_scan.py sends them on purpose and also scans its server's database."""

from __future__ import annotations

from collections.abc import Iterable

from tests.support.server import DEFAULT_PASSWORD

LOOPBACK = "127.0.0.1"
FORWARDED_ADDRESS = "203.0.113.77"
CANARY_AGENT = "KinlineCanaryAgent"
USER_AGENT = f"Mozilla/5.0 (X11; Linux x86_64) {CANARY_AGENT}/9.9"

CANARY_MESSAGE = "canary-message Ljungblomma 7431 min bror har förändrats"
CANARY_REPLY = "canary-reply Tranbärssaft 2219 berätta mer"
CANARY_NOTE = "canary-note Blåklocka 5590 orolig förälder"
CANARY_DANGER = "canary-danger Nattfjäril 8817 han har en kniv"
CANARY_WRONG_PASSWORD = "canary-password Vinterek 3302"
CANARY_UNKNOWN_USER = "canary-ghost-nyckelpiga"
CANARY_RESUME_CODE = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
CANARY_TEXTS = (CANARY_MESSAGE, CANARY_REPLY, CANARY_NOTE, CANARY_DANGER)

#: Secrets every test run knows; a run's own tokens and cookies are added by whoever saw them.
KNOWN_SECRETS = (DEFAULT_PASSWORD, CANARY_WRONG_PASSWORD, CANARY_RESUME_CODE)
NEVER_LOGGED = (LOOPBACK, FORWARDED_ADDRESS, USER_AGENT, CANARY_AGENT, *CANARY_TEXTS, *KNOWN_SECRETS)


def findings(sources: Iterable[tuple[str, str]], needles: Iterable[str]) -> list[str]:
    needles = [needle for needle in needles if needle]
    return [f"{name}: {needle!r}" for name, text in sources for needle in needles if needle in text]
