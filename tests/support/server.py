"""A real Kinline server as a subprocess, on a free port, with its own SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30.0
DEFAULT_PASSWORD = "correct-horse-battery-staple"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """Poll a condition until it holds; fail with ``what`` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


class ServerProcess:
    """``start()``, ``stop()`` (SIGTERM), ``kill()`` (SIGKILL) and ``restart()`` keep the same
    database, key file and port, so a restarted server continues where the last one was.
    ``instances`` holds every server of this test session, for the privacy scan at its end."""

    instances: ClassVar[list[ServerProcess]] = []

    def __init__(
        self, workdir: Path, env: dict[str, str] | None = None, separate_stdout: bool = False
    ) -> None:
        """``separate_stdout``: what the process prints (its start-up line) goes to ``stdout_path``,
        and ``log_path`` holds its standard error (the log) alone."""
        ServerProcess.instances.append(self)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.db_path = workdir / "kinline.db"
        self.log_path = workdir / "server.log"
        self.stdout_path = workdir / "stdout.log" if separate_stdout else None
        self.env = {
            **os.environ,
            "KINLINE_DATABASE_URL": f"sqlite+aiosqlite:///{self.db_path}",
            "KINLINE_SECURITY__DATA_KEY_FILE": str(workdir / "data.key"),
            "KINLINE_HOURS__ALWAYS_OPEN": "true",
            "KINLINE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE": "0",
            "KINLINE_LIMITS__LOGINS_PER_MINUTE": "0",
            "KINLINE_LIMITS__WAITING_PER_ADDRESS": "0",
            "KINLINE_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "KINLINE_LOG__LEVEL": "DEBUG",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.workdir,
            timeout=60,
            check=False,
        )

    def add_user(
        self, name: str, role: str = "counsellor", password: str = DEFAULT_PASSWORD, *extra: str
    ) -> str:
        result = self.cli("user", "add", name, "--role", role, *extra, stdin=password + "\n")
        if result.returncode != 0:
            raise RuntimeError(f"user add failed: {result.stderr}")
        return password

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        out = self.stdout_path.open("ab") if self.stdout_path is not None else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            stdout=out or log,
            stderr=log if out is not None else subprocess.STDOUT,
            env=self.env,
            cwd=self.workdir,
        )
        log.close()
        if out is not None:
            out.close()
        wait_until(self._healthy, timeout=START_TIMEOUT_SECONDS, what=f"server on {self.url}")
        return self

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_for_privacy_scan(self) -> str:
        """The log without the start-up line that prints the server's own URL (its listening address
        is configuration, not a client's); every other occurrence of an address still counts."""
        announcement = f"Kinline serves {self.url}/ "
        return "".join(
            line for line in self.log().splitlines(keepends=True) if not line.startswith(announcement)
        )
