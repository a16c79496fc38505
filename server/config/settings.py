"""One settings model: config/default.toml, then KINLINE_CONFIG, then KINLINE_* environment."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from server.config.paths import config_dir, project_root
from server.domain.durations import format_duration, parse_duration
from server.domain.hours import WEEKDAYS, parse_interval
from server.domain.statistics import records

Duration = Annotated[
    timedelta,
    BeforeValidator(lambda value: parse_duration(value) if isinstance(value, str) else value),
    PlainSerializer(format_duration, return_type=str),
]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Stockholm)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]

ENV_PREFIX = "KINLINE_"
LANGUAGE_CODES = ("sv", "en", "ar", "so", "fa", "ti")


class _Section(BaseModel):
    model_config = {"extra": "forbid"}


class HoursSettings(_Section):
    always_open: bool = False
    timezone: TimeZoneName = "Europe/Stockholm"
    weekly: dict[str, list[str]] = Field(default_factory=dict)
    closed_dates: list[str] = Field(default_factory=list)

    @field_validator("weekly")
    @classmethod
    def _check_weekly(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for interval in intervals:
                parse_interval(interval)
        return value


class ChatSettings(_Section):
    counsellor_capacity: int = Field(default=3, ge=1)
    max_text_length: int = Field(default=4000, ge=1, le=100_000)
    outcomes: list[str] = Field(
        default_factory=lambda: ["supported", "referred", "information", "no_contact", "other"]
    )
    topics: list[str] = Field(
        default_factory=lambda: ["worried_about_someone", "leaving_myself", "affected", "professional"]
    )
    languages: list[str] = Field(default_factory=lambda: list(LANGUAGE_CODES))
    token_lifetime: Duration = timedelta(days=30)
    waiting_update_every: Duration = timedelta(minutes=3)
    default_wait_estimate: Duration = timedelta(minutes=5)
    queue_push_delay: Duration = timedelta(0)
    # The counsellors' `queue` event lists the head of their queue, this many, and the total: a
    # console cannot use a thousand cards, and pushing all of them on every claim to every
    # console made each claim cost more the longer the queue (supervisors' overview lists all).
    console_queue_shown: int = Field(default=50, ge=1, le=1000)
    # A waiting conversation whose relative has had no socket connected this long closes as
    # "abandoned"; a relative back before then keeps their place.
    abandon_after: Duration = timedelta(minutes=15)
    # A waiting conversation whose relative has had no socket connected this long shows as "away"
    # in the queue (never, if it is not shorter than abandon_after).
    away_after: Duration = timedelta(seconds=60)
    # A waiting or active conversation with no message from the relative or a counsellor this long
    # closes as "inactive", so every conversation eventually falls under privacy.chat_retention.
    auto_close_after: Duration = timedelta(hours=24)

    @field_validator("abandon_after", "away_after", "auto_close_after")
    @classmethod
    def _check_presence_time(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: list[str]) -> list[str]:
        unknown = [code for code in value if code not in LANGUAGE_CODES]
        if unknown:
            raise ValueError(f"unsupported languages {unknown}; supported: {list(LANGUAGE_CODES)}")
        return value


class LimitsSettings(_Section):
    new_conversations_per_minute: int = Field(default=5, ge=0)
    slot_queries_per_minute: int = Field(default=120, ge=0)
    login_failures_before_delay: int = Field(default=3, ge=1)
    logins_per_minute: int = Field(default=20, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_socket_payload_bytes: int = Field(default=64 * 1024, ge=1024)
    # Waiting conversations one client address may hold at once; 0 means no limit.
    waiting_per_address: int = Field(default=3, ge=0)
    # Open /relative sockets per conversation, counted per server process.
    sockets_per_conversation: int = Field(default=5, ge=1)
    # A body must arrive whole within this long after its headers, else 408.
    body_read_timeout: Duration = timedelta(seconds=10)

    @field_validator("body_read_timeout")
    @classmethod
    def _body_read_timeout_positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


class SecuritySettings(_Section):
    session_idle_timeout: Duration = timedelta(minutes=30)
    session_absolute_timeout: Duration = timedelta(hours=10)
    session_check_interval: Duration = Field(
        default=timedelta(seconds=1), gt=timedelta(0), le=timedelta(seconds=5)
    )
    secure_cookies: bool = False
    allowed_origins: list[str] = Field(default_factory=list)
    data_key: str = ""
    data_key_file: str = "var/data.key"
    # Addresses or CIDRs of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed,
    # for rate-limit keys and the scheme only.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an address or CIDR: {entry!r}") from None
        return value


class AuthSettings(_Section):
    require_totp: bool = False
    totp_issuer: str = Field(default="Kinline", min_length=1, max_length=64)
    login_delay_base: Duration = timedelta(seconds=1)
    login_delay_max: Duration = timedelta(seconds=8)
    totp_lockout_after: int = Field(default=10, ge=1, le=1000)
    totp_lockout_for: Duration = timedelta(hours=1)
    setup_link_lifetime: Duration = timedelta(hours=24)

    @field_validator("login_delay_base", "login_delay_max", "totp_lockout_for", "setup_link_lifetime")
    @classmethod
    def _check_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


class PrivacySettings(_Section):
    exit_url: str = "https://www.google.com/"
    emergency_number: str = "112"
    chat_retention: Duration = timedelta(days=180)


class PageSettings(_Section):
    heading: Literal["neutral", "explicit"] = "neutral"


class SmsSettings(_Section):
    backend: Literal["outbox", "twilio"] = "outbox"
    sender_name: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    send_timeout: Duration = timedelta(seconds=15)
    max_concurrent_sends: int = Field(default=10, ge=1, le=200)
    reconcile_after: Duration = timedelta(minutes=2)
    # A send Twilio throttles (429, error 20429) was never processed: it goes again after an
    # exponential backoff (never sooner than Retry-After), up to throttle_retries times in a row.
    throttle_retries: int = Field(default=8, ge=0, le=50)
    throttle_backoff: Duration = timedelta(seconds=2)
    throttle_backoff_max: Duration = timedelta(minutes=5)


class AppointmentKindSettings(_Section):
    duration: Duration
    buffer: Duration = timedelta(0)
    min_notice: Duration = timedelta(hours=2)
    horizon: Duration = timedelta(days=28)
    seats: int = Field(default=1, ge=1, le=500)
    address: str = ""
    sessions: list[str] = Field(default_factory=list)
    weekly: list[str] = Field(default_factory=list)
    monthly: list[str] = Field(default_factory=list)
    interpreter: bool = False
    counsellor_languages: list[str] = Field(default_factory=lambda: ["sv", "en"], max_length=16)

    @field_validator("duration")
    @classmethod
    def _check_duration(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("duration must be positive")
        return value

    @model_validator(mode="after")
    def _check_schedule(self) -> AppointmentKindSettings:
        from server.domain.booking.kinds import GroupSchedule

        GroupSchedule.parse(self.sessions, self.weekly, self.monthly)
        if self.interpreter and self.seats > 1:
            raise ValueError("a kind with an interpreter is a single appointment: seats must be 1")
        if self.interpreter and not self.counsellor_languages:
            raise ValueError("a kind with an interpreter needs counsellor_languages")
        return self


def _default_kinds() -> dict[str, AppointmentKindSettings]:
    return {
        "phone": AppointmentKindSettings(duration=timedelta(minutes=45), buffer=timedelta(minutes=15)),
        "visit": AppointmentKindSettings(duration=timedelta(hours=1), buffer=timedelta(minutes=30)),
    }


class BookingSettings(_Section):
    timezone: TimeZoneName = "Europe/Stockholm"
    reminder_offsets: list[Duration] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=2)]
    )
    kinds: dict[str, AppointmentKindSettings] = Field(default_factory=_default_kinds)
    phone_region: str = "SE"
    phone_retention: Duration = timedelta(days=30)
    sweep_interval: Duration = timedelta(seconds=30)
    bookings_per_minute: int = Field(default=10, ge=0)
    max_send_attempts: int = Field(default=3, ge=1, le=10)

    @field_validator("reminder_offsets")
    @classmethod
    def _check_offsets(cls, value: list[timedelta]) -> list[timedelta]:
        if any(offset <= timedelta(0) for offset in value):
            raise ValueError("reminder offsets must be positive")
        return value

    @field_validator("kinds")
    @classmethod
    def _check_kinds(cls, value: dict[str, AppointmentKindSettings]) -> dict[str, AppointmentKindSettings]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
                raise ValueError(f"kind names are lower-case identifiers: {name!r}")
        return value


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class ScaleSettings(_Section):
    redis_url: str = ""


class ObservabilitySettings(_Section):
    # Empty: GET /metrics is not served (404). Set: served only with "Authorization: Bearer <token>".
    metrics_token: str = ""
    # An unacknowledged escalation counts as near its deadline this long before it.
    escalation_deadline_warning: Duration = timedelta(hours=1)


class EscalationSettings(_Section):
    routes_file: str = "config/escalation.toml"
    retention: Duration = timedelta(days=730)
    sweep_interval: Duration = timedelta(seconds=30)
    webhook_timeout: Duration = timedelta(seconds=10)

    @field_validator("sweep_interval", "webhook_timeout", "retention")
    @classmethod
    def _check_positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


class StatisticsSettings(_Section):
    min_cell: int = Field(default=5, ge=2, le=100)
    route: str = Field(default=records.DEFAULT_ROUTE, min_length=1, max_length=64)
    max_weeks: int = Field(default=260, ge=1, le=1000)
    perspectives: list[str] = Field(default_factory=lambda: list(records.PERSPECTIVES), min_length=1)
    default_perspective: str = records.DEFAULT_PERSPECTIVE
    topic_perspectives: dict[str, str] = Field(default_factory=lambda: dict(records.TOPIC_PERSPECTIVES))
    milieus: list[str] = Field(default_factory=lambda: list(records.MILIEUS))
    kind_channels: dict[str, records.Channel] = Field(default_factory=lambda: dict(records.KIND_CHANNELS))
    default_channel: records.Channel = records.Channel.PHONE

    @model_validator(mode="after")
    def _check_perspectives(self) -> StatisticsSettings:
        named = {*self.topic_perspectives.values(), self.default_perspective}
        strays = sorted(named - set(self.perspectives))
        if strays:
            raise ValueError(f"unknown perspectives {strays}; perspectives are {self.perspectives}")
        return self

    def rules(self) -> records.StatisticsRules:
        return records.StatisticsRules(
            perspectives=tuple(self.perspectives),
            topic_perspectives=dict(self.topic_perspectives),
            milieus=tuple(self.milieus),
            kind_channels=dict(self.kind_channels),
            default_channel=self.default_channel,
            default_perspective=self.default_perspective,
        )


class SupervisionSettings(_Section):
    # Alert when a relative has waited this long.
    wait_alert: Duration = timedelta(minutes=10)
    # Alert when a sent escalation's acknowledgement deadline is this near (or past).
    deadline_warning: Duration = timedelta(hours=1)
    # A counsellor whose console is open in another process counts as online when their session
    # was used this recently (sessions are touched about once a minute while a console is open).
    online_window: Duration = timedelta(minutes=3)
    # The live view is pushed at most this often while the line changes, and refreshed this often
    # while nothing does (alerts that come from time passing).
    push_interval: Duration = timedelta(seconds=1)
    refresh_every: Duration = timedelta(seconds=15)
    # Why a supervisor reads a conversation: ids, named in the console's catalogs; the audit log
    # keeps the id.
    read_reasons: list[str] = Field(
        default_factory=lambda: ["quality", "danger", "counsellor_asked", "complaint", "training"],
        min_length=1,
    )

    @field_validator("wait_alert", "online_window", "push_interval", "refresh_every")
    @classmethod
    def _check_positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @field_validator("read_reasons")
    @classmethod
    def _check_reasons(cls, value: list[str]) -> list[str]:
        for reason in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", reason):
                raise ValueError(f"reason ids are lower-case letters, digits and '_': {reason!r}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: str = "sqlite+aiosqlite:///var/kinline.db"
    public_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    hours: HoursSettings = Field(default_factory=HoursSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    page: PageSettings = Field(default_factory=PageSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    booking: BookingSettings = Field(default_factory=BookingSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    scale: ScaleSettings = Field(default_factory=ScaleSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    statistics: StatisticsSettings = Field(default_factory=StatisticsSettings)
    supervision: SupervisionSettings = Field(default_factory=SupervisionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [config_dir() / "default.toml"]
        extra = os.environ.get("KINLINE_CONFIG")
        if extra:
            files.append(Path(extra))
        tomls = [TomlConfigSettingsSource(settings_cls, toml_file=path) for path in reversed(files)]
        return (init_settings, env_settings, *tomls)

    def resolved_database_url(self) -> str:
        """Relative SQLite paths are taken from the project root, not the working directory."""
        match = re.match(r"^(sqlite\+aiosqlite:///)(?!/)(.+)$", self.database_url)
        if match is None:
            return self.database_url
        prefix, relative = match.groups()
        return f"{prefix}{project_root() / relative}"

    def resolved_path(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else project_root() / path


class SettingsError(Exception):
    """Start-up refused because a setting is wrong; the message names every bad key."""


def _check_json_in_environment() -> None:
    """pydantic-settings names only the section when a JSON value in the environment is malformed."""
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIX) and value.lstrip().startswith(("[", "{")):
            try:
                json.loads(value)
            except json.JSONDecodeError as error:
                key = name.removeprefix(ENV_PREFIX).lower().replace("__", ".")
                raise SettingsError(f"invalid settings:\n  {key}: not valid JSON ({error.msg})") from None


_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _reachable_url(url: str) -> bool:
    """An absolute https URL; plain http only on this machine (tests against the local fake)."""
    parts = urlsplit(url)
    if not parts.netloc or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)


def twilio_problems(settings: Settings) -> list[str]:
    """With ``sms.backend = "twilio"``: what is malformed, one "key: message" each, echoing nothing."""
    sms = settings.sms
    if sms.backend != "twilio":
        return []
    problems = []
    if not _ACCOUNT_SID.fullmatch(sms.twilio_account_sid):
        problems.append("sms.twilio_account_sid: an Account SID is AC and 32 hexadecimal digits")
    if not sms.twilio_auth_token.strip():
        problems.append("sms.twilio_auth_token: must be set (it also checks the webhook signatures)")
    if not (_E164.fullmatch(sms.twilio_from) or _MESSAGING_SERVICE_SID.fullmatch(sms.twilio_from)):
        problems.append(
            "sms.twilio_from: a number in E.164 (+46...) or a Messaging Service SID (MG and 32 "
            "hexadecimal digits)"
        )
    if not _reachable_url(sms.twilio_api_base):
        problems.append("sms.twilio_api_base: an absolute https URL (http only on 127.0.0.1 or localhost)")
    if not _reachable_url(settings.public_url):
        problems.append(
            "public_url: the absolute https URL Twilio calls the webhooks on (http only on 127.0.0.1 "
            "or localhost, for tests)"
        )
    return problems


def load_settings(**overrides: Any) -> Settings:
    _check_json_in_environment()
    extra = os.environ.get("KINLINE_CONFIG")
    if extra and not Path(extra).is_file():
        raise SettingsError(f"KINLINE_CONFIG: no such file: {extra}")
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            key = ".".join(str(part) for part in problem["loc"])
            lines.append(f"{key}: {problem['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
    except ValueError as error:
        raise SettingsError(f"invalid settings: {error}") from None
    problems = twilio_problems(settings)
    if problems:
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
    return settings
