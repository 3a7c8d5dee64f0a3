"""The supervisor's decision screen: everything on one page; every checklist item and the reach are required ticks;
four eyes (the requester sees no approve button and the server refuses them anyway); reject needs a reason; a page
whose alert or case changed since it was loaded is refused with 409 and says what changed; the fatigue override."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest
from sqlmodel import Session, select

from alertsvc import audit
from alertsvc.errors import Conflict
from alertsvc.models import AuditEvent, Staff
from alertsvc.services import alerts

from ..helpers import add_subscriber, approval_body
from .test_console_alert_request import check_page

BELGRADE = {"regions": ["RS-00"]}


def request_via_api(api, case_id: str, who: str = "operator", area=None) -> str:
    r = api.as_(who).post(f"/api/v1/cases/{case_id}/alerts", json={"area": area or BELGRADE})
    assert r.status_code == 201, r.json
    return r.json["id"]


def decision_form(html: str) -> dict[str, str]:
    """The decision form's fields as the page filled them (hidden ones included), every box ticked."""
    form = html.split('data-testid="decision-form"')[1].split("</form>")[0]
    fields = {m.group(1): htmllib.unescape(m.group(2))
              for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)}
    for name in re.findall(r'<input[^>]*type="checkbox"[^>]*name="([^"]+)"|<input[^>]*name="([^"]+)"[^>]*type="checkbox"',
                           form):
        fields[name[0] or name[1]] = "y"
    fields["decision-reason"] = "Meets the profile; the area is the plausible radius."
    return fields


def test_everything_is_on_one_screen(browser, factories, rt, api):
    add_subscriber(rt, "+381641000001")
    add_subscriber(rt, "ana@example.org", channel="email", language="en")
    alert_id = request_via_api(api, factories.case())
    b = browser("supervisor")
    r = b.get(f"/console/alerts/{alert_id}")
    assert r.status_code == 200
    html = b.last_html
    assert check_page(html).startswith("olga asks to send an alert for case RS-")
    assert 'data-testid="facts"' in html and "Milica Testović" in html and "Plava jakna" in html  # the case facts
    assert "by olga on" in html  # who requested, and when
    assert rt.active_profile.version[:12] in html.split('data-testid="criteria"')[1]  # criteria with the version
    assert html.count('data-criterion="') == len(rt.active_profile.criteria)
    assert "<svg" in html and 'class="app-map__district app-map__district--selected"' in html  # the area, outlines
    assert re.search(r'data-count="en.email">1<', html) and re.search(r'data-count="all.total"><strong>2<', html)
    assert 'data-testid="budgets"' in html and 'data-territory="RS-00"' in html
    for lang in ("sr-Latn", "sr-Cyrl", "en"):
        assert f'data-testid="preview-{lang}"' in html
    assert 'data-action="alert.requested"' in html and 'data-action="case.opened"' in html  # the history
    for item in rt.active_profile.approval_checklist:
        assert f'name="decision-checklist_{item.id}"' in html
    assert "I understand this will reach 2 people" in html


def test_the_requester_sees_no_approve_button_and_is_refused_anyway(browser, factories, rt, api):
    case_id = factories.case()
    b = browser("operator")
    b.get(f"/console/cases/{case_id}/alerts/new")
    r = b.post(f"/console/cases/{case_id}/alerts/new", {"area_kind": "regions", "regions": "RS-00",
                                                         "action": "request"})
    alert_id = r.headers["Location"].split("/")[-1].split("?")[0]
    b.get(f"/console/alerts/{alert_id}")
    html = b.last_html
    assert "Another supervisor must approve this." in html and "because you requested this alert" in html
    assert 'data-testid="decision-form"' not in html and "Approve and send the alert" not in html
    r = b.post(f"/console/alerts/{alert_id}/approve", {"decision-reason": "I approve my own"})
    assert r.status_code == 403
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["status"] == "pending_approval"


