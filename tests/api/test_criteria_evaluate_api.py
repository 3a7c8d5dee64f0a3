"""POST /criteria/evaluate: the active profile's verdicts on the intake form's facts, nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from alertsvc.models import AuditEvent, Case, CaseEvaluation
from alertsvc.schemas import CaseFactsIn
from alertsvc.services import criteria_check

from ..helpers import case_payload

PROBLEM = "application/problem+json"
URL = "/api/v1/criteria/evaluate"


def _rows(rt) -> tuple[int, int, int]:
    with Session(rt.engine) as s:
        case, evaluation, audit = (s.exec(select(sa.func.count()).select_from(m)).one()
                                   for m in (Case, CaseEvaluation, AuditEvent))
        return case, evaluation, audit


def test_full_facts_get_the_verdicts_a_case_would_get(api, rt, clock):
    body = case_payload(clock.now())
    r = api.as_operator().post(URL, json=body)
    assert r.status_code == 200, r.json
    got = r.json
    profile = rt.active_profile
    assert (got["profile"], got["title"], got["version"]) == (profile.id, profile.title, profile.version)
    assert got["met"] is True
    assert [res["criterion"] for res in got["results"]] == [c.id for c in profile.criteria]
    assert all(set(res) == {"criterion", "verdict", "reason"} and res["verdict"] == "met" for res in got["results"])
    opened = api.as_operator().post("/api/v1/cases", json=body).json["evaluation"]
    assert opened["results"] == got["results"] and opened["met"] == got["met"]  # the same shape and verdicts


def test_evaluating_stores_nothing_and_audits_nothing(api, rt, clock):
    op = api.as_operator()  # signed in first: the sign-in is not what is counted
    before = _rows(rt)
    assert op.post(URL, json=case_payload(clock.now())).status_code == 200
    assert op.post(URL, json={"child": {"age": 4}}).status_code == 200
    assert _rows(rt) == before
    assert before[0] == 0


@pytest.mark.parametrize("body", [
    {},
    {"child": {"age": 9}},
    {"child": {"name": "Ana"}, "circumstances": {"abduction_suspected": True}},
    {"last_seen": {"lat": 44.81}, "police": {}, "reporter": {"phone": "+381 64 1234567"}},
    {"child": None, "last_seen": None},
    {"child": {"age": 9, "name": "", "description": "   "}},  # blank text is "not given"
])
def test_partial_facts_give_unknown_verdicts(api, rt, body):
    r = api.as_supervisor().post(URL, json=body)
    assert r.status_code == 200, r.json
    assert r.json["met"] is False
    verdicts = {res["criterion"]: res["verdict"] for res in r.json["results"]}
    assert set(verdicts) == {c.id for c in rt.active_profile.criteria}
    assert "unknown" in verdicts.values()
    if (body.get("child") or {}).get("age") == 9:
        assert verdicts["child_age"] == "met"


def test_facts_that_fail_a_criterion_are_not_met(api):
    r = api.as_admin().post(URL, json={"child": {"age": 40},
                                       "circumstances": {"abduction_suspected": False, "abduction_witnessed": False}})
    verdicts = {res["criterion"]: res["verdict"] for res in r.json["results"]}
    assert r.status_code == 200 and verdicts["child_age"] == "not_met" and verdicts["abduction"] == "not_met"


@pytest.mark.parametrize(("body", "field"), [
    ({"child": {"age": -1}}, "child.age"),
    ({"child": {"age": "nine"}}, "child.age"),
    ({"child": {"sex": "q"}}, "child.sex"),
    ({"last_seen": {"lat": 91}}, "last_seen.lat"),
    ({"last_seen": {"at": "yesterday"}}, "last_seen.at"),
    ({"circumstances": {"abduction_suspected": "yes"}}, "circumstances.abduction_suspected"),
    ({"reporter": {"phone": "call me"}}, "reporter.phone"),
    ({"child": {"age": 9, "eyes": "blue"}}, "child.eyes"),
    ({"pet": "dog"}, "pet"),
])
def test_bad_fields_are_422_by_field(api, body, field):
    r = api.as_operator().post(URL, json=body)
    assert r.status_code == 422 and r.mimetype == PROBLEM, r.json
    assert [e["field"] for e in r.json["errors"]] == [field]


def test_a_sighting_in_the_future_is_422_as_when_opening(api, clock):
    r = api.as_operator().post(URL, json={"last_seen": {"at": (clock.now() + timedelta(days=1)).isoformat()}})
    assert r.status_code == 422 and r.json["errors"] == [{"field": "last_seen.at", "message": "lies in the future"}]


def test_malformed_body_is_a_problem(api):
    op = api.as_operator()
    r = op.post(URL, data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.mimetype == PROBLEM
    r = op.post(URL, data="[]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.mimetype == PROBLEM
    r = op.post(URL, data="child=9", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.mimetype == PROBLEM


def test_evaluate_needs_a_staff_token(api):
    r = api.client.post(URL, json={})
    assert r.status_code == 401 and r.mimetype == PROBLEM
    for who in ("operator", "supervisor", "admin"):
        assert api.as_(who).post(URL, json={}).status_code == 200


def test_evaluate_facts_service_for_the_intake_page(rt):
    got = criteria_check.evaluate_facts(rt, CaseFactsIn.model_validate({"child": {"age": 9}}))
    assert isinstance(got, criteria_check.FactsEvaluation)
    assert got.profile == rt.active_profile.id and got.met is False and got.evaluated_at == rt.clock.now()
    assert got.results[0].criterion == "child_age" and got.results[0].verdict.value == "met"
