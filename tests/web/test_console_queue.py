"""The queue (GET /console): alerts waiting for approval (the longest waiting first, with their age), active alerts
with their delivery progress, open cases, recently resolved and rejected alerts; a district filter; a page at a
time. Also the page checks every console page of cases and the queue passes (``check_page``)."""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from alertsvc.dispatch.worker import Dispatcher

from ..helpers import add_subscriber, approval_body

EN = {"Accept-Language": "en"}
NIS = {"lat": 43.3209, "lon": 21.8958}  # RS-20, Nišavski okrug
BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}
NIS_AREA = {"regions": ["RS-20"]}


# --- what every page must be ---------------------------------------------------------------------------------------
def text_of(element: Any) -> str:
    return " ".join(element.text_content().split())


def check_page(html: str) -> Any:
    """One h1; a <title> starting with it (after "Error: " when the page shows errors); every input, select and
    textarea labelled (<label for>; radios and checkboxes also inside a fieldset with a legend); every POST form
    with its CSRF token (but the language switch, which needs none). The parsed page."""
    doc = lxml.html.document_fromstring(html)
    h1s = doc.xpath("//h1")
    assert len(h1s) == 1, [text_of(h) for h in h1s]
    title = " ".join((doc.findtext(".//title") or "").split())
    assert title.removeprefix("Error: ").startswith(text_of(h1s[0])), (title, text_of(h1s[0]))
    labelled = {label.get("for") for label in doc.xpath("//label[@for]")}
    for element in doc.xpath("//input | //select | //textarea"):
        kind = (element.get("type") or "").lower()
        if kind in ("hidden", "submit", "button"):
            continue
        assert element.get("id") in labelled, f"no label for {element.get('name')!r}"
        if kind in ("radio", "checkbox"):
            assert element.xpath("ancestor::fieldset[legend]") or kind == "checkbox", element.get("name")
    for form in doc.xpath("//form"):
        if (form.get("method") or "get").lower() != "post" or form.get("action") == "/language":
            continue
        assert form.xpath(".//input[@name='csrf_token']"), form.get("action")
    return doc


def rows(doc: Any, heading_id: str) -> list[Any]:
    """The rows of the table under the h2 with ``heading_id`` (none when the list is empty)."""
    heading = doc.get_element_by_id(heading_id)
    following = heading.getnext()
    if following is None or not following.xpath("self::table | self::div[contains(@class, 'app-table-scroll')]"):
        return []
    return following.xpath(".//tbody/tr")


# --- helpers -----------------------------------------------------------------------------------------------------
def _request(api, case_id: str, area: dict[str, Any] | None = None) -> str:
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": area or BELGRADE})
    assert r.status_code == 201, r.json
    return str(r.json["id"])


def _approve(api, rt, alert_id: str) -> None:
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt))
    assert r.status_code == 200, r.json


