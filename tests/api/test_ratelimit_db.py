"""The database rate-limit storage (alertsvc/ratelimit.py), the default when ratelimit.storage_uri is empty.
Across app instances and gunicorn workers: test_ratelimit_workers.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from alertsvc import ratelimit
from alertsvc.ratelimit import DatabaseStorage


def test_default_storage_is_the_database(app):
    assert app.extensions["alertsvc"].settings.ratelimit.storage_uri == ""
    assert isinstance(app.extensions["alertsvc.limiter"].storage, DatabaseStorage)


def test_storage_counts_windows_atomically_and_expires_them(engine, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    storage = DatabaseStorage(f"{ratelimit.SCHEME}://", engine=engine)
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.get("k") == 5 and storage.get_expiry("k") == now[0] + 60
    assert storage.get("other") == 0
    now[0] += 61  # the window is over: the next hit starts a new one
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1 and storage.get_expiry("k") == now[0] + 60
    long_key = "LIMITER/" + "x" * 400
    assert storage.incr(long_key, 60) == 1 and storage.incr(long_key, 60) == 2 and storage.get(long_key) == 2
    storage.clear("k")
    assert storage.get("k") == 0
    storage.reset()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rate_limit_counter")).scalar_one() == 0


def test_concurrent_hits_are_counted_exactly(engine):
    storage = DatabaseStorage(f"{ratelimit.SCHEME}://", engine=engine)
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: storage.incr("concurrent", 3600), range(40)))
    assert sorted(counts) == list(range(1, 41))
