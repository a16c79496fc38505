"""`kinline serve` as an operator starts it: it prints the URL it serves, `KINLINE_PORT` chooses the port,
and a busy port is one line that says how to choose another, before anything touches the database."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.server import ServerProcess, free_port, wait_until


def test_a_busy_port_is_one_line_naming_how_to_choose_another(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    with socket.create_server(("127.0.0.1", server.port)):
        result = server.cli("serve", "--port", str(server.port))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {server.port} on 127.0.0.1 is already in use" in lines[0]
    assert "--port" in lines[0] and "KINLINE_PORT" in lines[0]
    assert not server.db_path.exists(), "the database was touched before the port was known to be free"


def test_kinline_port_chooses_the_port_and_the_url_is_printed(tmp_path: Path) -> None:
    port = free_port()
    env = {**ServerProcess(tmp_path).env, "KINLINE_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first_line, first_line

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_until(healthy, timeout=30, what="the server on KINLINE_PORT")
    finally:
        process.terminate()
        process.wait(timeout=15)
