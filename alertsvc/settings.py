"""Typed configuration: defaults, then a TOML file, then ``ALERTSVC_<SECTION>_<KEY>`` variables.

``load_settings(path, environ)`` is the only place that reads the environment. The result is a frozen
``Settings`` passed to ``create_app`` and the CLI; nothing else looks at ``os.environ``.

A bad value raises ``ConfigError`` whose message is one line naming the key, e.g.
``config: fatigue.territory_max_alerts: Input should be greater than or equal to 1 (got '0')``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

# Keys that were ever published (the old built-in default, examples): anyone could forge tokens with them.
PUBLISHED_SECRETS = frozenset({"dev-insecure-change-me", "change-me", "changeme"})
MIN_SECRET_LENGTH = 32
SECRET_KEY_FILE = "secret_key"  # beside the SQLite database, generated when security.secret_key is empty


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=1, le=64)
    max_request_bytes: int = Field(1_048_576, ge=1024)
    trust_proxy_headers: bool = False

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if not (v.startswith("http://") or v.startswith("https://")):
            raise ValueError("must be an absolute http(s) URL")
        return v.rstrip("/")


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/alertsvc.db"
    auto_migrate: bool = True
    echo: bool = False
    pool_size: int = Field(5, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _supported(cls, v: str) -> str:
        if not (v.startswith("sqlite:") or v.startswith("postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if v.startswith("postgresql://") or v.startswith("postgres://"):
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        return v


class SecuritySettings(_Section):
    # Empty: generated and kept in a file beside the SQLite database (refused with PostgreSQL); see
    # ``resolve_secret_key``.
    secret_key: SecretStr = SecretStr("")
    token_ttl_minutes: int = Field(720, ge=1, le=60 * 24 * 30)
    password_min_length: int = Field(10, ge=8, le=256)
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_kib: int = Field(65536, ge=1024, le=4_194_304)
    login_max_failures: int = Field(10, ge=1, le=1000)
    login_lockout_minutes: int = Field(15, ge=1, le=60 * 24 * 7)
    # Console sessions: signed out after this many idle minutes (a warning comes 5 minutes before; any page or
    # "Stay signed in" extends it), and never later than token_ttl_minutes after sign-in.
    session_idle_minutes: int = Field(30, ge=6, le=60 * 24)
    # The session cookie's Secure flag. Unset: Secure unless server.base_url is http:// on a loopback host (the
    # demo on this machine), so a cookie never crosses a network in clear text.
    cookie_secure: bool | None = None

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, v: SecretStr) -> SecretStr:
        key = v.get_secret_value()
        if key == "":
            return v
        problem = secret_key_problem(key)
        if problem:
            raise ValueError(problem)
        return v


class CriteriaSettings(_Section):
    profile: str = "abduction"


class GeoSettings(_Section):
    regions: str = ""  # empty: the Serbian districts shipped with the package


class FatigueSettings(_Section):
    territory_max_alerts: int = Field(3, ge=1)
    territory_window_hours: int = Field(24, ge=1)
    subscriber_max_messages: int = Field(5, ge=1)
    subscriber_window_hours: int = Field(24, ge=1)


class SubscriptionsSettings(_Section):
    code_ttl_minutes: int = Field(30, ge=1, le=24 * 60)
    code_max_attempts: int = Field(5, ge=1, le=20)
    default_region: str = Field("RS", min_length=2, max_length=2)
    # SMS confirmations and alerts only to numbers of these countries (ISO 3166-1 alpha-2): no SMS pumping.
    sms_allowed_countries: tuple[str, ...] = ("RS",)

    @field_validator("sms_allowed_countries", mode="before")
    @classmethod
    def _split_countries(cls, v: Any) -> Any:
        if isinstance(v, str):  # from the environment: "RS,ME" (or "RS ME")
            v = [c for c in v.replace(",", " ").split() if c]
        return v

    @field_validator("sms_allowed_countries")
    @classmethod
    def _alpha2(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        codes = tuple(dict.fromkeys(c.strip().upper() for c in v))
        if not codes:
            raise ValueError("must list at least one country")
        import phonenumbers

        bad = [c for c in codes if not (len(c) == 2 and c.isascii() and c.isalpha())
               or not phonenumbers.country_code_for_region(c)]  # 0: a region with no phone numbers
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
        return codes


class AlertsSettings(_Section):
    expiry_hours: int = Field(48, ge=1)
    hotline: str = "116 000"
    sms_max_segments: int = Field(4, ge=1, le=10)
    sms_ascii: bool = False


class PrivacySettings(_Section):
    purge_after_days: int = Field(30, ge=0)


class RateLimitSettings(_Section):
    storage_uri: str = ""  # empty: counters in the service's own database (shared by every process)
    subscribe_per_ip: str = "10/hour"
    subscribe_per_address: str = "3/hour"
    token_per_ip: str = "30/minute"
    key_prefix: str = "alertsvc"


class FileChannelSettings(_Section):
    enabled: bool = True
    path: str = "var/outbox.jsonl"


class EmailChannelSettings(_Section):
    enabled: bool = False
    transport: str = "email"
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    sender: str = "alerts@example.org"
    starttls: bool = False
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout_seconds: float = Field(10.0, gt=0)
    max_per_second: float = Field(20.0, gt=0)


class SmsChannelSettings(_Section):
    enabled: bool = False
    transport: str = "sms"
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base: str = "https://api.twilio.com"
    max_per_second: float = Field(10.0, gt=0)


class ChannelsSettings(_Section):
    file: FileChannelSettings = FileChannelSettings()
    email: EmailChannelSettings = EmailChannelSettings()
    sms: SmsChannelSettings = SmsChannelSettings()


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    criteria: CriteriaSettings = CriteriaSettings()
    geo: GeoSettings = GeoSettings()
    fatigue: FatigueSettings = FatigueSettings()
    subscriptions: SubscriptionsSettings = SubscriptionsSettings()
    alerts: AlertsSettings = AlertsSettings()
    privacy: PrivacySettings = PrivacySettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    channels: ChannelsSettings = ChannelsSettings()
    logging: LoggingSettings = LoggingSettings()

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with dotted-key overrides, validated (tests and the CLI use it)."""
        data = self.model_dump(mode="python")
        _unwrap_secrets(data)
        for dotted, value in overrides.items():
            _set_dotted(data, dotted.split("."), value)
        return _validate(data)


