"""Throwaway PostgreSQL and Redis servers on free loopback ports, for scale-out tests."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import free_port, wait_until


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; run it as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a postgresql+asyncpg URL of a fresh cluster; removes it afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="kinline-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [_postgres_bin("initdb"), "-D", str(data), "-U", "kinline", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        _as_postgres(
            [
                _postgres_bin("postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(directory),
                "-c",
                "fsync=on",
                "-c",
                "max_connections=200",
            ]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: (
                subprocess.run(
                    [_postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
                ).returncode
                == 0
            ),
            timeout=30,
            what="PostgreSQL",
        )
        subprocess.run(
            [_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kinline", "kinline"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+asyncpg://kinline@127.0.0.1:{port}/kinline"
    finally:
        _fast_shutdown(data, server)
        server.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``url`` (made by ``postgres_server``); its URL."""
    from sqlalchemy.engine import make_url

    server = make_url(url)
    subprocess.run(
        [_postgres_bin("createdb"), "-h", str(server.host), "-p", str(server.port), "-U", "kinline", name],
        check=True,
        capture_output=True,
    )
    return server.set(database=name).render_as_string(hide_password=False)


def _fast_shutdown(data: Path, server: subprocess.Popen[bytes]) -> None:
    """SIGINT to the postmaster itself (runuser would not pass it on): PostgreSQL's fast shutdown,
    which does not wait for the clients still connected (a test may stop the database under a
    running server)."""
    try:
        os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGINT)
    except (OSError, ValueError, IndexError):
        server.terminate()


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import socket

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    return connection.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until(answers, timeout=15, what="Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=15)
