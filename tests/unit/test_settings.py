"""Settings: config/default.toml, then the file named by KINLINE_CONFIG, then KINLINE_* variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from server.config.paths import config_dir
from server.config.settings import Settings, SettingsError, load_settings

Overlay = Callable[[str], Path]
DEFAULT_TOML = tomllib.loads((config_dir() / "default.toml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the defaults, whatever the environment running the tests holds."""
    for name in list(os.environ):
        if name.startswith("KINLINE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Overlay:
    """Write a TOML file and name it in KINLINE_CONFIG."""

    def write(text: str) -> Path:
        path = tmp_path / "site.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("KINLINE_CONFIG", str(path))
        return path

    return write


def settings_error(**env: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
    return str(caught.value)


class TestDefaults:
    def test_the_defaults_are_those_documented_in_default_toml(self) -> None:
        settings = load_settings()
        assert settings.database_url == DEFAULT_TOML["database_url"]
        assert settings.chat.counsellor_capacity == DEFAULT_TOML["chat"]["counsellor_capacity"]
        assert settings.chat.max_text_length == DEFAULT_TOML["chat"]["max_text_length"] == 4000
        assert settings.chat.outcomes == DEFAULT_TOML["chat"]["outcomes"]
        assert settings.chat.topics == DEFAULT_TOML["chat"]["topics"]
        assert settings.hours.always_open is DEFAULT_TOML["hours"]["always_open"] is False
        assert settings.hours.weekly == DEFAULT_TOML["hours"]["weekly"]
        assert (
            settings.limits.new_conversations_per_minute
            == DEFAULT_TOML["limits"]["new_conversations_per_minute"]
        )

    def test_the_default_database_is_sqlite_in_var(self) -> None:
        assert load_settings().database_url == "sqlite+aiosqlite:///var/kinline.db"

    @pytest.mark.parametrize(
        "section",
        list(Settings.model_fields),
    )
    def test_every_key_of_the_model_is_documented_in_default_toml(self, section: str) -> None:
        values = load_settings().model_dump()[section]
        assert section in DEFAULT_TOML, f"{section} is not in default.toml"
        if isinstance(values, dict):
            missing = set(values) - set(DEFAULT_TOML[section])
            assert not missing, f"{section}: {sorted(missing)} not in default.toml"

    def test_durations_are_read_from_their_written_form(self) -> None:
        settings = load_settings()
        assert settings.security.session_idle_timeout == timedelta(minutes=30)
        assert settings.security.session_absolute_timeout == timedelta(hours=10)


class TestLayering:
    def test_the_config_file_overrides_the_defaults_key_by_key(self, overlay: Overlay) -> None:
        overlay("[chat]\ncounsellor_capacity = 5\n\n[hours]\nalways_open = true\n")
        settings = load_settings()
        assert settings.chat.counsellor_capacity == 5
        assert settings.hours.always_open is True
        # Keys the file does not mention keep their defaults, also inside the same section.
        assert settings.chat.outcomes == DEFAULT_TOML["chat"]["outcomes"]
        assert settings.hours.weekly == DEFAULT_TOML["hours"]["weekly"]

    def test_the_environment_overrides_the_config_file(
        self, overlay: Overlay, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        overlay("[chat]\ncounsellor_capacity = 5\nmax_text_length = 2000\n")
        monkeypatch.setenv("KINLINE_CHAT__COUNSELLOR_CAPACITY", "7")
        settings = load_settings()
        assert settings.chat.counsellor_capacity == 7
        assert settings.chat.max_text_length == 2000

    def test_double_underscore_separates_nesting_levels(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KINLINE_HOURS__ALWAYS_OPEN", "true")
        monkeypatch.setenv("KINLINE_SECURITY__SESSION_IDLE_TIMEOUT", "5m")
        monkeypatch.setenv("KINLINE_DATABASE_URL", "sqlite+aiosqlite:////tmp/elsewhere.db")
        settings = load_settings()
        assert settings.hours.always_open is True
        assert settings.security.session_idle_timeout == timedelta(minutes=5)
        assert settings.database_url == "sqlite+aiosqlite:////tmp/elsewhere.db"

    def test_lists_in_the_environment_are_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KINLINE_CHAT__OUTCOMES", '["supported", "other"]')
        monkeypatch.setenv("KINLINE_CHAT__LANGUAGES", '["sv", "ar"]')
        settings = load_settings()
        assert settings.chat.outcomes == ["supported", "other"]
        assert settings.chat.languages == ["sv", "ar"]

    def test_the_environment_reaches_a_key_inside_a_table_of_the_file(
        self, overlay: Overlay, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        overlay('[hours.weekly]\nsat = ["10:00-14:00"]\n')
        monkeypatch.setenv("KINLINE_HOURS__WEEKLY__SUN", '["12:00-13:00"]')
        weekly = load_settings().hours.weekly
        assert weekly["sat"] == ["10:00-14:00"]
        assert weekly["sun"] == ["12:00-13:00"]
        assert weekly["mon"] == DEFAULT_TOML["hours"]["weekly"]["mon"]

    def test_explicit_overrides_win_over_everything(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KINLINE_PORT", "9000")
        assert load_settings(port=9100).port == 9100


class TestBadValues:
    @pytest.mark.parametrize(
        ("variable", "value", "key"),
        [
            ("KINLINE_CHAT__COUNSELLOR_CAPACITY", "0", "chat.counsellor_capacity"),
            ("KINLINE_CHAT__COUNSELLOR_CAPACITY", "many", "chat.counsellor_capacity"),
            ("KINLINE_HOURS__ALWAYS_OPEN", "sometimes", "hours.always_open"),
            ("KINLINE_SECURITY__SESSION_IDLE_TIMEOUT", "half an hour", "security.session_idle_timeout"),
            ("KINLINE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE", "-1", "limits.new_conversations_per_minute"),
            ("KINLINE_PORT", "70000", "port"),
            ("KINLINE_LOG__LEVEL", "LOUD", "log.level"),
            ("KINLINE_CHAT__AWAY_AFTER", "0s", "chat.away_after"),
            ("KINLINE_CHAT__ABANDON_AFTER", "0s", "chat.abandon_after"),
        ],
    )
    def test_a_bad_environment_value_names_its_key(self, variable: str, value: str, key: str) -> None:
        message = settings_error(**{variable: value})
        assert key in message

    def test_an_unknown_timezone_names_its_key(self) -> None:
        assert "hours.timezone" in settings_error(KINLINE_HOURS__TIMEZONE="Mars/Olympus_Mons")

    def test_a_malformed_json_list_is_a_settings_error(self) -> None:
        assert "chat" in settings_error(KINLINE_CHAT__OUTCOMES="[supported")

    def test_a_malformed_json_list_names_its_key(self) -> None:
        message = settings_error(KINLINE_CHAT__OUTCOMES="[supported")
        assert "outcomes" in message

    def test_an_unsupported_language_names_the_key(self) -> None:
        message = settings_error(KINLINE_CHAT__LANGUAGES='["sv", "xx"]')
        assert "chat.languages" in message
        assert "xx" in message

    def test_a_bad_value_in_the_config_file_names_its_key(self, overlay: Overlay) -> None:
        overlay('[hours.weekly]\nmon = ["21:00-09:00"]\n')
        with pytest.raises(SettingsError, match=r"hours\.weekly"):
            load_settings()

    def test_an_unknown_weekday_names_the_key(self, overlay: Overlay) -> None:
        overlay('[hours.weekly]\nfunday = ["09:00-10:00"]\n')
        with pytest.raises(SettingsError, match=r"hours\.weekly") as caught:
            load_settings()
        assert "funday" in str(caught.value)

    def test_the_shipped_interpreter_kind_is_held_in_swedish_or_english(self) -> None:
        kind = load_settings().booking.kinds["interpreter_call"]
        assert kind.interpreter and kind.seats == 1
        assert kind.counsellor_languages == ["sv", "en"]

    def test_an_interpreter_kind_with_seats_or_without_counsellor_languages_names_its_key(
        self, overlay: Overlay
    ) -> None:
        overlay("[booking.kinds.interpreter_call]\nseats = 4\n")
        with pytest.raises(SettingsError, match=r"booking\.kinds\.interpreter_call") as caught:
            load_settings()
        assert "seats must be 1" in str(caught.value)
        overlay("[booking.kinds.interpreter_call]\ncounsellor_languages = []\n")
        with pytest.raises(SettingsError, match=r"counsellor_languages"):
            load_settings()

    def test_an_unknown_key_in_the_config_file_names_it(self, overlay: Overlay) -> None:
        overlay("[chat]\ncounselor_capacity = 4\n")
        with pytest.raises(SettingsError, match=r"chat\.counselor_capacity"):
            load_settings()

    def test_a_missing_config_file_is_named(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        missing = tmp_path / "nowhere.toml"
        monkeypatch.setenv("KINLINE_CONFIG", str(missing))
        with pytest.raises(SettingsError, match="KINLINE_CONFIG") as caught:
            load_settings()
        assert str(missing) in str(caught.value)

    def test_every_bad_key_is_named_at_once(self) -> None:
        message = settings_error(KINLINE_CHAT__COUNSELLOR_CAPACITY="0", KINLINE_LOG__LEVEL="LOUD")
        assert "chat.counsellor_capacity" in message
        assert "log.level" in message
