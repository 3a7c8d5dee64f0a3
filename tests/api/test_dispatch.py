"""operator -> supervisor -> delivery -> update -> resolve, counted per subscriber."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from alertsvc.dispatch.scheduler import run_job, try_lease
from alertsvc.dispatch.worker import Dispatcher, claim, sweep_stuck
from alertsvc.jobs import periodic_jobs
from alertsvc.models import Delivery
from channels import PermanentFailure, TemporaryFailure

from ..helpers import add_subscriber, approval_body

BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def _active_alert(api, rt, factories, area=None):
    case_id = factories.case()
    alert = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": area or BELGRADE}).json
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert r.status_code == 200, r.json
    return alert["id"]


def test_full_run_exact_counts(api, rt, factories, outbox):
    inside = [add_subscriber(rt, f"+3816410000{i:02d}") for i in range(6)]
    inside.append(add_subscriber(rt, "mila@example.org", channel="email", language="sr-Cyrl"))
    add_subscriber(rt, "+381641999999", area={"circle": {"lat": 43.3209, "lon": 21.8958, "radius_km": 5}})  # Niš
    outbox.clear()
    alert_id = _active_alert(api, rt, factories)
    assert Dispatcher(rt).drain() == 7
    alerts_sent = [m for m in outbox.sent if m.kind == "alert"]
    assert Counter(m.address for m in alerts_sent) == Counter(
        [f"+3816410000{i:02d}" for i in range(6)] + ["mila@example.org"])
    for m in alerts_sent:
        assert m.unsubscribe_url and (m.unsubscribe_url in m.text or "STOP" in m.text), m.text
    assert len({m.unsubscribe_url for m in alerts_sent}) == 7  # each subscriber their own way out
    email = next(m for m in alerts_sent if m.channel == "email")
    assert email.subject and email.html and "НЕСТАЛО ДЕТЕ" in email.text  # the Cyrillic subscriber reads Cyrillic
    got = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["deliveries"]
    assert got["sent"] == 7 and got["queued"] == 0

    up = api.send_update(alert_id, "Viđena kod Slavije u 15h")
    assert up["status"] == "sent" and up["deliveries"]["queued"] == 7
    assert Dispatcher(rt).drain() == 7
    assert sum(m.kind == "update" for m in outbox.sent) == 7

    done = api.as_operator().post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "found"})
    assert done.status_code == 200 and done.json["status"] == "resolved"
    Dispatcher(rt).drain()
    closing = [m for m in outbox.sent if m.kind == "closing"]
    assert Counter(m.address for m in closing) == Counter(m.address for m in alerts_sent)
    assert all("Milica" not in m.text and "Plava jakna" not in m.text for m in closing)
    deliveries = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}/deliveries").json
    assert Counter((d["kind"], d["status"]) for d in deliveries) == {
        ("alert", "sent"): 7, ("update", "sent"): 7, ("closing", "sent"): 7}
    assert "+381641999999" not in {m.address for m in outbox.sent if m.kind != "confirmation"}


def test_resolve_cancels_what_is_still_queued(api, rt, factories, outbox):
    for i in range(4):
        add_subscriber(rt, f"+3816410000{i:02d}")
    alert_id = _active_alert(api, rt, factories)
    Dispatcher(rt, batch_size=1).run_once()  # one sent, three still queued
    outbox.clear()
    api.as_operator().post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "withdrawn"})
    Dispatcher(rt).drain()
    counts = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["deliveries"]
    assert counts["cancelled"] == 3 and counts["sent"] == 1
    assert [m.kind for m in outbox.sent] == ["closing"]  # only the one who got the alert hears it is over


def test_retry_only_when_safe_and_never_twice(api, rt, factories, outbox, clock):
    add_subscriber(rt, "+381641000001")
    add_subscriber(rt, "+381641000002")
    alert_id = _active_alert(api, rt, factories)
    outbox.clear()
    outbox.fail_next(1, TemporaryFailure("busy", code="http:429"))
    Dispatcher(rt).drain()
    assert len(outbox.sent) == 1  # the other is waiting for its backoff
    clock.advance(seconds=6)
    Dispatcher(rt).drain()
    assert len(outbox.sent) == 2
    outbox.fail_next(1, PermanentFailure("bad number", code="twilio:21211"))
    api.send_update(alert_id, "Nova informacija")
    Dispatcher(rt).drain()
    clock.advance(hours=1)
    Dispatcher(rt).drain()
    with Session(rt.engine) as s:
        rows = s.exec(select(Delivery).where(Delivery.kind == "update")).all()
    assert sorted(r.status for r in rows) == ["failed", "sent"]
    failed = next(r for r in rows if r.status == "failed")
    assert failed.error == "twilio:21211" and failed.attempts == 1


def test_rows_left_sending_by_a_dead_worker_are_not_resent(api, rt, factories, outbox, clock):
    add_subscriber(rt, "+381641000001")
    _active_alert(api, rt, factories)
    outbox.clear()
    assert len(claim(rt, 10)) == 1  # claimed, then the worker "dies" before sending or recording
    clock.advance(minutes=6)
    assert sweep_stuck(rt) == 1
    assert Dispatcher(rt).drain() == 0 and outbox.sent == []
    with Session(rt.engine) as s:
        row = s.exec(select(Delivery)).one()
    assert row.status == "failed" and "outcome unknown" in row.error


def test_twilio_status_callback_moves_sent_to_delivered(api, rt, factories, outbox, settings):
    add_subscriber(rt, "+381641000001")
    _active_alert(api, rt, factories)
    Dispatcher(rt).drain()
    with Session(rt.engine) as s:
        row = s.exec(select(Delivery)).one()
    token = settings.channels.sms.auth_token.get_secret_value()
    assert token, "the test settings set a Twilio auth token"
    form = {"MessageSid": row.provider_id, "MessageStatus": "delivered"}
    url = "http://alertsvc.test/webhooks/twilio/status"
    sig = RequestValidator(token).compute_signature(url, form)
    assert api.client.post("/webhooks/twilio/status", data=form, headers={"X-Twilio-Signature": sig}).status_code == 204
    late = {"MessageSid": row.provider_id, "MessageStatus": "sent"}  # out of order: never leaves a final state
    api.client.post("/webhooks/twilio/status", data=late,
                    headers={"X-Twilio-Signature": RequestValidator(token).compute_signature(url, late)})
    with Session(rt.engine) as s:
        assert s.exec(select(Delivery)).one().status == "delivered"


def test_alert_expires_and_closes(api, rt, factories, outbox, clock):
    add_subscriber(rt, "+381641000001")
    alert_id = _active_alert(api, rt, factories)
    Dispatcher(rt).drain()
    clock.advance(hours=rt.settings.alerts.expiry_hours, seconds=1)
    assert run_job(rt, "expire_alerts", "test-worker", periodic_jobs()) == 1
    from alertsvc.models import Alert

    with Session(rt.engine) as s:  # (staff tokens have expired by now too)
        assert s.get(Alert, alert_id).status == "expired"
    Dispatcher(rt).drain()
    assert [m.kind for m in outbox.sent if m.kind != "confirmation"] == ["alert", "closing"]


def test_periodic_jobs_run_once_per_deployment(rt, clock):
    assert try_lease(rt, "sweep_stuck", "worker-a", timedelta(seconds=120))
    assert not try_lease(rt, "sweep_stuck", "worker-b", timedelta(seconds=120))
    assert try_lease(rt, "sweep_stuck", "worker-a", timedelta(seconds=120))  # renewal
    clock.advance(seconds=121)
    assert try_lease(rt, "sweep_stuck", "worker-b", timedelta(seconds=120))  # a's lease lapsed
    assert run_job(rt, "sweep_stuck", "worker-a", periodic_jobs()) is None
