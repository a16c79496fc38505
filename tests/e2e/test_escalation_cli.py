"""The command line: social services users are bound to a route of the routes file, and a wrong
routes file stops the server at start, naming the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from server.config.paths import config_dir
from tests.e2e.escalation_helpers import query
from tests.support.server import DEFAULT_PASSWORD, ServerProcess


def test_route_binding_through_the_cli(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(start=False)

    def add(*args: str) -> tuple[int, str]:
        result = server.cli("user", "add", *args, stdin=DEFAULT_PASSWORD + "\n")
        return result.returncode, result.stdout + result.stderr

    code, output = add("lina", "--role", "social_services", "--route", "spanga-tensta")
    assert code == 0, output
    code, output = add("nils", "--role", "social_services", "--route", "atlantis")
    assert code != 0 and "atlantis" in output and "rinkeby-kista, spanga-tensta" in output
    code, output = add("nora", "--role", "social_services")
    assert code != 0 and "--route" in output
    code, output = add("carl", "--role", "counsellor", "--route", "spanga-tensta")
    assert code != 0 and "only for social_services" in output
    assert query(server, "SELECT username, role, route FROM staff_users") == [
        ("lina", "social_services", "spanga-tensta")
    ]


def test_a_wrong_routes_file_stops_the_start_and_names_the_key(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    broken = tmp_path / "routes.toml"
    text = (config_dir() / "escalation.toml").read_text(encoding="utf-8")
    broken.write_text(
        text.replace('backup_route = "rinkeby-kista"', 'backup_route = "atlantis"', 1), encoding="utf-8"
    )
    server = server_factory(env={"KINLINE_ESCALATION__ROUTES_FILE": str(broken)}, start=False)
    with pytest.raises(RuntimeError) as refused:
        server.start()
    assert "routes.spanga-tensta.backup_route: no route 'atlantis'" in str(refused.value)
    result = server.cli(
        "user",
        "add",
        "lina",
        "--role",
        "social_services",
        "--route",
        "spanga-tensta",
        stdin=DEFAULT_PASSWORD + "\n",
    )
    assert result.returncode != 0
    assert "routes.spanga-tensta.backup_route" in result.stderr
