"""Fixtures shared by every test level. At the end of the session, the log of every server it started
is scanned for personal data (tests/support/privacy.py); the logs are also kept in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.privacy import NEVER_LOGGED, findings
from tests.support.server import ServerProcess

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session", autouse=True)
def privacy_scan_of_every_server_log() -> Iterator[None]:
    """Runs after the last test, whichever it was: no log of any server of this session holds a
    client address, a user agent, a canary text or a known secret. A leak fails the session at
    teardown."""
    yield
    servers = ServerProcess.instances
    logs = ((str(server.log_path), server.log_for_privacy_scan()) for server in servers)
    leaks = findings(logs, NEVER_LOGGED)
    assert leaks == [], f"server logs hold what they must not ({len(servers)} servers scanned): {leaks}"


@pytest.fixture
def server_factory(tmp_path: Path, artifacts_dir: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real servers with extra KINLINE_* settings; all are stopped after the test, and their
    logs are copied to test-artifacts/server-logs/."""
    started: list[ServerProcess] = []

    def make(
        env: dict[str, str] | None = None,
        name: str = "server",
        start: bool = True,
        separate_stdout: bool = False,
    ) -> ServerProcess:
        server = ServerProcess(tmp_path / f"{name}-{len(started)}", env, separate_stdout)
        started.append(server)
        return server.start() if start else server

    yield make
    logs = artifacts_dir / "server-logs"
    logs.mkdir(exist_ok=True)
    for server in started:
        server.stop()
        (logs / f"{tmp_path.name}-{server.workdir.name}.log").write_text(server.log())


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return server_factory()
