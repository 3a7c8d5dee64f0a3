"""Real worker processes against the real database: kill -9 mid-send, several workers at once, and two
supervisors approving the same alert at the same moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from alertsvc.app import create_app
from alertsvc.dispatch.worker import sweep_stuck
from alertsvc.models import Delivery
from alertsvc.services.importer import import_csv

from ..helpers import ApiActions, Factories, approval_body

N = 10_000


def _subscribers(rt, n: int, tmp_path: Path) -> None:
    csv = tmp_path / "subs.csv"
    with csv.open("w") as fh:
        fh.write("channel,address,language,lat,lon,radius_km\n")
        for i in range(n):
            fh.write(f"sms,+38164{i:07d},sr-Latn,{44.75 + (i % 100) * 0.001:.4f},{20.40 + (i // 100) * 0.001:.4f},2\n")
    with csv.open() as fh:
        assert import_csv(rt, fh).imported == n


@pytest.fixture
def file_app(settings, clock, engine, tmp_path):
    """The service with its real file channel (a loopback sink every worker process appends to)."""
    app = create_app(settings, clock=clock, engine=engine)
    app.testing = True
    return app


def _worker(settings, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ALERTSVC_DATABASE_URL": settings.database.url,
           "ALERTSVC_CHANNELS_FILE_PATH": settings.channels.file.path,
           "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value(),
           "ALERTSVC_SERVER_BASE_URL": settings.server.base_url, "ALERTSVC_LOGGING_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "worker", "--no-scheduler", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _approved_alert(app, tmp_path: Path) -> str:
    rt = app.extensions["alertsvc"]
    api = ApiActions(app)
    _subscribers(rt, N, tmp_path)
    case_id = Factories(rt, api).case()
    alert = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                                   json={"area": {"circle": {"lat": 44.8, "lon": 20.45, "radius_km": 30}}}).json
    assert alert["estimated_recipients"]["total"] == N
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert r.status_code == 200 and r.json["deliveries"]["queued"] == N
    return alert["id"]


def _sent_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:  # a line cut by kill -9: not a message anyone received
            pass
    return out


def _wait_for_lines(path: Path, at_least: int, proc: subprocess.Popen[bytes], polls: int = 2400) -> None:
    """Poll (every 50 ms, about 2 minutes at most) until the outbox has ``at_least`` lines."""
    for _ in range(polls):
        if path.exists() and path.stat().st_size and path.read_text().count("\n") >= at_least:
            return
        if proc.poll() is not None:
            pytest.fail(f"worker exited early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("worker sent too little in time")


@pytest.mark.slow
def test_kill_9_mid_send_then_restart_sends_nobody_twice(file_app, settings, tmp_path):
    rt = file_app.extensions["alertsvc"]
    alert_id = _approved_alert(file_app, tmp_path)
    outbox = Path(settings.channels.file.path)
    worker = _worker(settings, "--batch-size", "200")
    _wait_for_lines(outbox, 2000, worker)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert _sent_lines(outbox) and len(_sent_lines(outbox)) < N  # it really died mid-way
    # The worker process stamped its rows with the real clock: sweep 10 minutes after that, whatever the hour.
    rt.clock.set(max(rt.clock.now(), datetime.now(UTC)) + timedelta(minutes=10))
    stuck = sweep_stuck(rt)  # what it had claimed but not recorded: never resent, failed with a reason
    again = _worker(settings, "--once")
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()[-2000:]
    alerts = [m for m in _sent_lines(outbox) if m["kind"] == "alert"]
    per_address = Counter(m["address"] for m in alerts)
    assert max(per_address.values()) == 1  # nobody got two alert messages
    with Session(rt.engine) as s:
        rows = s.exec(select(Delivery).where(Delivery.alert_id == alert_id)).all()
    by_status = Counter(r.status for r in rows)
    assert by_status["sent"] + by_status["failed"] == N and by_status["failed"] == stuck
    assert all(r.error and "outcome unknown" in r.error for r in rows if r.status == "failed")
    received = set(per_address)
    assert len(received) >= by_status["sent"]  # everyone recorded as sent got it
    missing = N - len(received)
    assert missing <= stuck  # whoever got nothing is among the failed-with-a-reason rows


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # SQLite serialises writers: one worker there
def test_several_workers_share_the_queue_without_duplicates(file_app, settings, tmp_path, engine):
    rt = file_app.extensions["alertsvc"]
    alert_id = _approved_alert(file_app, tmp_path)
    workers = [_worker(settings, "--batch-size", "100") for _ in range(3)]
    outbox = Path(settings.channels.file.path)
    for _ in range(900):  # poll every 200 ms, about 3 minutes at most
        if outbox.exists() and outbox.read_text().count("\n") >= N:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        assert w.wait(timeout=30) == 0
    per_address = Counter(m["address"] for m in _sent_lines(outbox) if m["kind"] == "alert")
    assert len(per_address) == N and max(per_address.values()) == 1
    with Session(rt.engine) as s:
        assert Counter(r.status for r in s.exec(select(Delivery).where(Delivery.alert_id == alert_id))) == {"sent": N}


def test_two_supervisors_approving_at_once_exactly_one_wins(api, rt, factories, engine):
    case_id = factories.case()
    alerts = [api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                                     json={"area": {"regions": [f"RS-0{i}"]}}).json["id"] for i in range(5)]
    sup1, sup2 = api.as_supervisor(), api.as_supervisor2()
    for alert_id in alerts:
        barrier = threading.Barrier(2)
        results: list[int] = []

        def approve(client, barrier=barrier, results=results, alert_id=alert_id):
            c = create_app_client(api.app)
            barrier.wait()
            results.append(c.post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt),
                                  headers={"Authorization": f"Bearer {client.token}"}).status_code)

        threads = [threading.Thread(target=approve, args=(c,)) for c in (sup1, sup2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 409], results
        with Session(rt.engine) as s:
            assert len(s.exec(select(Delivery).where(Delivery.alert_id == alert_id)).all()) == 0  # no subscribers


def create_app_client(app):
    return app.test_client()