# --- tests -------------------------------------------------------------------------------------------------------
def test_the_queue_is_the_home_page_and_passes_the_page_checks(browser):
    b = browser("operator")
    r = b.get("/console", headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert text_of(doc.xpath("//h1")[0]) == "Queue"
    assert doc.xpath("//a[@href='/console/cases/new' and contains(@class, 'govuk-button--start')]")
    assert b.get("/sign-in").headers["Location"] == "/console"  # signed in already: the sign-in page leads here


def test_empty_lists_say_so(browser):
    html = browser("supervisor").get("/console", headers=EN).get_data(as_text=True)
    for sentence in ("No alert is waiting for approval.", "No alert is active.", "There is no open case.",
                     "No alert was resolved or rejected recently."):
        assert sentence in html
    assert "A call about a missing child starts with New case." not in html  # operators open cases
    assert "A call about a missing child starts with New case." in browser("operator").get(
        "/console", headers=EN).get_data(as_text=True)


def test_admins_see_the_queue_without_new_case(browser):
    r = browser("admin").get("/console", headers=EN)
    doc = check_page(r.get_data(as_text=True))
    assert r.status_code == 200
    assert not doc.xpath("//a[@href='/console/cases/new']")


def test_signed_out_goes_to_sign_in(browser):
    r = browser().get("/console?district=RS-00")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in?next=/console")


def test_alerts_waiting_for_approval_longest_waiting_first_with_their_age(browser, api, factories, clock):
    first_case = factories.case()
    first = _request(api, first_case)
    clock.advance(minutes=30)
    second = _request(api, factories.case())
    clock.advance(minutes=15)
    doc = check_page(browser("supervisor").get("/console", headers=EN).get_data(as_text=True))
    pending = rows(doc, "pending")
    assert [r.get("data-alert") for r in pending] == [first, second]
    oldest = pending[0]
    assert text_of(oldest.xpath(".//td[@data-age]//strong")[0]) == "45 minutes"
    assert text_of(pending[1].xpath(".//td[@data-age]//strong")[0]) == "15 minutes"
    cells = [text_of(td) for td in oldest.xpath("./td")]
    assert cells[0] == "RS-2026-000001" and cells[1] == "Grad Beograd" and cells[3] == "olga"
    assert cells[2] == "0"  # estimated recipients (nobody subscribed)
    assert oldest.xpath(f".//a[@href='/console/cases/{first_case}']")
    assert oldest.xpath(f".//a[@href='/console/alerts/{first}']")  # the decision screen


def test_active_alerts_show_delivery_progress(browser, api, rt, factories):
    for i in range(3):
        add_subscriber(rt, f"+38164100000{i}")
    alert_id = _request(api, factories.case())
    _approve(api, rt, alert_id)
    Dispatcher(rt, batch_size=1).run_once()  # one sent, two still queued
    doc = check_page(browser("operator").get("/console", headers=EN).get_data(as_text=True))
    assert rows(doc, "pending") == []
    (row,) = rows(doc, "active")
    assert row.get("data-alert") == alert_id
    bar = row.xpath(".//progress")[0]
    assert (bar.get("value"), bar.get("max")) == ("1", "3")
    assert "Sent 1, delivered 0, failed 0, queued 2, of 3" in text_of(row)
    assert row.xpath(f".//a[@href='/console/alerts/{alert_id}']")


def test_open_cases_show_who_where_criteria_and_alerts(browser, api, factories, clock):
    met = factories.case()
    clock.advance(minutes=1)
    unmet = factories.case(abduction_suspected=False, abduction_witnessed=False)
    _request(api, met)
    doc = check_page(browser("operator").get("/console", headers=EN).get_data(as_text=True))
    listed = rows(doc, "cases")
    assert [r.get("data-case") for r in listed] == [unmet, met]  # the most recently opened first
    cells = [text_of(td) for td in listed[1].xpath("./td")]
    assert cells[0] == "RS-2026-000001" and cells[2] == "olga" and cells[3] == "Grad Beograd"
    assert cells[4] == "Criteria met" and cells[5] == "1 in all, 1 waiting"
    assert re.fullmatch(r"23 Nov 2026.*14:30", cells[1])  # 13:30 UTC, shown in Belgrade
    cells = [text_of(td) for td in listed[0].xpath("./td")]
    assert cells[4] == "Criteria not met" and cells[5] == "None"
    assert listed[0].xpath(f".//a[@href='/console/cases/{unmet}']")


def test_recently_resolved_and_rejected_alerts(browser, api, rt, factories):
    rejected = _request(api, factories.case())
    r = api.as_supervisor().post(f"/api/v1/alerts/{rejected}/reject", json={"reason": "Not enough to go on"})
    assert r.status_code == 200, r.json
    resolved = _request(api, factories.case())
    _approve(api, rt, resolved)
    assert api.as_operator().post(f"/api/v1/alerts/{resolved}/resolve", json={"outcome": "found"}).status_code == 200
    doc = check_page(browser("supervisor").get("/console", headers=EN).get_data(as_text=True))
    done = {r.get("data-alert"): text_of(r) for r in rows(doc, "done")}
    assert set(done) == {rejected, resolved}
    assert "Rejected" in done[rejected] and "sara" in done[rejected]
    assert "Resolved" in done[resolved]
    assert rows(doc, "active") == [] and rows(doc, "pending") == []


def test_filter_by_district(browser, api, factories, clock):
    belgrade_case = factories.case()
    nis_case = factories.case(**NIS)
    belgrade_alert = _request(api, belgrade_case)
    nis_alert = _request(api, nis_case, NIS_AREA)
    b = browser("operator")
    doc = check_page(b.get("/console?district=RS-20", headers=EN).get_data(as_text=True))
    assert [r.get("data-case") for r in rows(doc, "cases")] == [nis_case]
    assert [r.get("data-alert") for r in rows(doc, "pending")] == [nis_alert]
    form = doc.xpath("//form[@method='get']")[0]
    assert form.get("action") == "/console"
    assert form.xpath(".//select[@id='district']/option[@selected]")[0].get("value") == "RS-20"
    doc = check_page(b.get("/console?district=RS-00", headers=EN).get_data(as_text=True))
    assert [r.get("data-case") for r in rows(doc, "cases")] == [belgrade_case]
    assert [r.get("data-alert") for r in rows(doc, "pending")] == [belgrade_alert]
    html = b.get("/console?district=RS-06", headers=EN).get_data(as_text=True)
    assert "No open case was last seen in this district." in html
    assert "No alert reaching this district is waiting for approval." in html


def test_an_unknown_district_is_an_error_on_the_filter(browser, factories):
    factories.case()
    r = browser("operator").get("/console?district=XX-99", headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert (doc.findtext(".//title") or "").startswith("Error: Queue")
    assert doc.xpath("//div[contains(@class, 'govuk-error-summary')]//a[@href='#district']")
    assert len(rows(doc, "cases")) == 1  # the lists are shown unfiltered


def test_next_page_links_follow_the_cursors(browser, factories, clock):
    made = []
    for _ in range(21):
        made.append(factories.case())
        clock.advance(minutes=1)
    b = browser("operator")
    doc = check_page(b.get("/console?district=RS-00", headers=EN).get_data(as_text=True))
    assert [r.get("data-case") for r in rows(doc, "cases")] == made[::-1][:20]
    link = doc.xpath("//h2[@id='cases']/following-sibling::p[1]/a")[0]
    assert text_of(link).startswith("Next page")
    href = link.get("href")
    assert href.startswith("/console?") and "cases=" in href and "district=RS-00" in href
    doc = check_page(b.get(href, headers=EN).get_data(as_text=True))
    assert [r.get("data-case") for r in rows(doc, "cases")] == [made[0]]
    assert doc.xpath("//a[@href='/console' and contains(., 'first page')]")
