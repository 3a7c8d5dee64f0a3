"""Dispatch on PostgreSQL: approval -> all deliveries queued for N subscribers (three approvals in a row, and
the machine's own time to write N such rows for reference), time to the first delivery handed to a channel, and
fan-out throughput with 1 and 2 worker processes to the file channel.

    .venv/bin/python bench/bench_dispatch.py [SUBSCRIBERS=1000000] [THROUGHPUT_DELIVERIES=100000]

Needs PostgreSQL at ALERTSVC_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/alertsvc_bench,
created if missing; its contents are replaced).
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from alertsvc import audit
from alertsvc.db import make_engine
from alertsvc.dispatch.worker import Dispatcher
from alertsvc.migrate import upgrade
from alertsvc.runtime import build_runtime
from alertsvc.schemas import CaseIn
from alertsvc.services import alerts, cases, staff
from alertsvc.settings import Settings
from channels.memory import MemoryChannel

APPROVALS = 3  # approvals of the same size, one after another on the same database
URL = os.environ.get("ALERTSVC_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/alertsvc_bench")
BENCH_SECRET = "bench-only-secret-key-0123456789-abcdefghij"  # PostgreSQL needs a configured key


def fresh_database() -> sa.Engine:
    admin = sa.create_engine(URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = URL.rsplit("/", 1)[1]
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    engine = make_engine(URL, pool_size=4)
    upgrade(engine)
    return engine


def load_subscribers(engine: sa.Engine, n: int, lat: float, lon: float, spread: float) -> None:
    rnd = random.Random(1)
    now = datetime.now(UTC).isoformat()
    buf = io.StringIO()
    for i in range(n):
        buf.write(f"{uuid.uuid4()}\t{i + 1}\t{i + 1}\tsms\t+38164{i:07d}\t{i:064x}\tsr-Latn\t\\N\t"
                  f"{lat + rnd.uniform(-spread, spread):.5f}\t{lon + rnd.uniform(-spread, spread):.5f}\t2\t\\N\t"
                  f"active\t0\timport\t{now}\t{now}\n")
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(
                "COPY subscription (id, seq, address_no, channel, address, address_key, language, area, lat, lon,"
                " radius_km, regions,"
                " status, code_attempts, source, created_at, confirmed_at) FROM STDIN") as copy:
            copy.write(buf.getvalue())
        conn.exec_driver_sql(f"SELECT setval('subscription_seq', {n})")
        conn.exec_driver_sql("ANALYZE subscription")


def write_floor(engine: sa.Engine, n: int) -> float:
    """What the server alone needs to write ``n`` rows (same columns and indexes as ``delivery``), rolled back:
    the machine's state at the time of the run, beside which the approval's figure can be read."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_floor (LIKE delivery INCLUDING ALL)")
    try:
        with engine.connect() as conn:
            t0 = time.perf_counter()
            conn.exec_driver_sql(
                "INSERT INTO bench_floor (alert_id, subscription_seq, address_no, channel, kind, update_id, status, "
                "attempts, created_at, updated_at) SELECT 'b7a1e0c2-7d3c-4b8e-9a51-3f0e2d1c4b5a', g, g, 'sms', "
                f"'alert', 0, 'queued', 0, now(), now() FROM generate_series(1, {int(n)}) AS g")
            conn.commit()
            return time.perf_counter() - t0
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE bench_floor")


def approved_alert(rt, area: dict) -> tuple[str, float, dict]:
    op = staff.add_user(rt, f"op{uuid.uuid4().hex[:6]}", "operator", "bench-password-1")
    sup = staff.add_user(rt, f"sup{uuid.uuid4().hex[:6]}", "supervisor", "bench-password-1")
    op_actor, sup_actor = audit.Actor(op.id, op.username, "operator"), audit.Actor(sup.id, sup.username, "supervisor")
    now = rt.clock.now()
    case_id = cases.open_case(rt, op_actor, CaseIn.model_validate({
        "child": {"name": "Bench", "age": 8, "description": "bench"},
        "last_seen": {"lat": 44.81, "lon": 20.46, "at": (now - timedelta(hours=1)).isoformat()},
        "circumstances": {"abduction_suspected": True, "imminent_danger": True},
        "police": {"confirmed": True, "reference": "B-1"}}, strict=False))
    alert_id = alerts.request_alert(rt, op_actor, case_id, area, None)
    checklist = {i.id: True for i in rt.active_profile.approval_checklist}
    t0 = time.perf_counter()
    counts = alerts.approve_alert(rt, sup_actor, alert_id, "bench", checklist)
    return alert_id, time.perf_counter() - t0, counts


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    engine = fresh_database()
    settings = Settings().with_overrides({"database.url": URL, "fatigue.subscriber_max_messages": 100,
                                          "security.secret_key": BENCH_SECRET,
                                          "fatigue.territory_max_alerts": 100,
                                          "security.argon2_memory_kib": 1024, "security.argon2_time_cost": 1})
    memory = MemoryChannel()
    rt = build_runtime(settings, engine=engine, channels={"sms": memory, "email": memory})

    load_subscribers(engine, n, 44.8, 20.45, 0.05)
    print(f"reference, this machine now: INSERT ... SELECT of {n:,} rows into a table shaped like delivery: "
          f"{write_floor(engine, n):.2f} s")
    took_all = []
    for _ in range(APPROVALS):
        _, took, counts = approved_alert(rt, {"circle": {"lat": 44.8, "lon": 20.45, "radius_km": 60}})
        took_all.append(took)
        print(f"approval -> {counts.get('queued', 0):,} deliveries queued: {took:.2f} s")
    print(f"approval -> all deliveries queued, median of {APPROVALS}: {sorted(took_all)[APPROVALS // 2]:.2f} s")
    t0 = time.perf_counter()
    dispatcher = Dispatcher(rt, batch_size=1)
    dispatcher.run_once()
    first = time.perf_counter() - t0
    assert memory.sent, "nothing was sent"
    print(f"approval committed -> first delivery handed to a channel: {first * 1000:.0f} ms "
          f"(plus up to the worker's 200 ms idle poll)")

    for workers in (1, 2):
        engine.dispose()
        engine = fresh_database()
        rt = build_runtime(settings, engine=engine, channels={"sms": memory, "email": memory})
        load_subscribers(engine, m, 44.8, 20.45, 0.05)
        approved_alert(rt, {"circle": {"lat": 44.8, "lon": 20.45, "radius_km": 60}})
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "ALERTSVC_DATABASE_URL": URL, "ALERTSVC_CHANNELS_FILE_PATH": f"{tmp}/out.jsonl",
                   "ALERTSVC_SECURITY_SECRET_KEY": BENCH_SECRET,
                   "ALERTSVC_LOGGING_LEVEL": "WARNING"}
            t0 = time.perf_counter()
            procs = [subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "worker", "--no-scheduler",
                                       "--batch-size", "1000"], env=env) for _ in range(workers)]
            with engine.connect() as conn:
                while conn.execute(sa.text("SELECT count(*) FROM delivery WHERE status IN ('queued','sending')")
                                   ).scalar():
                    time.sleep(0.1)
                    conn.rollback()
            took = time.perf_counter() - t0
            for p in procs:
                p.terminate()
                p.wait()
            lines = Path(f"{tmp}/out.jsonl").read_text().count("\n")
        print(f"fan-out with {workers} worker(s) to the file channel: {m:,} deliveries in {took:.2f} s = "
              f"{m / took:,.0f} deliveries/s ({lines:,} lines written)")
    engine.dispose()


if __name__ == "__main__":
    main()
