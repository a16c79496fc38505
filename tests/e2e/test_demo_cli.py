"""`kinline demo` on a fresh home: it serves a demonstration on var/demo.db (never var/kinline.db), prints
staff accounts that can sign in, and booking shows free times in every language at once; started again, it
keeps the accounts and does not print a password twice."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.config.paths import project_root
from tests.support.clients import Api
from tests.support.server import free_port, wait_until

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
ACCOUNT_LINE = re.compile(r"^\s+(counsellor|supervisor)\s+(demo-\S+)\s+(.+)$")


def demo_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for shared in ("config", "web"):
        (home / shared).symlink_to(project_root() / shared)
    return home


class Demo:
    def __init__(self, home: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINLINE_")}
        env |= {"KINLINE_HOME": str(home), "KINLINE_LIMITS__SLOT_QUERIES_PER_MINUTE": "0"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "demo", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.accounts: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if match := ACCOUNT_LINE.match(line):
                self.accounts[match[2]] = match[3].strip()
            if "serves http://" in line:
                break

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


async def free_languages(base_url: str) -> set[str]:
    api = Api(base_url)
    try:
        start = datetime.now(UTC)
        found = set()
        for language in LANGUAGES:
            result = await api.request(
                "GET",
                f"/api/slots?kind=phone&language={language}"
                f"&from={start.isoformat().replace('+00:00', 'Z')}"
                f"&to={(start + timedelta(days=7)).isoformat().replace('+00:00', 'Z')}",
            )
            assert result.status == 200, result.body
            if result.body["slots"]:
                found.add(language)
        return found
    finally:
        await api.close()


async def signs_in(base_url: str, username: str, password: str) -> bool:
    api = Api(base_url)
    try:
        result = await api.request(
            "POST", "/api/auth/login", json={"username": username, "password": password}
        )
        return result.status == 200
    finally:
        await api.close()


def test_demo_serves_its_own_database_with_staff_and_free_times(tmp_path: Path) -> None:
    home = demo_home(tmp_path)
    demo = Demo(home)
    base_url = f"http://127.0.0.1:{demo.port}"
    try:
        assert set(demo.accounts) == {"demo-counsellor", "demo-supervisor"}
        wait_until(lambda: (home / "var" / "demo.db").exists(), what="var/demo.db")
        assert not (home / "var" / "kinline.db").exists()
        assert asyncio.run(signs_in(base_url, "demo-counsellor", demo.accounts["demo-counsellor"]))
        assert asyncio.run(free_languages(base_url)) == set(LANGUAGES)
    finally:
        demo.stop()

    again = Demo(home)
    try:
        assert set(again.accounts) == {"demo-counsellor", "demo-supervisor"}
        assert all("made earlier" in shown for shown in again.accounts.values()), again.accounts
        assert asyncio.run(
            signs_in(f"http://127.0.0.1:{again.port}", "demo-supervisor", demo.accounts["demo-supervisor"])
        )
    finally:
        again.stop()
