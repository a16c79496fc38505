"""Connect rate: server CPU per relative connect, against Kinline or the bare relay.

Creates ``-n`` conversations, then connects all their relatives ``--concurrency`` at a time,
disconnects them, and does it again (the second round is a reconnect: the server has seen the
tokens before). Prints connects per second and the server's CPU per connect, read from
/proc/PID/stat (user + system time of the server process), so the figure holds on a busy machine
as long as the server is not starved. Run it against both servers and read the ratio.

    .venv/bin/python bench/connect_rate.py --url http://127.0.0.1:8080 --server-pid PID -n 1500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import chat_load


def server_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(url: str, pid: int, count: int, concurrency: int, rounds: int, client: str) -> None:
    protocol = chat_load.Protocol(url, 60, client)
    created = await chat_load.bounded(64, [protocol.create_conversation for _ in range(count)])
    relatives = [relative for relative in created if isinstance(relative, chat_load.Relative)]
    for number in range(rounds):
        cpu_before, started = server_cpu_seconds(pid), time.perf_counter()
        outcomes = await chat_load.bounded(
            concurrency, [lambda r=relative: protocol.connect_relative(r) for relative in relatives]
        )
        seconds, cpu = time.perf_counter() - started, server_cpu_seconds(pid) - cpu_before
        failed = sum(isinstance(outcome, Exception) for outcome in outcomes)
        print(
            f"round {number + 1}: {len(relatives)} connects in {seconds:.2f} s = "
            f"{len(relatives) / seconds:.0f}/s, server CPU {1000 * cpu / len(relatives):.2f} ms per connect, "
            f"failed {failed}"
        )
        await chat_load.bounded(
            64, [lambda r=relative: chat_load.disconnect(r.client) for relative in relatives]
        )
        for relative in relatives:
            relative.client = None
    await protocol.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("-n", type=int, default=1500, help="relatives")
    parser.add_argument("--concurrency", type=int, default=50, help="connects in flight")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--client", choices=chat_load.CLIENTS, default="raw", help="as for chat_load.py")
    options = parser.parse_args()
    asyncio.run(
        run(options.url, options.server_pid, options.n, options.concurrency, options.rounds, options.client)
    )


if __name__ == "__main__":
    main()
