"""Fixtures shared by every test level. Server logs of the whole run are kept for the privacy scan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def server_factory(tmp_path: Path, artifacts_dir: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real servers with extra KINLINE_* settings; all are stopped after the test, and their
    logs are copied to test-artifacts/server-logs/ for the privacy scan."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, name: str = "server", start: bool = True) -> ServerProcess:
        server = ServerProcess(tmp_path / f"{name}-{len(started)}", env)
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
