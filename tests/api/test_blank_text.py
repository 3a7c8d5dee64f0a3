"""Blank optional text is "not given": forms and integrations send "" (or spaces) for a field left empty."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from alertsvc.models import Case

from ..helpers import case_payload

BLANKS = {"suspect": "", "vehicle": "", "plate": "", "place": "   ", "reference": "\t", "description": " \n "}


def test_open_case_takes_blank_optional_text_as_not_given(api, rt, clock):
    body = case_payload(clock.now(), **BLANKS)
    body["reporter"] = {"name": "", "phone": ""}
    r = api.as_operator().post("/api/v1/cases", json=body)
    assert r.status_code == 201, r.json
    case = r.json
    assert {"suspect", "vehicle", "plate"}.isdisjoint(case["circumstances"])
    assert "place" not in case["last_seen"] and "reference" not in case["police"]
    assert "description" not in case["child"] and case["reporter"] == {}
    assert case["circumstances"]["abduction_suspected"] is True  # the rest is kept
    with Session(rt.engine) as s:
        stored = s.get(Case, case["id"])
        assert "vehicle" not in stored.circumstances and "" not in stored.circumstances.values()


def test_blank_text_is_still_checked_when_not_blank(api, clock):
    body = case_payload(clock.now(), plate="x" * 21)
    r = api.as_operator().post("/api/v1/cases", json=body)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "circumstances.plate"


def test_patch_with_blank_text_removes_the_field_as_null_does(api, factories):
    case_id = factories.case()
    op = api.as_operator()
    r = op.patch(f"/api/v1/cases/{case_id}", json={"circumstances": {"vehicle": ""}, "child": {"name": "  "}})
    assert r.status_code == 200, r.json
    assert "vehicle" not in r.json["circumstances"] and "name" not in r.json["child"]
    assert r.json["circumstances"]["plate"] == "BG-123-AB"  # keys not sent stay
    assert r.json["revision"] == 2 and len(r.json["evaluations"]) == 2
    null = op.patch(f"/api/v1/cases/{case_id}", json={"circumstances": {"plate": None}})
    assert "plate" not in null.json["circumstances"] and null.json["revision"] == 3


def test_patch_with_blank_text_for_an_absent_field_changes_nothing(api, factories):
    case_id = factories.case(vehicle=None)
    r = api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"circumstances": {"vehicle": " "}})
    assert r.status_code == 200 and r.json["revision"] == 1 and len(r.json["evaluations"]) == 1


@pytest.fixture
def world_alert(api, factories) -> str:
    case_id = factories.case()
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": {"regions": ["RS-00"]}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_required_text_still_refuses_blank(api, world_alert):
    r = api.as_supervisor().post(f"/api/v1/alerts/{world_alert}/reject", json={"reason": "   "})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "reason"


def test_blank_alert_message_means_the_default_text(api, factories):
    case_id = factories.case()
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                               json={"area": {"regions": ["RS-00"]}, "message": {"text": "  "}})
    assert r.status_code == 201, r.json
    assert r.json["message"]["text"] is None or r.json["message"]["text"].strip()
