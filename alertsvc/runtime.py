"""What every service needs, built once in ``create_app`` (or the CLI) and passed in explicitly."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cached_property

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

import criteria
import geo
from channels import Channel, load_channel_classes
from channels.file import FileChannel

from .clock import Clock, SystemClock
from .db import make_engine
from .messages import MessageRenderer
from .settings import Settings, resolve_secret_key


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    profile: criteria.Profile | None = None
    catalogue: geo.RegionCatalogue | None = None
    channels: dict[str, Channel] | None = None

    def __post_init__(self) -> None:
        # The one place the secret key is settled (generated beside an SQLite database when empty; ConfigError
        # with PostgreSQL): create_app, every CLI command and each gunicorn worker of `serve` come through here.
        self.settings = resolve_secret_key(self.settings)
        if self.profile is None:
            self.profile = criteria.resolve_profile(self.settings.criteria.profile)
        if self.catalogue is None:
            path = self.settings.geo.regions
            self.catalogue = geo.load_catalogue(path) if path else geo.default_catalogue()
        if self.channels is None:
            self.channels = build_channels(self.settings)

    @property
    def regions(self) -> geo.RegionCatalogue:
        assert self.catalogue is not None
        return self.catalogue

    def channel(self, name: str) -> Channel:
        assert self.channels is not None
        return self.channels[name]

    @cached_property
    def renderer(self) -> MessageRenderer:
        a = self.settings.alerts
        return MessageRenderer(hotline=a.hotline, sms_max_segments=a.sms_max_segments, sms_ascii=a.sms_ascii)

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 under the secret key: stable pseudonymous keys (addresses, codes) without plaintext."""
        key = self.settings.security.secret_key.get_secret_value().encode()
        return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

    @property
    def active_profile(self) -> criteria.Profile:
        assert self.profile is not None
        return self.profile

    @cached_property
    def password_hasher(self) -> PasswordHasher:
        sec = self.settings.security
        return PasswordHasher(time_cost=sec.argon2_time_cost, memory_cost=sec.argon2_memory_kib)

    @cached_property
    def dummy_password_hash(self) -> str:
        """Verified when a username is unknown, so a wrong username costs as long as a wrong password."""
        return self.password_hasher.hash("not-a-real-password")

    @cached_property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def build_runtime(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None,
                  channels: dict[str, Channel] | None = None) -> Runtime:
    engine = engine or make_engine(settings.database.url, echo=settings.database.echo,
                                   pool_size=settings.database.pool_size)
    return Runtime(settings=settings, engine=engine, clock=clock or SystemClock(), channels=channels)


def build_channels(settings: Settings) -> dict[str, Channel]:
    """SMS and email channels from settings; the file channel stands in for each disabled transport."""
    cfg = settings.channels
    file_channel = FileChannel.from_options(cfg.file.model_dump()) if cfg.file.enabled else None
    out: dict[str, Channel] = {}
    for name, section in (("sms", cfg.sms), ("email", cfg.email)):
        if section.enabled:
            classes = load_channel_classes()  # entry points: a plugin adds a transport without touching the core
            if section.transport not in classes:
                raise ValueError(f"channels.{name}.transport: no channel {section.transport!r} "
                                 f"(installed: {', '.join(sorted(classes))})")
            options = section.model_dump(exclude={"transport"})
            if section.transport == "sms":
                options["status_callback"] = f"{settings.server.base_url}/webhooks/twilio/status"
            out[name] = classes[section.transport].from_options(options)
        elif file_channel is not None:
            out[name] = file_channel
    return out