class ConfigError(Exception):
    """A configuration problem; ``str()`` is one line naming the key."""


def _unwrap_secrets(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, SecretStr):
            data[key] = value.get_secret_value()
        elif isinstance(value, dict):
            _unwrap_secrets(value)


def _set_dotted(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"config: {'.'.join(path)}: is not a section")
    node[path[-1]] = value


def _validate(data: Mapping[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        got = err.get("input")
        hidden = isinstance(got, dict) or err["type"] == "extra_forbidden" or _is_secret(err["loc"])
        shown = "" if hidden else f" (got {got!r})"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"config: {key}: unknown key") from None
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"config: {key}: {msg}{shown}") from None


def _is_secret(loc: tuple[Any, ...]) -> bool:
    """Whether a validation error is about a SecretStr field (its value is never echoed)."""
    model: Any = Settings
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return False
        model = field.annotation
    return model is SecretStr


def secret_key_problem(key: str) -> str | None:
    """Why a non-empty secret key is refused, or None. Never includes the key."""
    how = ("set a long random value in ALERTSVC_SECURITY_SECRET_KEY "
           "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if key.strip() in PUBLISHED_SECRETS:
        return f"is a published example value (anyone could forge unsubscribe links with it); {how}"
    if len(key.strip()) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters; {how}"
    if len(set(key)) < 10:
        return f"is too repetitive (fewer than 10 different characters); {how}"
    return None


def secret_key_path(database_url: str) -> Path | None:
    """Where the generated key of an SQLite deployment lives: beside the database file (``var/secret_key`` for
    the embedded default). None for an in-memory database, whose key lives only as long as it does."""
    from sqlalchemy.engine import make_url

    database = make_url(database_url).database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database).parent / SECRET_KEY_FILE


def _read_key_file(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    problem = secret_key_problem(key)
    if problem:
        raise ConfigError(f"config: security.secret_key: the key in {path} {problem}, or delete the file to "
                          f"have a new one generated (unsubscribe links already sent stop working)")
    return key


def _generated_key(path: Path) -> str:
    """Read the key file, or create it (mode 0600) with a new random key. Safe when several processes start at
    once: the key is written to a private temporary file first, then linked into place (link never replaces)."""
    import secrets

    if path.exists():
        return _read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process got there first: use its key
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key_file(path)


def resolve_secret_key(settings: Settings) -> Settings:
    """The settings with the secret key every process of this deployment uses (called once, where the
    ``Runtime`` is built: ``create_app``, every CLI command and the gunicorn workers of ``serve``).

    A configured key is used as it is (``load_settings`` has already refused published and short ones). An empty
    key is an error with PostgreSQL (several machines must share one key); with SQLite (one machine) a random key
    is generated on first start into ``secret_key`` beside the database, mode 0600, and reused on every start."""
    if settings.security.secret_key.get_secret_value():
        return settings
    if not settings.database.url.startswith("sqlite"):
        raise ConfigError("config: security.secret_key: is empty; with PostgreSQL every machine must share one "
                          "key: set security.secret_key or ALERTSVC_SECURITY_SECRET_KEY "
                          "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
    import secrets

    path = secret_key_path(settings.database.url)
    try:
        key = secrets.token_urlsafe(48) if path is None else _generated_key(path)
    except OSError as exc:
        raise ConfigError(f"config: security.secret_key: is empty and the generated key file {path} cannot be "
                          f"used ({exc.strerror or exc}); set ALERTSVC_SECURITY_SECRET_KEY") from None
    return settings.with_overrides({"security.secret_key": key})


def _section_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Every leaf key as its ``SECTION_KEY`` environment suffix -> dotted path."""
    out: dict[str, tuple[str, ...]] = {}
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_section_paths(ann, prefix + (name,)))
        else:
            out["_".join(prefix + (name,)).upper()] = prefix + (name,)
    return out


ENV_KEYS = _section_paths(Settings)


def load_settings(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file (``path`` or ``ALERTSVC_CONFIG``), then ``ALERTSVC_*`` overrides."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = path or environ.get("ALERTSVC_CONFIG") or None
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config: file not found: {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {p}: invalid TOML: {exc}") from None
    for name, value in environ.items():
        if not name.startswith("ALERTSVC_") or name == "ALERTSVC_CONFIG":
            continue
        suffix = name[len("ALERTSVC_"):]
        if suffix.startswith(("TEST_", "BENCH_")):  # the test suite's and the benches' own variables
            continue
        dotted = ENV_KEYS.get(suffix)
        if dotted is None:
            raise ConfigError(f"config: {name}: unknown setting")
        _set_dotted(data, list(dotted), value)
    return _validate(data)
