"""What the generated permission matrices share: one server for a whole module and one signed-in
account per name."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.domain.staff import Role
from tests.support.clients import Harness, Staff
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

ROUTE = "spanga-tensta"


@contextmanager
def module_server(workdir: Path, artifacts_dir: Path, env: dict[str, str]) -> Iterator[ServerProcess]:
    """A started server; its log is kept among the artifacts."""
    server = ServerProcess(workdir, env)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        logs = artifacts_dir / "server-logs"
        logs.mkdir(exist_ok=True)
        (logs / f"{workdir.name}.log").write_text(server.log())


async def sign_in_accounts(
    server: ServerProcess, harness: Harness, accounts: list[tuple[str, Role]]
) -> dict[str, Staff]:
    """Create the accounts (social services on ROUTE) and sign each in, without a socket."""

    def create(name: str, role: Role) -> None:
        extra = ("--route", ROUTE) if role is Role.SOCIAL_SERVICES else ()
        server.add_user(name, role.value, DEFAULT_PASSWORD, *extra)

    await asyncio.gather(*(asyncio.to_thread(create, name, role) for name, role in accounts))
    signed_in = await asyncio.gather(*(harness.sign_in(name, connect=False) for name, _role in accounts))
    return {name: member for (name, _role), member in zip(accounts, signed_in, strict=True)}
