from __future__ import annotations

from sqlmodel import Session, select

from alertsvc.models import CaseEvaluation

from ..helpers import case_payload

PROBLEM = "application/problem+json"


def test_open_case_is_evaluated_against_the_active_profile(api, rt, clock):
    r = api.as_operator().post("/api/v1/cases", json=case_payload(clock.now()))
    assert r.status_code == 201, r.json
    case = r.json
    assert r.headers["Location"] == f"/api/v1/cases/{case['id']}"
    assert case["reference"] == "RS-2026-000001" and case["status"] == "open"
    ev = case["evaluation"]
    assert ev["profile"] == "abduction" and ev["version"] == rt.active_profile.version
    assert ev["met"] is True
    assert [res["criterion"] for res in ev["results"]] == [c.id for c in rt.active_profile.criteria]
    assert all(res["verdict"] == "met" and res["reason"] for res in ev["results"])


def test_references_count_up(api, clock):
    op = api.as_operator()
    refs = [op.post("/api/v1/cases", json=case_payload(clock.now())).json["reference"] for _ in range(3)]
    assert refs == ["RS-2026-000001", "RS-2026-000002", "RS-2026-000003"]


def test_case_without_abduction_does_not_meet_abduction_profile(api, clock):
    body = case_payload(clock.now(), abduction_suspected=False, abduction_witnessed=False)
    ev = api.as_operator().post("/api/v1/cases", json=body).json["evaluation"]
    assert ev["met"] is False
    assert "not_met" in {res["verdict"] for res in ev["results"]}


def test_unknown_facts_give_unknown_verdicts_not_errors(api, clock):
    body = case_payload(clock.now())
    body["circumstances"] = {}
    body["police"] = {}
    r = api.as_operator().post("/api/v1/cases", json=body)
    assert r.status_code == 201
    verdicts = {res["verdict"] for res in r.json["evaluation"]["results"]}
    assert "unknown" in verdicts and r.json["evaluation"]["met"] is False


def test_get_case_returns_it_to_any_staff(api, factories):
    case_id = factories.case()
    for who in ("operator", "supervisor", "admin"):
        r = api.as_(who).get(f"/api/v1/cases/{case_id}")
        assert r.status_code == 200 and r.json["id"] == case_id
        assert len(r.json["evaluations"]) == 1


def test_unknown_case_is_404(api):
    r = api.as_operator().get("/api/v1/cases/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.mimetype == PROBLEM


def test_patch_reevaluates_and_keeps_every_evaluation(api, rt, factories):
    case_id = factories.case(abduction_suspected=False, abduction_witnessed=False)
    op = api.as_operator()
    assert op.get(f"/api/v1/cases/{case_id}").json["evaluation"]["met"] is False
    r = op.patch(f"/api/v1/cases/{case_id}", json={"circumstances": {"abduction_suspected": True}})
    assert r.status_code == 200, r.json
    assert r.json["revision"] == 2
    assert r.json["circumstances"]["abduction_suspected"] is True
    assert r.json["circumstances"]["vehicle"] == "Sivi karavan"  # untouched fields stay
    assert r.json["evaluation"]["met"] is True
    assert [e["met"] for e in r.json["evaluations"]] == [False, True]
    assert [e["case_revision"] for e in r.json["evaluations"]] == [1, 2]
    with Session(rt.engine) as s:
        assert len(s.exec(select(CaseEvaluation).where(CaseEvaluation.case_id == case_id)).all()) == 2


def test_patch_without_change_adds_no_evaluation(api, factories):
    case_id = factories.case()
    r = api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"child": {"age": 9}})
    assert r.status_code == 200 and len(r.json["evaluations"]) == 1 and r.json["revision"] == 1


def test_patch_cannot_remove_required_facts(api, factories):
    case_id = factories.case()
    r = api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"child": {"age": None}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "child.age"
    assert api.as_operator().get(f"/api/v1/cases/{case_id}").json["child"]["age"] == 9


def test_last_seen_in_the_future_is_rejected(api, clock):
    from datetime import timedelta

    body = case_payload(clock.now())
    body["last_seen"]["at"] = (clock.now() + timedelta(days=1)).isoformat()
    r = api.as_operator().post("/api/v1/cases", json=body)
    assert r.status_code == 422 and r.json["errors"] == [{"field": "last_seen.at", "message": "lies in the future"}]


def test_closed_case_cannot_change(api, factories):
    case_id = factories.case()
    op = api.as_operator()
    closed = op.post(f"/api/v1/cases/{case_id}/close", json={"outcome": "found"})
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["closed_at"]
    r = op.patch(f"/api/v1/cases/{case_id}", json={"child": {"age": 10}})
    assert r.status_code == 409 and r.mimetype == PROBLEM
    assert op.post(f"/api/v1/cases/{case_id}/close", json={"outcome": "found"}).status_code == 409
    assert op.get(f"/api/v1/cases/{case_id}").json["child"]["age"] == 9
