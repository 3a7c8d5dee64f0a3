"""Four eyes over content (issue 9, items 1-6): what a second person approved is exactly what is published.

Each test drives the API as the probe did and asserts on what the public (page, public API, CAP, messages) and
the audit chain then hold, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, col, select

from alertsvc.dispatch.scheduler import run_job
from alertsvc.dispatch.worker import Dispatcher
from alertsvc.jobs import periodic_jobs
from alertsvc.models import Alert, AlertUpdate, AuditEvent

from ..helpers import add_subscriber, approval_body

PROBLEM = "application/problem+json"
BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def _request(api, case_id, area=None):
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": area or BELGRADE})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _active(api, rt, factories, **case):
    case_id = factories.case(**case)
    alert_id = _request(api, case_id)
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert r.status_code == 200, r.json
    return case_id, alert_id


def _public_texts(api, alert_id):
    return {"page": api.client.get(f"/alerts/{alert_id}").get_data(as_text=True),
            "api": api.client.get("/api/v1/public/alerts").get_data(as_text=True),
            "cap": api.client.get(f"/cap/{alert_id}.xml").get_data(as_text=True)}


def _events(rt, action):
    with Session(rt.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


# --- 1. approved content does not change after approval ---------------------------------------------------
def test_patch_after_approval_does_not_reach_the_public_or_the_messages(api, rt, factories, outbox):
    add_subscriber(rt, "+381641000001")
    case_id, alert_id = _active(api, rt, factories)
    r = api.as_operator().patch(f"/api/v1/cases/{case_id}", json={
        "child": {"name": "Drugo Ime", "description": "Zelena jakna"}})
    assert r.status_code == 200
    for where, text in _public_texts(api, alert_id).items():
        assert "Milica Testović" in text and "Plava jakna" in text, where
        assert "Drugo Ime" not in text and "Zelena jakna" not in text, where
    alert = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json
    assert alert["facts"]["child"]["name"] == "Milica Testović"
    assert alert["since_decision"]["facts_changed_since_approval"] == ["child.description", "child.name"]
    # A text update carries the approved facts, not the edited case.
    outbox.clear()
    api.send_update(alert_id, "Viđena kod Slavije")
    Dispatcher(rt).drain()
    [update] = [m for m in outbox.sent if m.kind == "update"]
    assert "Milica" in update.text and "Drugo Ime" not in update.text


def test_changed_facts_reach_the_public_only_through_an_update_another_supervisor_approves(api, rt, factories,
                                                                                         outbox):
    add_subscriber(rt, "+381641000001")
    case_id, alert_id = _active(api, rt, factories)
    api.as_supervisor3().patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Drugo Ime"}})
    r = api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates",
                               json={"text": "Ispravljeno ime deteta", "facts": True})
    assert r.status_code == 201 and r.json["status"] == "pending_approval"
    update_id = r.json["id"]
    assert r.json["facts"]["child"]["name"] == "Drugo Ime"
    assert set(r.json["preview"]) == {"sr-Latn", "sr-Cyrl", "en"}
    assert "Drugo Ime" in r.json["preview"]["sr-Latn"]["sms"]
    assert "Milica" in _public_texts(api, alert_id)["page"]  # nothing published while it waits
    # the supervisor who made the change may not publish it
    same = api.as_supervisor3().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve",
                                     json={"reason": "Correct"})
    assert same.status_code == 403 and same.mimetype == PROBLEM and "changed the case" in same.json["detail"]
    outbox.clear()
    ok = api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve",
                                   json={"reason": "Confirmed by the police"})
    assert ok.status_code == 200 and ok.json["status"] == "sent" and ok.json["decided_by"] == "stefan"
    for where, text in _public_texts(api, alert_id).items():
        assert "Drugo Ime" in text and "Milica Testović" not in text, where
    Dispatcher(rt).drain()
    [update] = [m for m in outbox.sent if m.kind == "update"]
    assert "Drugo Ime" in update.text


def test_a_facts_update_is_refused_when_the_case_no_longer_meets_the_profile(api, rt, factories):
    case_id, alert_id = _active(api, rt, factories)
    api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"police": {"confirmed": False}})
    since = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["since_decision"]
    assert since["evaluation"]["met"] is False and since["case_revision"] == 2
    [flag] = _events(rt, "alert.criteria_no_longer_met")
    assert flag.object_id == alert_id and flag.details["case_revision"] == 2
    r = api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates", json={"text": "x", "facts": True})
    assert r.status_code == 409 and r.json["type"].endswith("criteria-not-met")
    renew = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/renew")
    assert renew.status_code == 409 and renew.json["type"].endswith("criteria-not-met")
    assert "Milica" in _public_texts(api, alert_id)["page"]  # what was approved stays until someone ends it


def test_a_facts_update_is_refused_when_the_case_changed_after_it_was_requested(api, rt, factories):
    case_id, alert_id = _active(api, rt, factories)
    api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Drugo Ime"}})
    update_id = api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates",
                                       json={"text": "Novo ime", "facts": True}).json["id"]
    api.as_operator2().patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Treće Ime"}})
    r = api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve", json={"reason": "ok ok"})
    assert r.status_code == 409 and "changed after this update" in r.json["detail"]
    assert "Milica" in _public_texts(api, alert_id)["page"]


def test_approval_pinned_to_the_revision_the_supervisor_read(api, rt, factories):
    case_id = factories.case()
    alert_id = _request(api, case_id)
    read = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["brief"]["case"]["revision"]
    api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Drugo Ime"}})
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve",
                                 json={**approval_body(rt), "case_revision": read})
    assert r.status_code == 409 and r.json["case_revision"] == read + 1
    ok = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve",
                                  json={**approval_body(rt), "case_revision": read + 1})
    assert ok.status_code == 200 and ok.json["facts"]["child"]["name"] == "Drugo Ime"
    assert ok.json["approved_revision"] == read + 1


# --- 2. whoever changed the facts since the request may not approve --------------------------------------
def test_supervisor_who_changed_the_deciding_fact_cannot_approve_alone(api, rt, factories):
    case_id = factories.case(confirmed=False)
    alert_id = _request(api, case_id)
    refused = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert refused.status_code == 409
    assert api.as_supervisor().patch(f"/api/v1/cases/{case_id}",
                                     json={"police": {"confirmed": True}}).status_code == 200
    alone = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert alone.status_code == 403 and alone.mimetype == PROBLEM
    assert "changed the case's facts" in alone.json["detail"]
    brief = api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["brief"]
    assert {"username": "sara", "why": "changed the case's facts after the alert was requested"} \
        in brief["cannot_approve"]
    ok = api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert ok.status_code == 200 and ok.json["status"] == "active"


# --- 3. every override kept; no overrider approves ---------------------------------------------------------
@pytest.fixture
def settings(settings):
    return settings.with_overrides({"fatigue.territory_max_alerts": 1})


def test_every_override_is_kept_and_no_overrider_approves(api, rt, factories, clock):
    _active(api, rt, factories)
    clock.advance(hours=1)
    alert_id = _request(api, factories.case())
    for who in ("supervisor", "supervisor2"):
        r = api.as_(who).post(f"/api/v1/alerts/{alert_id}/override", json={"reason": f"needed ({who})"})
        assert r.status_code == 200
    overrides = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["overrides"]
    assert [(o["by"], o["reason"]) for o in overrides] == [("sara", "needed (supervisor)"),
                                                           ("stefan", "needed (supervisor2)")]
    for who in ("supervisor", "supervisor2"):
        r = api.as_(who).post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
        assert r.status_code == 403 and "fatigue override" in r.json["detail"], who
    ok = api.as_supervisor3().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert ok.status_code == 200 and ok.json["status"] == "active"
    assert len(_events(rt, "alert.fatigue_override")) == 2


# --- 4. an update needs a second person ------------------------------------------------------------------
def test_an_update_is_sent_only_when_another_supervisor_approves_it(api, rt, factories, outbox):
    for i in range(3):
        add_subscriber(rt, f"+38164100000{i}")
    _, alert_id = _active(api, rt, factories)
    Dispatcher(rt).drain()
    outbox.clear()
    r = api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates", json={"text": "Viđena kod Slavije"})
    assert r.status_code == 201 and r.json["status"] == "pending_approval"
    update_id = r.json["id"]
    for lang, phrase in (("sr-Latn", "Viđena kod Slavije"), ("sr-Cyrl", "Viđena kod Slavije"),
                         ("en", "Viđena kod Slavije")):
        preview = r.json["preview"][lang]
        assert phrase in preview["sms"] and preview["sms_segments"] >= 1 and preview["email_subject"]
    Dispatcher(rt).drain()
    assert outbox.sent == []  # nothing goes out on one person's word
    assert "Viđena" not in _public_texts(api, alert_id)["cap"]
    assert api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve",
                                  json={"reason": "mine"}).status_code == 403  # operators never approve
    own = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/updates",
                                   json={"text": "Supervisor's own text"}).json["id"]
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/updates/{own}/approve", json={"reason": "mine"})
    assert r.status_code == 403 and "requested this update" in r.json["detail"]
    assert api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/updates/{own}/reject",
                                     json={"reason": "Not confirmed"}).json["status"] == "rejected"
    ok = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve",
                                  json={"reason": "Confirmed by the police"})
    assert ok.status_code == 200 and ok.json["status"] == "sent" and ok.json["deliveries"]["queued"] == 3
    again = api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve",
                                      json={"reason": "twice"})
    assert again.status_code == 409
    Dispatcher(rt).drain()
    assert Counter(m.kind for m in outbox.sent) == {"update": 3}
    assert all("Viđena kod Slavije" in m.text for m in outbox.sent)
    assert "Supervisor's own text" not in _public_texts(api, alert_id)["cap"]
    statuses = [u["status"] for u in api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["updates"]]
    assert statuses == ["sent", "rejected"]


def test_resolving_withdraws_updates_still_waiting(api, rt, factories):
    _, alert_id = _active(api, rt, factories)
    update_id = api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates", json={"text": "Čeka"}).json["id"]
    assert api.as_operator().post(f"/api/v1/alerts/{alert_id}/resolve",
                                  json={"outcome": "found"}).status_code == 200
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve", json={"reason": "late"})
    assert r.status_code == 409
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert_id}/updates/{update_id}").json["status"] == "withdrawn"


# --- 5. closing a case ends its alerts -------------------------------------------------------------------
def test_closing_a_case_resolves_its_active_alert_and_withdraws_pending_ones(api, rt, factories, outbox, clock,
                                                                            settings):
    add_subscriber(rt, "+381641000001")
    case_id, active_id = _active(api, rt, factories)
    pending_id = _request(api, case_id, {"regions": ["RS-00"]})
    Dispatcher(rt).drain()
    outbox.clear()
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/close", json={"outcome": "found"})
    assert r.status_code == 200 and r.json["status"] == "closed"
    statuses = {a["id"]: a["status"] for a in r.json["alerts"]}
    assert statuses == {active_id: "resolved", pending_id: "withdrawn"}
    Dispatcher(rt).drain()
    assert [m.kind for m in outbox.sent] == ["closing"]  # the one who was alerted hears it is over
    assert api.client.get("/api/v1/public/alerts").json == []
    for path in (f"/api/v1/alerts/{active_id}/updates", f"/api/v1/alerts/{active_id}/renew"):
        body = {"text": "x"} if path.endswith("updates") else None
        who = api.as_operator() if body else api.as_supervisor()
        assert who.post(path, json=body).status_code == 409
    assert api.as_supervisor2().post(f"/api/v1/alerts/{pending_id}/approve",
                                     json=approval_body(rt)).status_code == 409
    clock.advance(days=settings.privacy.purge_after_days, seconds=1)
    assert run_job(rt, "purge_personal_data", "w", periodic_jobs()) == 1
    texts = _public_texts(api, active_id)
    assert "HITNO" not in texts["page"] and "Milica" not in texts["page"] and "Milica" not in texts["cap"]
    with Session(rt.engine) as s:
        alert = s.get(Alert, active_id)
        assert alert.facts == {"reference": alert.facts["reference"], "child": {"age": 9, "sex": "f"}}
        assert all(u.text is None for u in s.exec(select(AlertUpdate)).all())


# --- 6. refusals and reads are audited -------------------------------------------------------------------
def test_every_refused_decision_is_audited(api, rt, factories, clock):
    case_id = factories.case()
    alert_id = _request(api, case_id)
    api.as_operator().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))  # role
    api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/override", json={"reason": "to test"})
    api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))  # overrider
    bad = approval_body(rt)
    bad["checklist"] = {}
    api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/approve", json=bad)  # checklist unanswered
    assert api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt)).status_code == 200
    lost = api.as_supervisor3().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))  # lost race
    assert lost.status_code == 409
    api.as_supervisor3().post(f"/api/v1/alerts/{alert_id}/reject", json={"reason": "too late"})
    refused = _events(rt, "alert.approval_refused")
    assert [(e.role, e.details["why"], e.details["status"]) for e in refused] == [
        ("operator", "forbidden", 403), ("supervisor", "four-eyes", 403),
        ("supervisor", "validation-failed", 422), ("supervisor", "conflict", 409)]
    assert all(e.case_id == case_id and e.object_id == alert_id for e in refused)
    assert [e.details["why"] for e in _events(rt, "alert.rejection_refused")] == ["conflict"]
    update_id = api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates", json={"text": "x y"}).json["id"]
    api.as_operator().post(f"/api/v1/alerts/{alert_id}/updates/{update_id}/approve", json={"reason": "mine"})
    [upd] = _events(rt, "alert.update_approval_refused")
    assert upd.details == {"why": "forbidden", "status": 403, "update_id": update_id}


def test_reading_personal_data_is_audited_without_the_data(api, rt, factories):
    case_id, alert_id = _active(api, rt, factories)
    before = len(_events(rt, "case.viewed"))
    assert api.as_operator2().get(f"/api/v1/cases/{case_id}").status_code == 200
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").status_code == 200
    assert api.as_admin().get("/api/v1/cases/00000000-0000-0000-0000-000000000000").status_code == 404
    views = _events(rt, "case.viewed")[before:]
    assert [(e.actor, e.role, e.case_id, e.details["view"]) for e in views] == [
        ("oskar", "operator", case_id, "case"), ("stefan", "supervisor", case_id, "alert")]
    dumped = str([(e.details, e.object_id) for e in views])
    assert "Milica" not in dumped and "Jovana" not in dumped
