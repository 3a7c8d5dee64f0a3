"""The migrations build exactly the schema the models describe, and 0004 carries existing data over (and back)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from alertsvc.db import make_engine
from alertsvc.migrate import alembic_config, upgrade
from alertsvc.models import metadata

from ..conftest import DATABASES, PG_ADMIN_URL


@pytest.fixture(params=DATABASES)
def blank(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str, testrun_uid: str) -> Iterator[sa.Engine]:
    """An empty database, not migrated."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'blank.db'}")
        yield engine
        engine.dispose()
        return
    name = f"alertsvc_mig_{testrun_uid[:8]}_{worker_id}".lower()
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _downgrade(engine: sa.Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_migrated_schema_matches_the_models(blank):
    upgrade(blank)
    with blank.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []


T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_0004_carries_subscriptions_and_deliveries_over_and_back(blank):
    upgrade(blank, "0003")
    subs = sa.table("subscription", *(sa.column(c) for c in (
        "id", "channel", "address", "address_key", "language", "status", "code_attempts", "source", "created_at")))
    old = sa.table("delivery", *(sa.column(c) for c in (
        "id", "alert_id", "subscription_id", "address_key", "channel", "kind", "update_id", "status", "attempts",
        "created_at", "updated_at")))
    with blank.begin() as conn:
        conn.execute(sa.insert(subs), [
            {"id": "s-a1", "channel": "sms", "address": "+381641", "address_key": "k1", "language": "en",
             "status": "active", "code_attempts": 0, "source": "api", "created_at": T0},
            {"id": "s-a2", "channel": "sms", "address": "+381641", "address_key": "k1", "language": "en",
             "status": "active", "code_attempts": 0, "source": "api", "created_at": T0},
            {"id": "s-b", "channel": "sms", "address": "+381642", "address_key": "k2", "language": "en",
             "status": "active", "code_attempts": 0, "source": "api", "created_at": T0},
            {"id": "s-gone", "channel": "sms", "address": None, "address_key": None, "language": "en",
             "status": "unsubscribed", "code_attempts": 0, "source": "api", "created_at": T0}])
        conn.execute(sa.insert(old), [
            {"id": 1, "alert_id": "A", "subscription_id": "s-a1", "address_key": "k1", "channel": "sms",
             "kind": "alert", "update_id": 0, "status": "sent", "attempts": 1, "created_at": T0, "updated_at": T0},
            {"id": 2, "alert_id": "A", "subscription_id": "s-b", "address_key": "k2", "channel": "sms",
             "kind": "alert", "update_id": 0, "status": "queued", "attempts": 0, "created_at": T0, "updated_at": T0},
            {"id": 3, "alert_id": "A", "subscription_id": "s-gone", "address_key": None, "channel": "sms",
             "kind": "alert", "update_id": 0, "status": "queued", "attempts": 0, "created_at": T0, "updated_at": T0}])
    upgrade(blank)
    with blank.connect() as conn:
        seq = dict(conn.execute(sa.text("SELECT id, seq FROM subscription")).all())
        number = dict(conn.execute(sa.text("SELECT id, address_no FROM subscription")).all())
        rows = conn.execute(sa.text("SELECT id, subscription_seq, address_no, status FROM delivery ORDER BY id")).all()
        batch = conn.execute(sa.text("SELECT alert_id, kind, first_id, last_id, next_id, total FROM delivery_batch")
                             ).all()
    assert len(set(seq.values())) == 4 and None not in seq.values()
    assert number["s-a1"] == number["s-a2"] == min(seq["s-a1"], seq["s-a2"])  # one address, one number
    assert number["s-b"] == seq["s-b"] and number["s-gone"] is None
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, seq["s-a1"], number["s-a1"]), (2, seq["s-b"], number["s-b"]),
                                                   (3, seq["s-gone"], None)]
    assert batch == [("A", "alert", 1, 3, 2, 3)]  # the cursor starts at the first row still queued
    with blank.begin() as conn:  # new subscriptions continue the numbering
        nxt = conn.execute(sa.text("SELECT nextval('subscription_seq')")).scalar_one() \
            if blank.dialect.name == "postgresql" else max(seq.values()) + 1
        assert nxt > max(seq.values())
    _downgrade(blank, "0003")
    with blank.connect() as conn:
        back = conn.execute(sa.text("SELECT id, subscription_id, address_key FROM delivery ORDER BY id")).all()
    assert [tuple(r) for r in back] == [(1, "s-a1", "k1"), (2, "s-b", "k2"), (3, "s-gone", None)]
    upgrade(blank)  # and forward again
