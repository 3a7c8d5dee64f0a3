"""Shared fixtures: every database test runs on SQLite and on PostgreSQL, each on a fresh schema built by
the real Alembic migrations. PostgreSQL must be reachable: a test that needs it fails, never skips."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertsvc.clock import FixedClock
from alertsvc.db import make_engine
from alertsvc.migrate import upgrade
from alertsvc.settings import Settings

from .helpers import ApiActions, Factories

PG_ADMIN_URL = os.environ.get("ALERTSVC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASES = [d.strip() for d in os.environ.get("ALERTSVC_TEST_DATABASES", "sqlite,postgresql").split(",") if d.strip()]
NOW = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_url(worker_id: str, testrun_uid: str) -> Iterator[str]:
    """A database of its own per test run and xdist worker, migrated once; tests truncate it before they run.
    (Two suites may run at once on one server, e.g. CI of a fresh clone beside a developer's run.)"""
    name = f"alertsvc_test_{testrun_uid[:8]}_{worker_id}".lower()
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the test suite but {PG_ADMIN_URL} is unreachable: "
                    f"{str(exc).splitlines()[0]}", pytrace=False)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=10)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "alertsvc.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")]
        if tables:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: ``sqlite`` (a fresh copy of the migrated file) or ``postgresql``."""
    if request.param == "sqlite":
        path = tmp_path / "alertsvc.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    elif request.param == "postgresql":
        eng = request.getfixturevalue("pg_engine")
        _truncate_all(eng)
        yield eng
    else:
        pytest.fail(f"unknown test database {request.param!r}")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings().with_overrides({
        "database.url": engine.url.render_as_string(hide_password=False),
        "server.base_url": "http://alertsvc.test",
        "security.secret_key": "test-secret-key-0123456789-abcdefghijklmnop",
        "security.argon2_time_cost": 1,
        "security.argon2_memory_kib": 1024,
        "channels.file.path": str(tmp_path / "outbox.jsonl"),
        "channels.sms.auth_token": "twilio-test-auth-token",
    })


@pytest.fixture
def outbox():
    """A real in-memory channel standing in for SMS and email in API tests."""
    from channels.memory import MemoryChannel

    return MemoryChannel()


@pytest.fixture
def app(settings: Settings, clock: FixedClock, engine: Engine, outbox):
    from alertsvc.app import create_app

    app = create_app(settings, clock=clock, engine=engine, channels={"sms": outbox, "email": outbox})
    app.testing = True
    return app


@pytest.fixture
def rt(app):
    return app.extensions["alertsvc"]


@pytest.fixture
def api(app) -> ApiActions:
    return ApiActions(app)


@pytest.fixture
def factories(rt, api: ApiActions) -> Factories:
    return Factories(rt, api)


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver per test process, shared by every browser test: its sync API cannot be started again
    while another instance is running in the same thread (the session-scoped browser of tests/browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
