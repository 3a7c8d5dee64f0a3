"""With Redis configured, rate-limit counters are shared by every process of a deployment."""

from __future__ import annotations

import uuid

import pytest

from alertsvc.app import create_app

SMS = {"channel": "sms", "address": "+381 64 1234567", "language": "sr-Latn",
       "area": {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}}}


@pytest.fixture
def settings(settings):
    return settings.with_overrides({"ratelimit.storage_uri": "redis://127.0.0.1:6379/0",
                                    "ratelimit.key_prefix": f"alertsvc-test-{uuid.uuid4().hex}"})


def test_two_app_processes_share_the_per_address_budget(settings, clock, engine, outbox):
    first = create_app(settings, clock=clock, engine=engine, channels={"sms": outbox, "email": outbox})
    second = create_app(settings, clock=clock, engine=engine, channels={"sms": outbox, "email": outbox})
    codes = [first.test_client().post("/api/v1/subscriptions", json=SMS).status_code for _ in range(3)]
    assert codes == [202, 202, 202]
    r = second.test_client().post("/api/v1/subscriptions", json=SMS)
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert int(r.headers["Retry-After"]) > 0
