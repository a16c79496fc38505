"""config/escalation.toml: the shipped file is valid, and a wrong file stops start-up naming the key."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from server.config.escalation_file import RoutesFileError, load_escalation_config
from server.config.paths import config_dir
from server.domain.escalation import Kind

SHIPPED = config_dir() / "escalation.toml"
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")

Edit = Callable[[dict[str, Any]], None]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{key}" = {_toml(item)}' for key, item in value.items()) + "}"
    return str(value)


def dump(data: dict[str, Any]) -> str:
    """Enough TOML for these files: top-level tables of inline values, and arrays of tables."""
    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines.append(f"[[{key}]]")
                lines.extend(f'"{k}" = {_toml(v)}' for k, v in item.items())
        else:
            lines.append(f"[{key}]")
            lines.extend(f'"{k}" = {_toml(v)}' for k, v in value.items())
    return "\n".join(lines) + "\n"


def write_edited(tmp_path: Path, edit: Edit) -> Path:
    data = tomllib.loads(SHIPPED_TEXT)
    edit(data)
    path = tmp_path / "escalation.toml"
    path.write_text(dump(data), encoding="utf-8")
    return path


def test_the_shipped_file_has_the_two_districts_and_every_kind() -> None:
    config = load_escalation_config(SHIPPED, environ={}, emergency_number="112")
    assert set(config.routes) == {"spanga-tensta", "rinkeby-kista"}
    assert config.routes["spanga-tensta"].backup_route == "rinkeby-kista"
    assert config.routes["rinkeby-kista"].backup_route == "spanga-tensta"
    assert config.routes["spanga-tensta"].on_call_sms is not None
    assert set(config.kinds) == set(Kind)
    for route in config.routes.values():
        assert route.kinds == set(Kind) and route.ack_deadline == timedelta(hours=4)
    assert "wants_to_leave" in config.indicator_ids
    steps = config.kinds[Kind.IMMINENT_DANGER].texts["sv"].emergency_steps
    assert steps and all("{" not in step for step in steps) and "112" in steps[0]


def test_the_rewritten_file_round_trips(tmp_path: Path) -> None:
    """The test's own TOML writer keeps the shipped content as it is."""
    path = write_edited(tmp_path, lambda data: None)
    assert load_escalation_config(path, environ={}) == load_escalation_config(SHIPPED, environ={})


def _set(*keys: str, value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


def _delete(*keys: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return edit


def _flat_routes(edit: Edit) -> Edit:
    """Routes and kinds are nested tables; the writer above handles one level, so flatten them
    into dotted top-level tables first."""

    def wrapped(data: dict[str, Any]) -> None:
        edit(data)
        for section in ("routes", "kinds"):
            for name, table in data.pop(section).items():
                nested = {k: v for k, v in table.items() if isinstance(v, dict)}
                data[f'{section}."{name}"'] = {k: v for k, v in table.items() if not isinstance(v, dict)}
                for key, value in nested.items():
                    data[f'{section}."{name}".{key}'] = value

    return wrapped


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (_set("routes", "spanga-tensta", "ack_deadline", value="soon"), "routes.spanga-tensta.ack_deadline"),
        (_set("routes", "spanga-tensta", "ack_deadline", value="0s"), "routes.spanga-tensta.ack_deadline"),
        (
            _set("routes", "spanga-tensta", "backup_route", value="atlantis"),
            "routes.spanga-tensta.backup_route",
        ),
        (
            _set("routes", "spanga-tensta", "backup_route", value="spanga-tensta"),
            "routes.spanga-tensta.backup_route",
        ),
        (
            _set("routes", "rinkeby-kista", "kinds", value=["child_concern"]),
            "routes.spanga-tensta.backup_route",
        ),
        (_set("routes", "spanga-tensta", "kinds", value=["gossip"]), "routes.spanga-tensta.kinds.0"),
        (
            _set("routes", "spanga-tensta", "on_call_sms", value="0701740605"),
            "routes.spanga-tensta.on_call_sms",
        ),
        (_set("routes", "spanga-tensta", "colour", value="red"), "routes.spanga-tensta.colour"),
        (
            _set(
                "routes",
                "spanga-tensta",
                "webhook",
                value={"url": "https://x.example/h", "secret_env": "NOPE_X"},
            ),
            "routes.spanga-tensta.webhook.secret_env",
        ),
        (_delete("kinds", "sig_referral"), "kinds.sig_referral"),
        (_set("kinds", "child_concern", "age_bands", value=["0-5"]), "kinds.child_concern.age_bands"),
        (_delete("kinds", "child_concern", "text", "en"), "kinds.child_concern.text.en.title"),
        (
            _set("kinds", "imminent_danger", "text", "sv", "emergency_steps", value=[]),
            "kinds.imminent_danger.text.sv.emergency_steps",
        ),
        (_set("notifications", "sms_new", value=""), "notifications.sms_new"),
        (_set("indicators", value=[{"id": "Bad Id", "labels": {"sv": "a", "en": "b"}}]), "indicators.0.id"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, edit: Edit, key: str) -> None:
    path = write_edited(tmp_path, _flat_routes(edit))
    with pytest.raises(RoutesFileError) as caught:
        load_escalation_config(path, environ={})
    assert key in str(caught.value), str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_file_and_bad_toml_are_named(tmp_path: Path) -> None:
    with pytest.raises(RoutesFileError, match="no such file"):
        load_escalation_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[routes\n", encoding="utf-8")
    with pytest.raises(RoutesFileError, match="not valid TOML"):
        load_escalation_config(broken)


def test_a_webhook_secret_comes_from_the_environment(tmp_path: Path) -> None:
    webhook = {"url": "https://mottagning.example/kinline", "secret_env": "KINLINE_TEST_SECRET"}
    path = write_edited(tmp_path, _flat_routes(_set("routes", "rinkeby-kista", "webhook", value=webhook)))
    config = load_escalation_config(path, environ={"KINLINE_TEST_SECRET": "s3cret"})
    hook = config.routes["rinkeby-kista"].webhook
    assert hook is not None and hook.secret == b"s3cret" and "s3cret" not in repr(config)
