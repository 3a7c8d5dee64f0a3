from __future__ import annotations

import pytest
from sqlmodel import Session, select

from alertsvc.models import AuditEvent, Delivery, Subscription

from ..helpers import add_subscriber, approval_body

PROBLEM = "application/problem+json"
BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def _request(api, case_id, area=None):
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": area or BELGRADE})
    assert r.status_code == 201, r.json
    return r.json


def test_request_estimates_recipients_and_briefs_the_supervisor(api, rt, factories):
    add_subscriber(rt, "+381641000001")
    add_subscriber(rt, "ana@example.org", channel="email", language="en")
    add_subscriber(rt, "+381641000002", area={"regions": ["RS-00"]})
    add_subscriber(rt, "+381641000003", area={"circle": {"lat": 43.3209, "lon": 21.8958, "radius_km": 5}})  # Niš
    alert = _request(api, factories.case())
    assert alert["status"] == "pending_approval"
    assert alert["estimated_recipients"] == {"sms": 2, "email": 1, "total": 3}
    assert alert["territories"] == ["RS-00"]
    brief = alert["brief"]
    assert brief["evaluation"]["met"] is True
    assert brief["fatigue"][0]["territory"] == "RS-00"
    assert brief["fatigue"][0]["remaining"] == rt.settings.fatigue.territory_max_alerts
    assert len(brief["approval_checklist"]) == len(rt.active_profile.approval_checklist)


def test_approval_writes_one_delivery_per_recipient(api, rt, factories):
    subs = [add_subscriber(rt, f"+38164100000{i}") for i in range(5)]
    add_subscriber(rt, "+381641000001", area={"regions": ["RS-00"]})  # same number twice: one message
    alert = _request(api, factories.case())
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert r.status_code == 200, r.json
    assert r.json["status"] == "active" and r.json["expires_at"]
    assert r.json["deliveries"]["queued"] == 5
    with Session(rt.engine) as s:
        rows = s.exec(select(Delivery).where(Delivery.alert_id == alert["id"])).all()
        ids = dict(s.exec(select(Subscription.seq, Subscription.id)).all())
    assert len(rows) == 5 and len({d.address_no for d in rows}) == 5
    assert {ids[d.subscription_seq] for d in rows} == set(subs)  # the circle subscription of the doubled number wins


def test_requester_and_operators_cannot_approve(api, rt, factories):
    alert = _request(api, factories.case())
    r = api.as_operator().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert r.status_code == 403 and r.mimetype == PROBLEM
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert['id']}").json["status"] == "pending_approval"


def test_alert_for_case_outside_profile_is_not_approved(api, rt, factories):
    alert = _request(api, factories.case(abduction_suspected=False, abduction_witnessed=False))
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert r.status_code == 409 and r.mimetype == PROBLEM
    assert [u["criterion"] for u in r.json["unmet"]] == ["abduction"]
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert['id']}").json["status"] == "pending_approval"
    with Session(rt.engine) as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "alert.approval_refused")).one()
    assert refused.details["why"] == "criteria-not-met" and refused.details["unmet"] == ["abduction"]


def test_every_checklist_item_must_be_answered(api, rt, factories):
    alert = _request(api, factories.case())
    body = approval_body(rt)
    first = next(iter(body["checklist"]))
    body["checklist"][first] = False
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=body)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == f"checklist.{first}"


def test_reject_then_no_approval(api, rt, factories):
    alert = _request(api, factories.case())
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/reject", json={"reason": "Parental custody dispute"})
    assert r.status_code == 200 and r.json["status"] == "rejected"
    again = api.as_supervisor2().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert again.status_code == 409


@pytest.fixture
def settings(settings):
    return settings.with_overrides({"fatigue.territory_max_alerts": 1, "fatigue.subscriber_max_messages": 1})


def test_territory_budget_blocks_approval_and_override_needs_a_second_supervisor(api, rt, factories, clock):
    first = _request(api, factories.case())
    assert api.as_supervisor().post(f"/api/v1/alerts/{first['id']}/approve", json=approval_body(rt)).status_code == 200
    clock.advance(hours=1)
    second = _request(api, factories.case(), area={"regions": ["RS-00"]})
    assert second["brief"]["fatigue_blocked"] == ["RS-00"]
    r = api.as_supervisor().post(f"/api/v1/alerts/{second['id']}/approve", json=approval_body(rt))
    assert r.status_code == 429 and r.mimetype == PROBLEM
    assert r.json["limit"] == "territory_max_alerts" and r.json["territory"] == "RS-00"
    assert int(r.headers["Retry-After"]) == 23 * 3600
    fat = api.as_operator().get("/api/v1/fatigue").json
    assert {"territory": "RS-00", "used": 1, "limit": 1, "remaining": 0, "window_hours": 24} in fat["territories"]
    # an override by one supervisor, approval by another
    ov = api.as_supervisor().post(f"/api/v1/alerts/{second['id']}/override", json={"reason": "Second child, same town"})
    assert ov.status_code == 200 and [o["by"] for o in ov.json["overrides"]] == ["sara"]
    same = api.as_supervisor().post(f"/api/v1/alerts/{second['id']}/approve", json=approval_body(rt))
    assert same.status_code == 403
    ok = api.as_supervisor2().post(f"/api/v1/alerts/{second['id']}/approve", json=approval_body(rt))
    assert ok.status_code == 200 and ok.json["status"] == "active"


def test_subscriber_budget_suppresses_the_excess(api, rt, factories, clock):
    add_subscriber(rt, "+381641000001")
    first = _request(api, factories.case())
    api.as_supervisor().post(f"/api/v1/alerts/{first['id']}/approve", json=approval_body(rt))
    second = _request(api, factories.case(), area={"circle": {"lat": 44.82, "lon": 20.47, "radius_km": 3}})
    api.as_supervisor().post(f"/api/v1/alerts/{second['id']}/override", json={"reason": "r" * 5})
    r = api.as_supervisor2().post(f"/api/v1/alerts/{second['id']}/approve", json=approval_body(rt))
    assert r.status_code == 200 and r.json["deliveries"]["suppressed"] == 1 and r.json["deliveries"]["queued"] == 0
    with Session(rt.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "deliveries.suppressed")).one()
    assert event.details["count"] == 1
