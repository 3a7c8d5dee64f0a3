"""The live alert page: delivery counts by status and channel (refreshed from a small JSON endpoint while messages
are on their way, a "Refresh" link without JavaScript), updates (previewed in every language, requested, approved
by another supervisor), resolve with an outcome, renew, and the timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from alertsvc.dispatch.worker import Dispatcher

from ..helpers import STAFF, add_subscriber, approval_body
from .test_console_alert_request import check_page


def active_alert(api, rt, case_id: str) -> str:
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": {"regions": ["RS-00"]}})
    assert r.status_code == 201, r.json
    ok = api.as_supervisor().post(f"/api/v1/alerts/{r.json['id']}/approve", json=approval_body(rt))
    assert ok.status_code == 200, ok.json
    return r.json["id"]


def test_the_live_page_shows_counts_by_status_and_channel_while_it_sends(browser, factories, rt, api):
    add_subscriber(rt, "+381641000001")
    add_subscriber(rt, "+381641000002", language="en")
    add_subscriber(rt, "ana@example.org", channel="email")
    alert_id = active_alert(api, rt, factories.case())
    b = browser("operator")
    r = b.get(f"/console/alerts/{alert_id}")
    assert r.status_code == 200
    html = b.last_html
    assert check_page(html).startswith("Alert for case RS-")
    assert 'data-testid="status"><strong class="govuk-tag app-status-tag app-status-tag--active">' in html
    assert 'data-count="alert.sms.queued">2<' in html and 'data-count="alert.email.queued">1<' in html
    region = re.search(r'<div[^>]*id="progress-region"[^>]*>', html, re.S).group(0)
    assert 'aria-live="polite"' in region and 'data-sending="true"' in region
    assert "Refresh the counts" in html and "js/alert_view.js" in html
    r = b.get(f"/console/alerts/{alert_id}/progress")  # what the script reads every few seconds
    assert r.status_code == 200
    assert check_page(b.last_html).startswith("Delivery of the alert for case RS-")
    assert 'data-sending="true"' in b.last_html and 'data-count="alert.sms.queued">2<' in b.last_html

    Dispatcher(rt).drain()
    b.get(f"/console/alerts/{alert_id}/progress")
    assert 'data-sending="false"' in b.last_html and 'data-count="alert.sms.sent">2<' in b.last_html
    b.get(f"/console/alerts/{alert_id}")
    assert 'data-count="alert.sms.sent">2<' in b.last_html and 'data-sending="false"' in b.last_html


def test_the_progress_endpoint_is_for_staff_only(browser, factories, rt, api):
    alert_id = active_alert(api, rt, factories.case())
    r = browser().client.get(f"/console/alerts/{alert_id}/progress")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in")


def test_an_update_is_previewed_requested_and_approved_by_another_supervisor(browser, factories, rt, api, outbox):
    add_subscriber(rt, "+381641000001", language="sr-Cyrl")
    alert_id = active_alert(api, rt, factories.case())
    Dispatcher(rt).drain()
    b = browser("operator")
    b.get(f"/console/alerts/{alert_id}")
    r = b.post(f"/console/alerts/{alert_id}/updates", {"update-text": "", "action": "preview"})
    assert r.status_code == 200 and 'href="#update-text"' in b.last_html
    text = "Viđena u Zemunu oko 15 časova."
    r = b.post(f"/console/alerts/{alert_id}/updates", {"update-text": text, "action": "preview"})
    assert r.status_code == 200
    html = b.last_html
    check_page(html)
    preview = html.split('data-testid="update-preview"')[1]
    for lang in ("sr-Latn", "sr-Cyrl", "en"):
        section = preview.split(f'data-testid="preview-{lang}"')[1].split("</section>")[0]
        assert text in section and re.search(r'data-testid="encoding">(GSM-7|UCS-2)<', section)
    assert 'type="hidden" name="update-text" value="Viđena u Zemunu oko 15 časova."' in html
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["updates"] == []  # nothing stored yet

    r = b.post(f"/console/alerts/{alert_id}/updates", {"update-text": text, "action": "change"})
    assert r.status_code == 200 and f"{text}</textarea>" in b.last_html
    r = b.post(f"/console/alerts/{alert_id}/updates", {"update-text": text, "action": "request"})
    assert r.status_code == 303 and "done=update_requested" in r.headers["Location"]
    updates = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["updates"]
    assert [u["status"] for u in updates] == ["pending_approval"]
    update_id = updates[0]["id"]

    b.get(r.headers["Location"])  # the requester: no approve button for it
    assert f'data-testid="pending-update-{update_id}"' in b.last_html
    assert f"/updates/{update_id}/approve" not in b.last_html and "you requested this update" in b.last_html

    s = browser("supervisor2")
    s.get(f"/console/alerts/{alert_id}")
    assert f'action="/console/alerts/{alert_id}/updates/{update_id}/approve"' in s.last_html
    r = s.post(f"/console/alerts/{alert_id}/updates/{update_id}/approve", {f"upd{update_id}-reason": ""})
    assert r.status_code == 200 and f'href="#upd{update_id}-reason"' in s.last_html
    r = s.post(f"/console/alerts/{alert_id}/updates/{update_id}/approve",
               {f"upd{update_id}-reason": "Confirmed by the police"})
    assert r.status_code == 303
    update = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}/updates/{update_id}").json
    assert update["status"] == "sent" and update["decided_by"] == STAFF["supervisor2"][0]
    Dispatcher(rt).drain()
    assert any(m.kind == "update" and text in m.text for m in outbox.sent)


def test_the_requester_of_an_update_is_refused_by_the_server(browser, factories, rt, api):
    alert_id = active_alert(api, rt, factories.case())
    s = browser("supervisor2")
    s.get(f"/console/alerts/{alert_id}")
    s.post(f"/console/alerts/{alert_id}/updates", {"update-text": "Nova informacija", "action": "request"})
    update_id = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["updates"][0]["id"]
    s.get(f"/console/alerts/{alert_id}")
    assert "you requested this update" in s.last_html
    r = s.post(f"/console/alerts/{alert_id}/updates/{update_id}/approve", {f"upd{update_id}-reason": "Self approval"})
    assert r.status_code == 403 and "govuk-error-summary" in s.last_html
    r = s.post(f"/console/alerts/{alert_id}/updates/{update_id}/reject", {f"upd{update_id}-reason": "Wrong place"})
    assert r.status_code == 303
    assert api.as_supervisor().get(f"/api/v1/alerts/{alert_id}/updates/{update_id}").json["status"] == "rejected"


def test_resolve_needs_an_outcome_then_ends_the_alert(browser, factories, rt, api):
    alert_id = active_alert(api, rt, factories.case())
    b = browser("operator")
    b.get(f"/console/alerts/{alert_id}")
    assert 'name="resolve-outcome"' in b.last_html
    r = b.post(f"/console/alerts/{alert_id}/resolve", {"resolve-note": "Pronađena"})
    assert r.status_code == 200 and 'href="#resolve-outcome"' in b.last_html and "Pronađena" in b.last_html
    r = b.post(f"/console/alerts/{alert_id}/resolve", {"resolve-outcome": "found", "resolve-note": "Pronađena"})
    assert r.status_code == 303
    alert = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json
    assert alert["status"] == "resolved" and alert["outcome"] == "found"
    b.get(r.headers["Location"])
    html = b.last_html
    check_page(html)
    assert "app-status-tag--resolved" in html and 'name="resolve-outcome"' not in html
    assert 'data-action="alert.resolved"' in html and 'data-action="alert.approved"' in html  # the timeline
    r = b.post(f"/console/alerts/{alert_id}/resolve", {"resolve-outcome": "found"})
    assert r.status_code == 409  # already ended: refused on the page


def test_a_supervisor_renews(browser, factories, rt, api, clock):
    alert_id = active_alert(api, rt, factories.case())
    before = datetime.fromisoformat(api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["expires_at"])
    clock.advance(hours=2)
    op = browser("operator")
    op.get(f"/console/alerts/{alert_id}")
    assert "/renew" not in op.last_html
    assert op.post(f"/console/alerts/{alert_id}/renew", {}).status_code == 403
    b = browser("supervisor2")
    b.get(f"/console/alerts/{alert_id}")
    r = b.post(f"/console/alerts/{alert_id}/renew", {})
    assert r.status_code == 303
    after = datetime.fromisoformat(api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["expires_at"])
    assert after - before == timedelta(hours=2)
    b.get(r.headers["Location"])
    assert "Alert renewed." in b.last_html and 'data-action="alert.renewed"' in b.last_html


def test_an_update_can_publish_the_cases_changed_facts(browser, factories, rt, api):
    case_id = factories.case()
    alert_id = active_alert(api, rt, case_id)
    b = browser("operator")
    b.get(f"/console/alerts/{alert_id}")
    form = {"update-text": "Nov opis.", "update-facts": "y", "action": "preview"}
    r = b.post(f"/console/alerts/{alert_id}/updates", form)
    assert r.status_code == 409 and 'href="#update-facts"' in b.last_html and "already published" in b.last_html
    assert "Nov opis." in b.last_html  # kept
    api.as_operator2().patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Milena Testović"}})
    r = b.post(f"/console/alerts/{alert_id}/updates", form)
    assert r.status_code == 200 and "Milena Testović" in b.last_html.split('data-testid="update-preview"')[1]
    r = b.post(f"/console/alerts/{alert_id}/updates", {**form, "action": "request"})
    assert r.status_code == 303
    update = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["updates"][0]
    assert update["facts"]["child"]["name"] == "Milena Testović"
    s = browser("supervisor2")  # operator2 changed those facts: supervisor2 may approve, and sees what changes
    s.get(f"/console/alerts/{alert_id}")
    assert "It also publishes the case's changed facts: child.name" in s.last_html
