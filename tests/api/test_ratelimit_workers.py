"""With the default (empty) ratelimit.storage_uri, rate-limit counters live in the service's own database: every
process of a deployment (gunicorn workers, machines) counts against one budget. (Nothing here imports the storage
itself, so these tests also show the per-process counting of the old memory:// default.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from alertsvc.app import create_app

SMS = {"channel": "sms", "address": "+381 64 1234567", "language": "sr-Latn",
       "area": {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}}}


def test_two_app_processes_share_the_per_address_budget(settings, clock, engine, outbox):
    # two create_app calls on one database: two processes' worth of in-memory state
    first = create_app(settings, clock=clock, engine=engine, channels={"sms": outbox, "email": outbox})
    second = create_app(settings, clock=clock, engine=engine, channels={"sms": outbox, "email": outbox})
    codes = [first.test_client().post("/api/v1/subscriptions", json=SMS).status_code for _ in range(2)]
    codes.append(second.test_client().post("/api/v1/subscriptions", json=SMS).status_code)
    assert codes == [202, 202, 202]
    for app in (first, second):
        r = app.test_client().post("/api/v1/subscriptions", json=SMS)
        assert r.status_code == 429 and r.mimetype == "application/problem+json"
        assert 0 < int(r.headers["Retry-After"]) <= 3600
    other = dict(SMS, address="+381 64 7654321")  # another address has its own budget
    assert second.test_client().post("/api/v1/subscriptions", json=other).status_code == 202


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str) -> int:
    req = urllib.request.Request(url, method="POST", data=json.dumps(SMS).encode(),
                                 headers={"Content-Type": "application/json", "Connection": "close"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _subscribe_pids(log: Path) -> list[int]:
    pids = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            if rec.get("endpoint") == "api.subscribe" and rec.get("event") == "request":
                pids.append(rec.get("pid"))
    return pids


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_limit_holds_across_gunicorn_workers(tmp_path, database, request):
    env = {**os.environ, "ALERTSVC_CHANNELS_FILE_PATH": str(tmp_path / "outbox.jsonl"),
           "ALERTSVC_RATELIMIT_SUBSCRIBE_PER_IP": "1000/hour"}  # only the per-address limit (3/hour) counts here
    if database == "sqlite":
        env["ALERTSVC_DATABASE_URL"] = f"sqlite:///{tmp_path}/served.db"  # and a generated key, shared by both
    else:
        url = request.getfixturevalue("pg_url")
        env["ALERTSVC_DATABASE_URL"] = url
        env["ALERTSVC_SECURITY_SECRET_KEY"] = "multi-worker-test-secret-0123456789-abcdefgh"
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            conn.exec_driver_sql("DELETE FROM rate_limit_counter")
        eng.dispose()
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--port", str(port),
                                 "--workers", "2", "--no-worker"], cwd=tmp_path, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(log.read_text()[-3000:])
                time.sleep(0.2)
        statuses: list[int] = []
        with ThreadPoolExecutor(8) as pool:
            # bursts of simultaneous requests until both workers have answered several of them
            while len(statuses) < 400:
                statuses += pool.map(lambda _: _post(f"{base}/api/v1/subscriptions"), range(16))
                time.sleep(0.2)  # let the log lines land
                pids = _subscribe_pids(log)
                if len(statuses) >= 32 and len(set(pids)) == 2 and min(pids.count(p) for p in set(pids)) >= 3:
                    break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert statuses.count(202) == 3, statuses  # exactly three in the hour, whichever worker answered
    assert statuses.count(429) == len(statuses) - 3
    pids = _subscribe_pids(log)
    assert len(pids) == len(statuses) and len(set(pids)) == 2, f"not both workers answered: {pids}"