def test_a_supervisor_four_eyes_excludes_is_refused_by_the_service(browser, factories, rt, api):
    """A supervisor who changed the case's facts after the request sees why they cannot approve, and no approve
    button; a forged approval is refused by the service (audited) and the screen says so, keeping what was typed."""
    case_id = factories.case()
    alert_id = request_via_api(api, case_id)
    assert api.as_supervisor().patch(f"/api/v1/cases/{case_id}",
                                     json={"child": {"description": "Crvena jakna."}}).status_code == 200
    b = browser("supervisor")
    b.get(f"/console/alerts/{alert_id}")
    html = b.last_html
    assert "Another supervisor must approve this." in html and "you changed the case&#39;s facts" in html
    assert 'data-testid="decision-form"' not in html and "Approve and send the alert" not in html
    assert 'data-testid="reject-form"' in html  # rejecting stays possible, as in the API
    state = json.dumps(alerts.decision_state(rt, alert_id))
    form = {f"decision-checklist_{i.id}": "y" for i in rt.active_profile.approval_checklist}
    form.update({"decision-reach_confirmed": "y", "decision-reason": "I approve it anyway", "decision-seen": state})
    r = b.post(f"/console/alerts/{alert_id}/approve", form)
    assert r.status_code == 403
    check_page(b.last_html)
    assert "govuk-error-summary" in b.last_html and "another supervisor must" in b.last_html
    assert "I approve it anyway" in b.last_html  # the typed reason stays
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["status"] == "pending_approval"
    with Session(rt.engine) as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "alert.approval_refused")).one()
    assert refused.details["why"] == "four-eyes"


def test_a_second_supervisor_approves_with_every_box_ticked(browser, factories, rt, api):
    add_subscriber(rt, "+381641000001")
    alert_id = request_via_api(api, factories.case())
    b = browser("supervisor")
    b.get(f"/console/alerts/{alert_id}")
    r = b.post(f"/console/alerts/{alert_id}/approve", decision_form(b.last_html))
    assert r.status_code == 303 and r.headers["Location"] == f"/console/alerts/{alert_id}?done=approved"
    alert = api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json
    assert alert["status"] == "active" and alert["decided_by"] == "sara"
    assert alert["checklist"] == {i.id: True for i in rt.active_profile.approval_checklist}
    b.get(r.headers["Location"])
    assert "Alert approved" in b.last_html and 'data-count="alert.sms.queued">1<' in b.last_html


def test_a_missing_tick_is_an_error_and_nothing_is_approved(browser, factories, rt, api):
    alert_id = request_via_api(api, factories.case())
    b = browser("supervisor")
    b.get(f"/console/alerts/{alert_id}")
    form = decision_form(b.last_html)
    first = rt.active_profile.approval_checklist[0].id
    del form[f"decision-checklist_{first}"]
    del form["decision-reach_confirmed"]
    r = b.post(f"/console/alerts/{alert_id}/approve", form)
    assert r.status_code == 200
    html = b.last_html
    check_page(html)
    assert "<title>Error: " in html
    assert f'href="#decision-checklist_{first}"' in html and 'href="#decision-reach_confirmed"' in html
    second = rt.active_profile.approval_checklist[1].id
    assert re.search(rf'<input checked[^>]*name="decision-checklist_{second}"|name="decision-checklist_{second}"[^>]*checked',
                     html)  # the other ticks stay
    assert "Meets the profile; the area is the plausible radius." in html
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["status"] == "pending_approval"


def test_reject_needs_a_reason(browser, factories, api):
    alert_id = request_via_api(api, factories.case())
    b = browser("supervisor")
    b.get(f"/console/alerts/{alert_id}")
    r = b.post(f"/console/alerts/{alert_id}/reject", {"decision-reason": " "})
    assert r.status_code == 200 and 'href="#decision-reason"' in b.last_html
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["status"] == "pending_approval"
    r = b.post(f"/console/alerts/{alert_id}/reject", {"decision-reason": "Custody dispute, not an abduction"})
    assert r.status_code == 303
    alert = api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json
    assert alert["status"] == "rejected" and alert["decision_reason"] == "Custody dispute, not an abduction"
    b.get(r.headers["Location"])
    assert "Alert rejected." in b.last_html and "Custody dispute, not an abduction" in b.last_html


def test_a_stale_page_is_refused_with_409_and_says_what_changed(browser, factories, rt, api):
    case_id = factories.case()
    alert_id = request_via_api(api, case_id)
    b = browser("supervisor")
    b.get(f"/console/alerts/{alert_id}")
    form = decision_form(b.last_html)
    r = api.as_operator2().patch(f"/api/v1/cases/{case_id}",
                                 json={"child": {"description": "Crvena jakna, plavi ranac."}})
    assert r.status_code == 200
    r = b.post(f"/console/alerts/{alert_id}/approve", form)
    assert r.status_code == 409
    html = b.last_html
    check_page(html)
    changes = html.split('data-testid="changes"')[1].split("</table>")[0]
    assert 'data-field="case.child.description"' in changes
    assert "Plava jakna, roze ranac." in changes and "Crvena jakna, plavi ranac." in changes
    assert 'data-field="case.revision"' in changes
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["status"] == "pending_approval"
    # the re-rendered screen is the current one: deciding on it goes through
    r = b.post(f"/console/alerts/{alert_id}/approve", decision_form(html))
    assert r.status_code == 303
    assert api.as_supervisor2().get(f"/api/v1/alerts/{alert_id}").json["status"] == "active"
    with Session(rt.engine) as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "alert.approval_refused")).one()
    assert "case.child.description" in refused.details["changed"]
    assert "Crvena" not in json.dumps(refused.details)  # the audit names fields, never their values


