from __future__ import annotations

import itertools

import sqlalchemy as sa
from click.testing import CliRunner

from alertsvc import audit
from alertsvc.cli import main

from ..helpers import case_payload


def test_audit_lists_case_events_in_order(api, factories):
    case_id = factories.case()
    api.as_operator().patch(f"/api/v1/cases/{case_id}", json={"police": {"confirmed": False}})
    r = api.as_supervisor().get(f"/api/v1/audit?case_id={case_id}")
    assert r.status_code == 200
    actions = [e["action"] for e in r.json]
    assert actions == ["case.opened", "case.evaluated", "case.updated", "case.evaluated"]
    assert [e["id"] for e in r.json] == sorted(e["id"] for e in r.json)
    assert r.json[0]["actor"] == "olga" and r.json[0]["role"] == "operator"
    assert r.json[3]["details"]["met"] is False


def test_audit_events_chain(api, factories, rt):
    factories.case()
    from sqlmodel import Session

    with Session(rt.engine) as s:
        events = audit.events(s)
        report = audit.verify(s)
    assert report.ok and report.checked == len(events) >= 4
    for prev, event in itertools.pairwise(events):
        assert event.prev_hash == prev.hash


def test_audit_holds_no_personal_data(api, clock, rt):
    body = case_payload(clock.now())
    body["child"]["name"] = "Zvezdana Qwertyić"
    body["child"]["description"] = "Nosi ljubičastu kapu sa zvezdama"
    body["reporter"] = {"name": "Radomir Asdfović", "phone": "+381 63 9876543"}
    body["circumstances"]["plate"] = "NS-987-XY"
    case_id = api.as_operator().post("/api/v1/cases", json=body).json["id"]
    text = api.as_supervisor().get(f"/api/v1/audit?case_id={case_id}").get_data(as_text=True)
    for secret in ("Zvezdana", "Qwerty", "ljubičastu", "Radomir", "Asdf", "9876543", "NS-987"):
        assert secret not in text


def _cli(settings, *args):
    env = {"ALERTSVC_DATABASE_URL": settings.database.url,
           "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value()}  # PostgreSQL needs one
    return CliRunner().invoke(main, list(args), env=env)


def test_audit_verify_cli_detects_tampering(api, factories, rt, settings):
    factories.case()
    factories.case()
    ok = _cli(settings, "audit", "verify")
    assert ok.exit_code == 0, ok.output
    with rt.engine.begin() as conn:
        target = conn.execute(sa.text("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 2")).scalar()
        conn.execute(sa.text("UPDATE audit_event SET actor = 'mallory' WHERE id = :i"), {"i": target})
    bad = _cli(settings, "audit", "verify")
    assert bad.exit_code == 1
    assert f"event {target}" in bad.output


def test_audit_verify_cli_detects_a_deleted_event(api, factories, rt, settings):
    factories.case()
    with rt.engine.begin() as conn:
        target = conn.execute(sa.text("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 1")).scalar()
        conn.execute(sa.text("DELETE FROM audit_event WHERE id = :i"), {"i": target})
    bad = _cli(settings, "audit", "verify")
    assert bad.exit_code == 1 and f"event {target + 1}" in bad.output


def test_audit_needs_supervisor_or_admin(api):
    assert api.as_operator().get("/api/v1/audit").status_code == 403
    assert api.as_admin().get("/api/v1/audit").status_code == 200
