"""Public alerts, the public page and data minimisation."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import Session

from alertsvc.cli import main
from alertsvc.dispatch.scheduler import run_job
from alertsvc.jobs import periodic_jobs
from alertsvc.models import Case

from ..helpers import approval_body

BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def _active(api, rt, factories):
    case_id = factories.case()
    alert = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": BELGRADE}).json
    api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    return case_id, alert["id"]


def test_public_alerts_show_only_public_fields(api, rt, factories):
    _case_id, alert_id = _active(api, rt, factories)
    pending_case = factories.case()
    api.as_operator().post(f"/api/v1/cases/{pending_case}/alerts", json={"area": BELGRADE})  # not approved
    r = api.client.get("/api/v1/public/alerts")
    assert r.status_code == 200 and [a["id"] for a in r.json] == [alert_id]
    text = r.get_data(as_text=True)
    assert "Milica Testović" in text and "Plava jakna" in text
    for private in ("Jovana", "1234567", "PU-BG-2026-77"):
        assert private not in text
    page = api.client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and "Milica" in page.get_data(as_text=True)


def test_resolved_alert_keeps_only_a_stub(api, rt, factories):
    _, alert_id = _active(api, rt, factories)
    api.as_operator().post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "found"})
    assert api.client.get("/api/v1/public/alerts").json == []
    page = api.client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    cap = api.client.get(f"/cap/{alert_id}.xml").get_data(as_text=True)
    for text in (page, cap):
        assert "Milica" not in text and "Plava jakna" not in text and "BG-123-AB" not in text
    assert "<msgType>Cancel</msgType>" in cap


def test_personal_data_is_purged_after_closing_and_audit_still_verifies(api, rt, factories, clock, settings):
    case_id, alert_id = _active(api, rt, factories)
    api.as_operator().post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "found"})
    api.as_operator().post(f"/api/v1/cases/{case_id}/close", json={"outcome": "found"})
    clock.advance(days=settings.privacy.purge_after_days - 1)
    assert run_job(rt, "purge_personal_data", "w", periodic_jobs()) == 0
    clock.advance(days=1, seconds=1)
    assert run_job(rt, "purge_personal_data", "w", periodic_jobs()) == 1
    with Session(rt.engine) as s:
        case = s.get(Case, case_id)
        assert case.purged_at is not None
        assert case.child == {"age": 9, "sex": "f"} and case.reporter == {}
        assert "place" not in case.last_seen and "plate" not in case.circumstances
    verify = CliRunner().invoke(main, ["audit", "verify"], env={
        "ALERTSVC_DATABASE_URL": settings.database.url,
        "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value()})  # PostgreSQL needs one
    assert verify.exit_code == 0, verify.output
    body = api.as_supervisor().get(f"/api/v1/cases/{case_id}").get_data(as_text=True)
    assert "Milica" not in body and "Jovana" not in body


def test_unsubscribe_deletes_the_address(api, rt):
    from sqlmodel import select

    from alertsvc.models import Subscription
    from alertsvc.services import subscriptions

    from ..helpers import add_subscriber

    sub_id = add_subscriber(rt, "+381641000001")
    subscriptions.unsubscribe(rt, sub_id, "test")
    with Session(rt.engine) as s:
        rows = s.exec(select(Subscription)).all()
    assert len(rows) == 1 and rows[0].address is None and rows[0].status == "unsubscribed"

