"""Run one chat_load.py scenario against the bare relay and Kinline, one after the other, each on
a fresh database, so both figures come from the same minutes on the same machine.

    .venv/bin/python bench/side_by_side.py churn --json-dir /tmp/churn -- --quiet-below 40
    .venv/bin/python bench/side_by_side.py throughput --servers relay,kinline,relay,kinline

Everything after `--` goes to chat_load.py as it is (sizes, rates, --procs, --quiet-below ...);
the driver adds --url, --server-pid, the counsellor logins for Kinline (--counsellors accounts
bench-0.. made with `kinline user add`) and --json. Each server is started here, with the file
descriptor limit raised to the hard limit, and stopped (SIGINT, then SIGKILL) after its run.
Kinline runs with the settings of bench/README.md ("Start the servers"); `--relay-arg` passes
options to bare_relay.py (e.g. `--relay-arg=--queue=status`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
KINLINE = str(Path(PYTHON).with_name("kinline"))
PASSWORD = "bench-password-123"

KINLINE_ENV = {
    "KINLINE_HOURS__ALWAYS_OPEN": "true",
    "KINLINE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE": "0",
    "KINLINE_LIMITS__LOGINS_PER_MINUTE": "0",
    "KINLINE_LIMITS__WAITING_PER_ADDRESS": "0",
    "KINLINE_CHAT__COUNSELLOR_CAPACITY": "100000",
    "KINLINE_LOG__LEVEL": "WARNING",
}

# The figures printed at the end, where the scenario has them.
SUMMARY = (
    ("msg_per_s", "msg/s"),
    ("delivery_ms", "delivery p99 ms"),
    ("lost", "lost"),
    ("position_right_ms", "position p99 ms"),
    ("every_waiting_right_ms_per_claim", "worst per claim ms"),
    ("not_right_in_time", "positions late"),
    ("server_core_percent", "server CPU %"),
    ("others_core_percent", "other CPU %"),
)


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_healthy(url: str, process: subprocess.Popen[bytes], patience: float = 60.0) -> None:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode} before it answered")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url}/healthz did not answer within {patience:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def remove_database(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def relay(port: int, db: str, extra: list[str]) -> Iterator[tuple[str, int, list[str]]]:
    command = [PYTHON, str(ROOT / "bench" / "bare_relay.py"), "--port", str(port), "--db", db, *extra]
    process = subprocess.Popen(command, preexec_fn=raise_fd_limit)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process.pid, []
    finally:
        stop(process)


@contextlib.contextmanager
def kinline(port: int, db: str, counsellors: int) -> Iterator[tuple[str, int, list[str]]]:
    env = {**os.environ, **KINLINE_ENV, "KINLINE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    remove_database(db)
    subprocess.run([KINLINE, "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    for index in range(counsellors):
        subprocess.run(
            [KINLINE, "user", "add", f"bench-{index}", "--role", "counsellor"],
            input=f"{PASSWORD}\n".encode(),
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    process = subprocess.Popen(
        [KINLINE, "serve", "--port", str(port)], env=env, cwd=ROOT, preexec_fn=raise_fd_limit
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process.pid, ["--username", "bench-{i}", "--password", PASSWORD]
    finally:
        stop(process)


def summary(name: str, figures: dict[str, Any]) -> str:
    parts = []
    for key, label in SUMMARY:
        value = figures.get(key)
        if isinstance(value, dict):
            value = value.get("p99")
        elif isinstance(value, list):
            value = max(value, default=float("nan"))
        if isinstance(value, (int, float)):
            parts.append(f"{label} {value:.0f}")
    return f"{name:8} " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario")
    parser.add_argument(
        "--servers", default="relay,kinline", help="comma-separated, in order: relay, kinline"
    )
    parser.add_argument("--counsellors", type=int, default=20, help="counsellor sockets and accounts")
    parser.add_argument("--relay-port", type=int, default=8765)
    parser.add_argument("--kinline-port", type=int, default=8080)
    parser.add_argument("--relay-db", default="/tmp/bare_relay.db")
    parser.add_argument("--kinline-db", default="/tmp/kinline_bench.db")
    parser.add_argument("--relay-arg", action="append", default=[], help="an option for bare_relay.py")
    parser.add_argument("--json-dir", type=Path, help="write each run's figures here")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    load_args = argv[cut + 1 :]
    if args.json_dir:
        args.json_dir.mkdir(parents=True, exist_ok=True)
    summaries = []
    for run, name in enumerate(args.servers.split(",")):
        if name == "relay":
            server = relay(args.relay_port, args.relay_db, args.relay_arg)
        elif name == "kinline":
            server = kinline(args.kinline_port, args.kinline_db, args.counsellors)
        else:
            raise SystemExit(f"unknown server {name!r}: relay or kinline")
        out = (args.json_dir or Path("/tmp")) / f"{args.scenario}-{run}-{name}.json"
        with server as (url, pid, login):
            print(f"\n=== {name} ({url}, pid {pid})", flush=True)
            subprocess.run(
                [
                    PYTHON,
                    str(ROOT / "bench" / "chat_load.py"),
                    args.scenario,
                    "--url",
                    url,
                    "--server-pid",
                    str(pid),
                    "--counsellors",
                    str(args.counsellors),
                    "--json",
                    str(out),
                    *login,
                    *load_args,
                ],
                check=True,
                cwd=ROOT,
            )
        summaries.append(summary(name, json.loads(out.read_text())["figures"]))
    print("\n" + "\n".join(summaries))


if __name__ == "__main__":
    main()
