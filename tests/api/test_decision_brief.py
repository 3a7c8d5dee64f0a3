"""The decision brief: computed while an alert awaits a decision; once approved or rejected, the brief as it stood
at the decision is stored with the alert and returned as it was (a supervisor's basis can be read later), on
SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session

from alertsvc.app import create_app
from alertsvc.models import Alert
from alertsvc.services.privacy import purge_due

from ..helpers import add_subscriber, approval_body

BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def _request(api, case_id):
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": BELGRADE})
    assert r.status_code == 201, r.json
    return r.json


def _stored(rt, alert_id):
    with Session(rt.engine) as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        return alert.decision_brief


def test_pending_alert_has_a_fresh_brief_and_nothing_stored(api, rt, factories):
    alert = _request(api, factories.case())
    assert alert["brief"]["evaluation"]["met"] is True and alert["since_decision"] is None
    assert _stored(rt, alert["id"]) is None


def test_approved_alert_returns_the_brief_stored_at_the_decision(api, rt, factories, settings, clock, engine,
                                                                 outbox):
    add_subscriber(rt, "+381641000001")
    case_id = factories.case()
    pending = _request(api, case_id)
    approved = api.as_supervisor().post(f"/api/v1/alerts/{pending['id']}/approve", json=approval_body(rt))
    assert approved.status_code == 200, approved.json
    brief = approved.json["brief"]
    stored = _stored(rt, pending["id"])
    assert stored is not None and brief == stored
    assert pending["brief"] == brief  # what the supervisor read is what was stored
    assert approved.json["since_decision"] == {"case_revision": 1, "evaluation": None,
                                               "facts_changed_since_approval": []}
    assert brief["fatigue"][0]["used"] == 0 and brief["cannot_approve"][0]["username"] == "olga"

    # The territory is used again, the budget and the case change: the basis stays as it was decided.
    clock.advance(hours=1)
    second = _request(api, factories.case())
    assert api.as_supervisor2().post(f"/api/v1/alerts/{second['id']}/approve",
                                     json=approval_body(rt)).status_code == 200
    assert api.as_operator().patch(f"/api/v1/cases/{case_id}",
                                   json={"child": {"name": "Drugo Ime Koje Je Mnogo Duže Od Prvog"}}).status_code == 200
    later = create_app(settings.with_overrides({"fatigue.territory_max_alerts": 9}), clock=clock, engine=engine,
                       channels={"sms": outbox, "email": outbox})
    token = api.user("supervisor")[1]
    read = later.test_client().get(f"/api/v1/alerts/{pending['id']}", headers={"Authorization": f"Bearer {token}"})
    assert read.status_code == 200, read.json
    now = read.json["brief"]
    assert now == brief
    assert now["fatigue"][0] == brief["fatigue"][0] and now["fatigue"][0]["limit"] != 9
    assert now["case"]["revision"] == 1 and now["facts"]["child"]["name"] == "Milica Testović"
    assert now["sms_segments"] == brief["sms_segments"]
    # ... and what concerns the case since the decision is read from what was stored, not evaluated again
    since = read.json["since_decision"]
    assert since["facts_changed_since_approval"] == ["child.name"] and since["case_revision"] == 2
    assert since["evaluation"]["met"] is True
    assert _stored(rt, pending["id"]) == stored


def test_rejected_alert_keeps_the_brief_it_was_rejected_on(api, rt, factories):
    case_id = factories.case()
    pending = _request(api, case_id)
    rejected = api.as_supervisor().post(f"/api/v1/alerts/{pending['id']}/reject",
                                        json={"reason": "Parental custody dispute"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert rejected.json["brief"] == pending["brief"]
    api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"police": {"confirmed": False}})
    again = api.as_supervisor().get(f"/api/v1/alerts/{pending['id']}").json
    assert again["brief"] == pending["brief"] and again["brief"]["evaluation"]["met"] is True
    assert again["since_decision"]["evaluation"]["met"] is False


def test_purging_a_case_purges_the_facts_in_its_stored_briefs(api, rt, factories, clock):
    case_id = factories.case()
    pending = _request(api, case_id)
    assert api.as_supervisor().post(f"/api/v1/alerts/{pending['id']}/approve",
                                    json=approval_body(rt)).status_code == 200
    assert api.as_operator().post(f"/api/v1/cases/{case_id}/close", json={"outcome": "found"}).status_code == 200
    clock.advance(days=rt.settings.privacy.purge_after_days + 1)
    assert purge_due(rt) == 1
    facts = _stored(rt, pending["id"])["facts"]
    assert facts["child"] == {"age": 9, "sex": "f"} and "name" not in str(facts) and "last_seen" not in facts
