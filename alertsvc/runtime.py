"""What every service needs, built once in ``create_app`` (or the CLI) and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

import criteria

from .clock import Clock, SystemClock
from .db import make_engine
from .settings import Settings



@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    profile: criteria.Profile | None = None

    def __post_init__(self) -> None:
        if self.profile is None:
            self.profile = criteria.resolve_profile(self.settings.criteria.profile)

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


def build_runtime(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> Runtime:
    engine = engine or make_engine(settings.database.url, echo=settings.database.echo,
                                   pool_size=settings.database.pool_size)
    return Runtime(settings=settings, engine=engine, clock=clock or SystemClock())