def _actor(rt, username: str) -> audit.Actor:
    with Session(rt.engine) as s:
        user = s.exec(select(Staff).where(Staff.username == username)).one()
        return audit.Actor(user.id, user.username, user.role)


def test_the_service_refuses_an_approval_of_what_changed_since_it_was_read(factories, rt, api):
    """``approve_alert(seen=...)``: the state the supervisor read is compared under the row locks."""
    case_id = factories.case()
    alert_id = request_via_api(api, case_id)
    seen = alerts.decision_state(rt, alert_id)
    assert seen["case.revision"] == "1" and seen["alert.overrides"] == "0"
    api.as_operator2().patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Milena Testović"}})
    supervisor2 = _actor(rt, api.credentials("supervisor2")[0])
    body = approval_body(rt)
    with pytest.raises(Conflict) as caught:
        alerts.approve_alert(rt, supervisor2, alert_id, body["reason"], body["checklist"], seen=seen)
    changed = {c["field"]: (c["old"], c["new"]) for c in caught.value.extra["changes"]}
    assert changed["case.child.name"] == ("Milica Testović", "Milena Testović")
    assert changed["case.revision"] == ("1", "2")
    alerts.approve_alert(rt, supervisor2, alert_id, body["reason"], body["checklist"],
                         seen=alerts.decision_state(rt, alert_id))
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["status"] == "active"


def test_operators_read_the_screen_without_deciding(browser, factories, rt, api):
    alert_id = request_via_api(api, factories.case())
    b = browser("operator2")
    r = b.get(f"/console/alerts/{alert_id}")
    assert r.status_code == 200
    html = b.last_html
    check_page(html)
    assert 'data-testid="read-only"' in html and "<form" not in html.split('id="decide"')[1].split('id="history"')[0]
    assert 'data-testid="preview-en"' in html
    r = b.post(f"/console/alerts/{alert_id}/approve", {"decision-reason": "operators cannot"})
    assert r.status_code == 403
    r = b.post(f"/console/alerts/{alert_id}/reject", {"decision-reason": "operators cannot"})
    assert r.status_code == 403
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["status"] == "pending_approval"


def test_the_fatigue_override_is_on_the_same_screen(browser, factories, rt, api):
    for _ in range(rt.settings.fatigue.territory_max_alerts):  # the budget of RS-00 used up
        done = request_via_api(api, factories.case())
        assert api.as_supervisor().post(f"/api/v1/alerts/{done}/approve", json=approval_body(rt)).status_code == 200
    alert_id = request_via_api(api, factories.case())
    b = browser("supervisor2")
    b.get(f"/console/alerts/{alert_id}")
    assert "used up" in b.last_html and 'id="override"' in b.last_html
    r = b.post(f"/console/alerts/{alert_id}/approve", decision_form(b.last_html))
    assert r.status_code == 429 and "fatigue budget of Grad Beograd is used up" in b.last_html
    r = b.post(f"/console/alerts/{alert_id}/override", {"override-reason": ""})
    assert r.status_code == 200 and 'href="#override-reason"' in b.last_html
    r = b.post(f"/console/alerts/{alert_id}/override",
               {"override-reason": "Confirmed abduction, all districts <script>x()</script>"})
    assert r.status_code == 303
    b.get(r.headers["Location"])
    assert "you lifted the fatigue budget" in b.last_html and 'data-testid="decision-form"' not in b.last_html
    c = browser("supervisor3")
    c.get(f"/console/alerts/{alert_id}")
    assert "Budget lifted by" in c.last_html and "Confirmed abduction, all districts" in c.last_html
    assert "<script>x()" not in c.last_html and "&lt;script&gt;x()" in c.last_html  # typed text is escaped
    r = c.post(f"/console/alerts/{alert_id}/approve", decision_form(c.last_html))
    assert r.status_code == 303
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["status"] == "active"
