"""Settings: one pydantic-settings object, loaded once at the edge by :func:`load_settings`.

Sources, later ones winning: ``config/tracker.toml`` shipped with the package, the file
named by ``--config`` or ``TRACKER_CONFIG``, then ``TRACKER_*`` environment variables
(nested with ``__``: ``TRACKER_SMTP__HOST``), then explicit overrides (CLI options).
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tracker import resources
from tracker.dates import parse_durations, parse_zone
from tracker.errors import ConfigError, InvalidInput

_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)


class AlertSettings(Section):
    deadline_leads: list[str] = Field(default=["90d", "30d", "7d", "1d", "0d"])
    meeting_leads: list[str] = Field(default=["14d", "1d"])
    local_hour: int = Field(default=8, ge=0, le=23)
    recurrence_horizon_days: int = Field(default=400, ge=1, le=3660)
    # Edits to one item within this many seconds of each other make one change notice,
    # recorded this long after the last of them (0: one notice per edit, at once).
    coalesce_seconds: int = Field(default=120, ge=0, le=86_400)
    # Who hears about the tracker's own data going stale (a meeting awaiting its outcome
    # for more than ``stale_outcome_days``); nobody when unset.
    operator_email: str | None = None
    stale_outcome_days: int = Field(default=3, ge=1, le=365)

    @field_validator("deadline_leads", "meeting_leads")
    @classmethod
    def _leads_are_durations(cls, value: list[str]) -> list[str]:
        try:
            parse_durations(",".join(value))
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return value


class DigestSettings(Section):
    weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    local_hour: int = Field(default=8, ge=0, le=23)
    agenda_days: int = Field(default=60, ge=1, le=366)
    send_when_empty: bool = False


class DeliverySettings(Section):
    first_retry_seconds: int = Field(default=60, ge=1)
    max_retry_seconds: int = Field(default=3600, ge=1)
    give_up_after_hours: int = Field(default=72, ge=1)
    # A claim is held this long; a worker renews it as it goes, so only a dead worker's
    # claim runs out, and any worker then gives its deliveries back to pending.
    lease_seconds: int = Field(default=120, ge=10, le=86_400)
    # Messages per second to the relay, all processes together (0: no limit), and per
    # recipient domain (the part after the @).
    max_per_second: float = Field(default=0.0, ge=0)
    max_per_second_per_domain: float = Field(default=0.0, ge=0)


class SmtpSettings(Section):
    host: str | None = None
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    # The whole exchange of one message (connecting included), however the server drips.
    deadline_seconds: float = Field(default=60.0, gt=0)
    # Whether the server announces SMTPUTF8: only then are internationalised addresses
    # (non-ASCII before or after the @) accepted as subscribers.
    smtputf8: bool = False
    sender: str = "Treaty Tracker <tracker@localhost>"
    list_unsubscribe: str | None = None


class FeedSettings(Section):
    directory: Path | None = None
    title: str = "Arms control treaty tracker"
    base_url: str = "http://127.0.0.1:8040/"
    max_entries: int = Field(default=100, ge=1, le=10_000)


class AppriseSettings(Section):
    """Chat and push services. They often hold tokens, so they are secrets, never shown."""

    # By name: the outbox addresses each alert to each service by its name.
    services: dict[str, SecretStr] = Field(default_factory=dict)
    # The older form, a list: each is named by its position, "1", "2"…
    urls: list[SecretStr] = Field(default_factory=list)

    @field_validator("services")
    @classmethod
    def _names_are_plain(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not _SERVICE_NAME.fullmatch(name) or name.isdigit():
                raise ValueError(
                    f"apprise service name {name!r}: letters, digits, '.', '_' or '-', "
                    "not only digits (those name the urls list's entries)"
                )
        return value

    def named(self) -> dict[str, SecretStr]:
        """Every service by its name: the named ones, then the list's by position."""
        by_position = {str(index): url for index, url in enumerate(self.urls, start=1)}
        return {**self.services, **by_position}


# A shorter secret could be guessed, and with it every link and form forged.
SECRET_MIN_LENGTH = 32


def _long_secret(value: SecretStr) -> SecretStr:
    if len(value.get_secret_value()) < SECRET_MIN_LENGTH:
        raise ValueError(f"a secret needs at least {SECRET_MIN_LENGTH} characters")
    return value


class PreviousSecret(Section):
    """A secret rotated out: links signed with it are still accepted until ``until``."""

    secret: SecretStr
    until: date

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        return _long_secret(value)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8040, ge=1, le=65535)
    cache_control: str = "public, max-age=300"
    # Signs the links in emails (unsubscribe, preferences, confirmation) and the forms'
    # CSRF tokens. Unset: a random one kept in <data_dir>/secret.key (every process
    # sharing a database must then share that file, or set this).
    secret: SecretStr | None = None
    previous_secrets: list[PreviousSecret] = Field(default_factory=list)

    # A sign-up not confirmed within this many hours is forgotten.
    signup_expiry_hours: int = Field(default=48, ge=1, le=24 * 30)
    # Form submissions accepted per hour, per email address and per client address.
    form_hits_per_address: int = Field(default=3, ge=1)
    form_hits_per_client: int = Field(default=20, ge=1)
    # A client must send a whole request head within this; an idle kept-alive connection
    # is closed after keepalive_seconds.
    header_timeout_seconds: float = Field(default=10, gt=0, le=300)
    keepalive_seconds: float = Field(default=5, gt=0, le=300)
    # Open connections at once; past it new ones are closed at once.
    max_connections: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Unset in production. Set (the benchmarks do), the files under it are served as
    # /static/<path> by the same server: the floor live pages are measured against.
    static_dir: Path | None = None

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is None else _long_secret(value)


_STATE_CODE = re.compile(r"[A-Z]{2}")


class TreatySettings(Section):
    # The states whose standing `treaty list`, treaty pages and the API show per treaty
    # (ISO 3166-1 alpha-2 codes, as participation is recorded).
    summary_states: list[str] = Field(default=["US", "RU"], min_length=1, max_length=12)
    # Where `treaty import-parties --wikidata QID` sends the shipped query.
    wikidata_endpoint: str = "https://query.wikidata.org/sparql"

    @field_validator("summary_states")
    @classmethod
    def _alpha_2_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not _STATE_CODE.fullmatch(code):
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code such as 'US'")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRACKER_",
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,
        defer_build=True,
    )

    data_dir: Path = Path("var")
    database_url: str | None = None
    timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    apprise: AppriseSettings = Field(default_factory=AppriseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    treaties: TreatySettings = Field(default_factory=TreatySettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            return parse_zone(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tracker.db'}"

    @property
    def feed_dir(self) -> Path:
        return self.feeds.directory or self.data_dir / "feed"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = settings_cls.model_config.get("toml_file") or []
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, files))


def default_config_file() -> Path:
    return resources.path("config") / "tracker.toml"


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings, or raise :class:`ConfigError` naming the key and the file."""
    if config_file is None and os.environ.get("TRACKER_CONFIG"):
        config_file = os.environ["TRACKER_CONFIG"]
    files = [default_config_file()]
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        files.append(path)
    for path in files:
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None

    class _FromFiles(Settings):
        model_config = SettingsConfigDict(toml_file=files)

    try:
        return _FromFiles(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        where = ", ".join(str(path) for path in files) + " or TRACKER_* environment"
        raise ConfigError(f"setting {key!r}: {error['msg']} (from {where})") from None
