"""Cases in the console: intake on one page (errors in a summary and beside each field, every typed value kept;
"Check criteria" stores nothing), the case page (facts, every evaluation with its profile version, alerts, audit
trail; an audited read), edit facts (what changed, a new evaluation, a form from an older revision refused), close;
roles, sign-in and CSRF. One browser test drives intake.js against the real API."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import shapely

from alertsvc.services import audit_trail, cases

from .test_console_queue import EN, check_page, text_of

BELGRADE_TZ = ZoneInfo("Europe/Belgrade")
CHROMIUM = "/usr/bin/chromium"


def intake(**overrides: str) -> dict[str, str]:
    """A complete intake form that meets the abduction profile (13:00 in Belgrade is 1.5 hours before NOW)."""
    data = {
        "action": "open",
        "child_age": "9", "child_name": "Milica Testović", "child_sex": "f",
        "child_description": "Plava jakna, roze ranac.",
        "last_seen_date": "2026-11-23", "last_seen_time": "13:00", "last_seen_district": "",
        "last_seen_place": "Knez Mihailova 1", "last_seen_lat": "44.8125", "last_seen_lon": "20.4612",
        "circumstances_abduction_suspected": "yes", "circumstances_abduction_witnessed": "no",
        "circumstances_imminent_danger": "yes", "circumstances_medical_or_disability": "",
        "circumstances_suspect": "Muškarac, oko 40 godina", "circumstances_vehicle": "Sivi karavan",
        "circumstances_plate": "BG-123-AB",
        "police_confirmed": "yes", "police_reference": "PU-BG-2026-77",
        "reporter_name": "Jovana Testović", "reporter_phone": "+381 64 1234567",
    }
    data.update(overrides)
    return data


def values(doc: Any) -> dict[str, str]:
    """What the page's form holds: each field's value (radios: the checked one; selects: the selected option)."""
    found: dict[str, str] = {}
    for element in doc.xpath("//form[@data-intake]//*[self::input or self::textarea or self::select]"):
        name = element.get("name")
        if element.tag == "textarea":  # a browser drops the newline that starts a textarea
            found[name] = (element.text or "").replace("\r\n", "\n").removeprefix("\n")
        elif element.tag == "select":
            chosen = element.xpath("./option[@selected]")
            found[name] = chosen[0].get("value") if chosen else ""
        elif element.get("type") == "radio":
            if element.get("checked") is not None:
                found[name] = element.get("value")
        elif element.get("type") not in ("submit", "button"):
            found[name] = element.get("value") or ""
    return found


def summary_links(doc: Any) -> dict[str, str]:
    return {a.get("href"): text_of(a) for a in doc.xpath("//div[contains(@class,'govuk-error-summary')]//a")}


def open_case(browser: Any, who: str = "operator", **overrides: str) -> tuple[Any, str]:
    b = browser(who)
    b.get("/console/cases/new")
    r = b.post("/console/cases/new", intake(**overrides))
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    location = r.headers["Location"]
    assert re.fullmatch(r"/console/cases/[0-9a-f-]{36}", location)
    return b, location.rsplit("/", 1)[1]


def n_cases(rt) -> int:
    return len(cases.list_cases(rt).items)


# --- intake ---------------------------------------------------------------------------------------------------
def test_intake_is_one_grouped_page_required_fields_first(browser, rt):
    r = browser("operator").get("/console/cases/new", headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert text_of(doc.xpath("//h1")[0]) == "New case"
    form = doc.xpath("//form[@data-intake]")[0]
    assert form.get("method") == "post" and form.get("action") == "/console/cases/new"
    legends = [text_of(lg) for lg in form.xpath(".//fieldset[contains(@class,'app-case-section')]/legend")]
    assert legends == ["The child", "Last seen", "Circumstances", "Police", "Reporter"]
    fields = [e.get("name") for e in form.xpath(".//input[not(@type='hidden')] | .//select | .//textarea")]
    assert fields[0] == "child_age"  # the first field is a required one
    assert fields.index("last_seen_date") < fields.index("last_seen_time") < fields.index("last_seen_district")
    assert form.xpath(".//input[@id='last_seen_date']")[0].get("value") == "2026-11-23"  # today, in Belgrade
    # the map picks into the typed coordinates (map.js), which stay the primary way
    figure = form.xpath(".//figure[@data-map]")[0]
    assert (figure.get("data-pick-lat"), figure.get("data-pick-lon")) == ("last_seen_lat", "last_seen_lon")
    # the advisory panel: live region, every criterion of the active profile, the profile's version
    live = form.xpath(".//*[@aria-live='polite']")[0]
    assert [li.get("data-criterion") for li in live.xpath(".//li")] == [c.id for c in rt.active_profile.criteria]
    assert rt.active_profile.version[:12] in text_of(form.xpath(".//section[@data-criteria-panel]")[0])
    # "Check criteria" is the form's first button: Enter in a field checks, it never opens a case
    buttons = [(b.get("name"), b.get("value")) for b in form.xpath(".//button[@type='submit']")]
    assert buttons == [("action", "check"), ("action", "open")]
    # district options carry their representative point for intake.js
    option = form.xpath(".//select[@id='last_seen_district']/option[@value='RS-00']")[0]
    inside = rt.regions["RS-00"].geometry
    assert inside.contains(shapely.Point(float(option.get("data-lon")), float(option.get("data-lat"))))


def test_missing_required_fields_are_listed_and_every_typed_value_survives(browser, rt):
    b = browser("operator")
    b.get("/console/cases/new")
    typed = intake(child_age="", last_seen_time="", last_seen_lat="", last_seen_lon="",
                   circumstances_medical_or_disability="no")
    r = b.post("/console/cases/new", typed, headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert (doc.findtext(".//title") or "").startswith("Error: New case")
    links = summary_links(doc)
    assert list(links) == ["#child_age", "#last_seen_time", "#last_seen_district"]  # in the page's order
    assert links["#child_age"] == "Enter the child's age"
    assert links["#last_seen_time"] == "Enter the time the child was last seen"
    for href in links:  # each link lands on its field, which shows the same error beside it
        assert doc.xpath(f"//*[@id='{href[1:]}']")
        assert doc.xpath(f"//p[@id='{href[1:]}-error']")
    kept = values(doc)
    for name, value in typed.items():
        if name != "action":
            assert kept.get(name, "") == value, name
    assert n_cases(rt) == 0


def test_values_that_cannot_be_read_are_named_beside_their_fields(browser, rt):
    b = browser("operator")
    b.get("/console/cases/new")
    typed = intake(child_age="nine", last_seen_date="31.02.2026", last_seen_lat="north", reporter_phone="call me",
                   child_sex="q", police_confirmed="perhaps")
    r = b.post("/console/cases/new", typed, headers=EN)
    doc = check_page(r.get_data(as_text=True))
    links = summary_links(doc)
    assert links == {
        "#child_age": "Enter the age as a whole number of years, like 9",
        "#child_sex": "Choose one of the options",
        "#last_seen_date": "Enter a real date, like 23.11.2026",
        "#last_seen_lat": "Enter the latitude as a decimal number, like 44.8125",
        "#police_confirmed": "Choose yes, no or not known",
        "#reporter_phone": "Enter a phone number of digits, spaces and + ( ) . / - only, like +381 64 123 4567",
    }
    kept = values(doc)
    for name in ("child_age", "last_seen_date", "last_seen_lat", "reporter_phone", "child_name", "circumstances_suspect"):
        assert kept[name] == typed[name]
    assert n_cases(rt) == 0


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"child_age": "121"}, "child_age", "Enter an age between 0 and 120"),
    ({"last_seen_lat": "95"}, "last_seen_lat", "Enter a latitude between -90 and 90"),
    ({"last_seen_lon": ""}, "last_seen_lon", "Enter the longitude too, or clear the latitude"),
    ({"last_seen_time": "23:59"}, "last_seen_date", "The date and time last seen cannot be in the future"),
    ({"child_name": "x" * 201}, "child_name", "Use 200 characters or fewer"),
    ({"last_seen_district": "RS-20"}, "last_seen_district", "The coordinates are in Grad Beograd, not in this"),
    ({"last_seen_district": "XX-99"}, "last_seen_district", "Choose a district from the list"),
])
def test_the_api_rules_refuse_on_the_field(browser, rt, overrides, field, message):
    b = browser("operator")
    b.get("/console/cases/new")
    r = b.post("/console/cases/new", intake(**overrides), headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert summary_links(doc)[f"#{field}"].startswith(message)
    assert n_cases(rt) == 0


def test_check_criteria_shows_each_verdict_and_stores_nothing(browser, rt):
    b = browser("operator")
    b.get("/console/cases/new")
    before = len(audit_trail.events(rt))
    typed = {"action": "check", "child_age": "9", "circumstances_abduction_suspected": "yes",
             "last_seen_date": "2026-11-23", "last_seen_time": "13:00", "last_seen_district": "RS-00",
             "child_name": "Ana"}
    r = b.post("/console/cases/new", typed, headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    panel = doc.xpath("//*[@aria-live='polite']")[0]
    verdicts = {li.get("data-criterion"): (text_of(li.xpath(".//*[@data-verdict]")[0]),
                                           text_of(li.xpath(".//*[@data-reason]")[0])) for li in panel.xpath(".//li")}
    assert verdicts["child_age"][0] == "Met" and "9" in verdicts["child_age"][1]
    assert verdicts["abduction"][0] == "Met"
    assert verdicts["police_confirmed"][0] == "Not known"
    assert verdicts["recent_sighting"][0] == "Met"
    assert verdicts["last_seen_location"][0] == "Met"  # the district's representative point
    assert "Not every required criterion is met." in text_of(panel)
    assert "representative point" in text_of(panel)
    kept = values(doc)
    assert kept["child_name"] == "Ana" and kept["last_seen_district"] == "RS-00"
    assert n_cases(rt) == 0
    assert len(audit_trail.events(rt)) == before  # nothing stored, nothing audited


def test_check_criteria_with_a_value_that_cannot_be_read(browser, rt):
    b = browser("operator")
    b.get("/console/cases/new")
    r = b.post("/console/cases/new", {"action": "check", "child_age": "-3"}, headers=EN)
    doc = check_page(r.get_data(as_text=True))
    assert "#child_age" in summary_links(doc)
    assert n_cases(rt) == 0


def test_open_case_then_its_page_with_the_reference_its_evaluation_and_its_audit_trail(browser, rt):
    b, case_id = open_case(browser)
    r = b.get(f"/console/cases/{case_id}", headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    banner = doc.xpath("//div[contains(@class,'govuk-notification-banner--success')]")[0]
    assert "RS-2026-000001" in text_of(banner)
    assert text_of(doc.xpath("//h1")[0]) == "Case RS-2026-000001"
    # the facts, as stored by the service the API uses
    record = cases.read_case(rt, case_id)
    assert record.case.child == {"name": "Milica Testović", "age": 9, "sex": "f",
                                 "description": "Plava jakna, roze ranac."}
    at = datetime.fromisoformat(record.case.last_seen["at"])
    assert at == datetime(2026, 11, 23, 13, 0, tzinfo=BELGRADE_TZ) and at.utcoffset() == timedelta(hours=1)
    assert record.case.reporter == {"name": "Jovana Testović", "phone": "+381 64 1234567"}
    page = text_of(doc)
    assert "Milica Testović" in page and "44.8125, 20.4612 (Grad Beograd)" in page
    # the evaluation, with its profile and version (short, the whole hash beside it)
    version = rt.active_profile.version
    assert doc.xpath(f"//span[@class='app-version' and @title='sha256 {version}' and text()='{version[:12]}']")
    table = doc.xpath("//table[contains(@class,'app-verdicts')]")[0]
    assert [tr.get("data-criterion") for tr in table.xpath(".//tbody/tr")] == [c.id for c in
                                                                               rt.active_profile.criteria]
    assert "Criteria met" in page
    assert doc.xpath("//a[@href=$u]", u=f"/console/cases/{case_id}/alerts/new")  # request an alert
    # the banner shows once
    again = check_page(b.get(f"/console/cases/{case_id}", headers=EN).get_data(as_text=True))
    assert not again.xpath("//div[contains(@class,'govuk-notification-banner')]")
    # the operator working the case reads its audit trail (the whole chain stays with supervisors and admins)
    trail = again.xpath("//tr[@data-action]")
    assert trail[0].get("data-action") == "case.opened"
    sup = check_page(browser("supervisor").get(f"/console/cases/{case_id}", headers=EN).get_data(as_text=True))
    trail = sup.xpath("//tr[@data-action]")
    assert trail[0].get("data-action") == "case.opened"
    assert "Case opened" in text_of(trail[0]) and "olga" in text_of(trail[0])


def test_a_district_alone_stands_for_its_representative_point(browser, rt):
    _, case_id = open_case(browser, last_seen_lat="", last_seen_lon="", last_seen_district="RS-20")
    last_seen = cases.read_case(rt, case_id).case.last_seen
    point = shapely.Point(last_seen["lon"], last_seen["lat"])
    assert rt.regions["RS-20"].geometry.contains(point)
    p = rt.regions["RS-20"].geometry.representative_point()
    assert (last_seen["lat"], last_seen["lon"]) == (round(p.y, 5), round(p.x, 5))


def test_coordinates_in_the_chosen_district_are_accepted_with_it(browser, rt):
    _, case_id = open_case(browser, last_seen_district="RS-00", last_seen_lat="44,8125", last_seen_lon="20,4612")
    last_seen = cases.read_case(rt, case_id).case.last_seen
    assert (last_seen["lat"], last_seen["lon"]) == (44.8125, 20.4612)  # a decimal comma is read


def test_reading_a_case_is_audited(browser, rt, factories):
    case_id = factories.case()
    b = browser("admin")  # every staff role reads the case page
    assert b.get(f"/console/cases/{case_id}").status_code == 200
    views = [e for e in audit_trail.events(rt, case_id=case_id) if e.action == "case.viewed"]
    assert len(views) == 1 and views[0].actor == "adam" and views[0].role == "admin"


def test_an_unknown_case_is_a_404_page(browser):
    r = browser("operator").get("/console/cases/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.mimetype == "text/html"


# --- edit facts ----------------------------------------------------------------------------------------------
def test_edit_facts_shows_what_changed_and_a_new_evaluation(browser, rt):
    b, case_id = open_case(browser)
    r = b.get(f"/console/cases/{case_id}/edit", headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert text_of(doc.xpath("//h1")[0]) == "Edit the facts of case RS-2026-000001"
    prefilled = values(doc)
    assert prefilled["child_age"] == "9" and prefilled["child_name"] == "Milica Testović"
    assert prefilled["last_seen_date"] == "2026-11-23" and prefilled["last_seen_time"] == "13:00"
    assert prefilled["last_seen_district"] == "RS-00" and prefilled["police_confirmed"] == "yes"
    assert prefilled["revision"] == "1"
    edited = {**prefilled, "action": "save", "child_age": "10", "police_confirmed": "no", "police_reference": ""}
    r = b.post(f"/console/cases/{case_id}/edit", edited)
    assert r.status_code == 303 and r.headers["Location"] == f"/console/cases/{case_id}"
    doc = check_page(b.get(f"/console/cases/{case_id}", headers=EN).get_data(as_text=True))
    banner = doc.xpath("//div[contains(@class,'govuk-notification-banner--success')]")[0]
    changed = {text_of(tr.xpath("./th")[0]): [text_of(td) for td in tr.xpath("./td")]
               for tr in banner.xpath(".//tbody/tr")}
    assert changed["Age"] == ["9", "10"]
    assert changed["Police have verified the report"] == ["Yes", "No"]
    assert changed["Police reference"] == ["PU-BG-2026-77", "Not given"]
    assert changed["Criteria"] == ["Criteria met", "Criteria not met"]
    assert changed["Police have verified the report and support a public alert."] == ["Met", "Not met"]
    assert "Milica Testović" not in text_of(banner)  # only what changed
    record = cases.read_case(rt, case_id)
    assert record.case.revision == 2 and record.case.child["age"] == 10
    assert record.case.police == {"confirmed": False}
    assert [(e.trigger, e.case_revision, e.met) for e in record.evaluations] == [("opened", 1, True),
                                                                                  ("updated", 2, False)]
    assert "Earlier evaluations" in text_of(doc)


def test_changing_only_the_district_moves_the_point_to_it(browser, rt):
    b, case_id = open_case(browser)
    doc = check_page(b.get(f"/console/cases/{case_id}/edit").get_data(as_text=True))
    r = b.post(f"/console/cases/{case_id}/edit", {**values(doc), "action": "save", "last_seen_district": "RS-20"})
    assert r.status_code == 303
    last_seen = cases.read_case(rt, case_id).case.last_seen
    assert rt.regions["RS-20"].geometry.contains(shapely.Point(last_seen["lon"], last_seen["lat"]))


def test_saving_without_a_change_changes_nothing(browser, rt):
    b, case_id = open_case(browser)
    doc = check_page(b.get(f"/console/cases/{case_id}/edit").get_data(as_text=True))
    r = b.post(f"/console/cases/{case_id}/edit", {**values(doc), "action": "save"})
    assert r.status_code == 303
    assert "Nothing was changed" in b.get(f"/console/cases/{case_id}", headers=EN).get_data(as_text=True)
    assert cases.read_case(rt, case_id).case.revision == 1


def test_edit_errors_keep_the_typed_values(browser, rt):
    b, case_id = open_case(browser)
    doc = check_page(b.get(f"/console/cases/{case_id}/edit").get_data(as_text=True))
    typed = {**values(doc), "action": "save", "child_age": "", "child_name": "Milica T.", "last_seen_lat": "x"}
    r = b.post(f"/console/cases/{case_id}/edit", typed, headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert set(summary_links(doc)) == {"#child_age", "#last_seen_lat"}
    kept = values(doc)
    assert (kept["child_name"], kept["last_seen_lat"], kept["child_age"]) == ("Milica T.", "x", "")
    assert cases.read_case(rt, case_id).case.revision == 1


def test_an_edit_of_a_case_changed_meanwhile_is_refused(browser, api, rt):
    b, case_id = open_case(browser)
    doc = check_page(b.get(f"/console/cases/{case_id}/edit").get_data(as_text=True))
    r = api.as_operator2().patch(f"/api/v1/cases/{case_id}", json={"circumstances": {"vehicle": "Crveni kombi"}})
    assert r.status_code == 200 and r.json["revision"] == 2
    typed = {**values(doc), "action": "save", "child_age": "11"}
    r = b.post(f"/console/cases/{case_id}/edit", typed, headers=EN)
    assert r.status_code == 409
    doc = check_page(r.get_data(as_text=True))
    summary = text_of(doc.xpath("//div[contains(@class,'govuk-error-summary')]")[0])
    assert "Someone changed this case while you were editing it, so nothing was saved." in summary
    assert "oskar changed Vehicle" in text_of(doc) and "Crveni kombi" in text_of(doc)
    kept = values(doc)
    assert kept["child_age"] == "11" and kept["revision"] == "2"
    record = cases.read_case(rt, case_id)
    assert record.case.revision == 2 and record.case.child["age"] == 9
    # having read what changed, saving again is a decision: it goes through
    r = b.post(f"/console/cases/{case_id}/edit", {**kept, "action": "save"})
    assert r.status_code == 303
    assert cases.read_case(rt, case_id).case.child["age"] == 11


def test_the_edit_page_checks_criteria_without_saving(browser, rt):
    b, case_id = open_case(browser)
    doc = check_page(b.get(f"/console/cases/{case_id}/edit").get_data(as_text=True))
    r = b.post(f"/console/cases/{case_id}/edit", {**values(doc), "action": "check", "child_age": "40"}, headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    item = doc.xpath("//*[@aria-live='polite']//li[@data-criterion='child_age']")[0]
    assert text_of(item.xpath(".//*[@data-verdict]")[0]) == "Not met"
    assert values(doc)["child_age"] == "40"
    assert cases.read_case(rt, case_id).case.revision == 1


# --- close ---------------------------------------------------------------------------------------------------
def test_close_a_case(browser, api, rt):
    b, case_id = open_case(browser)
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                               json={"area": {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}}})
    assert r.status_code == 201
    r = b.get(f"/console/cases/{case_id}/close", headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert "Its alert waiting for approval is withdrawn." in text_of(doc)
    outcomes = [i.get("value") for i in doc.xpath("//input[@name='outcome']")]
    assert outcomes == ["found", "withdrawn", "other"]  # what the API's CaseCloseIn accepts
    r = b.post(f"/console/cases/{case_id}/close", {"note": "Pronađena kod bake"}, headers=EN)
    assert r.status_code == 200
    doc = check_page(r.get_data(as_text=True))
    assert summary_links(doc) == {"#outcome": "Choose how the case ended"}
    assert doc.xpath("//textarea[@name='note']")[0].text.strip() == "Pronađena kod bake"
    r = b.post(f"/console/cases/{case_id}/close", {"outcome": "found", "note": "Pronađena kod bake"})
    assert r.status_code == 303 and r.headers["Location"] == f"/console/cases/{case_id}"
    record = cases.read_case(rt, case_id)
    assert record.case.status == "closed" and [a.status for a in record.alerts] == ["withdrawn"]
    doc = check_page(b.get(f"/console/cases/{case_id}", headers=EN).get_data(as_text=True))
    assert "Case RS-2026-000001 is closed." in text_of(doc)
    assert not doc.xpath("//a[@href=$u]", u=f"/console/cases/{case_id}/edit")  # nothing to change any more
    assert b.get(f"/console/cases/{case_id}/edit").status_code == 409
    assert b.post(f"/console/cases/{case_id}/close", {"outcome": "found"}).status_code == 409


# --- roles, sign-in, CSRF --------------------------------------------------------------------------------------
def test_admins_cannot_open_edit_or_close(browser, factories):
    case_id = factories.case()
    b = browser("admin")
    for url in ("/console/cases/new", f"/console/cases/{case_id}/edit", f"/console/cases/{case_id}/close"):
        r = b.get(url, headers=EN)
        assert r.status_code == 403 and r.mimetype == "text/html", url
        check_page(r.get_data(as_text=True))
    r = b.post("/console/cases/new", intake())
    assert r.status_code == 403
    doc = check_page(b.get(f"/console/cases/{case_id}", headers=EN).get_data(as_text=True))
    assert not doc.xpath("//a[contains(@href, '/edit') or contains(@href, '/close') or contains(@href, '/alerts/new')]")


def test_supervisors_do_not_open_cases_as_in_the_api(browser):
    """Opening a case is the operator's (POST /api/v1/cases is operator-only): one rule for page and API."""
    b = browser("supervisor")
    assert b.get("/console/cases/new").status_code == 403
    assert b.post("/console/cases/new", {"action": "open"}).status_code == 403


def test_signed_out_case_pages_go_to_sign_in(browser, factories):
    case_id = factories.case()
    b = browser()
    for url in ("/console/cases/new", f"/console/cases/{case_id}", f"/console/cases/{case_id}/edit"):
        r = b.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith(f"/sign-in?next={url}"), url


def test_a_form_without_its_csrf_token_changes_nothing(browser, rt, factories):
    case_id = factories.case()
    b = browser("operator")
    b.get("/console/cases/new")
    r = b.post("/console/cases/new", intake(), csrf=False)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert n_cases(rt) == 1
    assert b.post(f"/console/cases/{case_id}/close", {"outcome": "found"}, csrf=False).status_code == 400
    assert b.post(f"/console/cases/{case_id}/edit", {"child_age": "3"}, csrf=False).status_code == 400
    assert cases.read_case(rt, case_id).case.status == "open"


# --- intake.js in a real browser ---------------------------------------------------------------------------------
@pytest.fixture
def live_site(app) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the script, not the database, is under test
def test_the_criteria_panel_follows_the_typing(live_site, api, rt, playwright):
    from playwright.sync_api import expect

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests (scripts/test-setup.sh installs it)")
    username, password = api.credentials("operator")
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
    page = chromium.new_page(locale="en-GB")
    errors: list[str] = []
    checks: list[dict[str, Any]] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: checks.append(r.post_data_json) if r.url.endswith("/criteria/evaluate")
            else None)
    page.goto(f"{live_site}/sign-in?next=/console/cases/new")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/console/cases/new")
    status = page.locator("[data-criteria-status]")
    expect(status).to_contain_text("Checked at")  # the first check, on load
    assert page.is_hidden("[data-no-js]")
    page.fill("#child_age", "9")
    page.check("#circumstances_abduction_suspected")
    page.fill("#last_seen_time", "13:00")
    page.select_option("#last_seen_district", "RS-00")
    page.fill("#reporter_name", "Jovana")
    verdict = "li[data-criterion='{}'] [data-verdict]"
    expect(page.locator(verdict.format("child_age"))).to_have_text("Met")
    expect(page.locator(verdict.format("recent_sighting"))).to_have_text("Met")
    expect(page.locator(verdict.format("last_seen_location"))).to_have_text("Met")  # the district's point
    assert page.text_content(verdict.format("police_confirmed")) == "Not known"
    assert "Abduction is suspected" in page.text_content("li[data-criterion='abduction'] [data-reason]")
    last = checks[-1]
    assert last["child"] == {"age": 9}
    assert last["last_seen"]["at"] == "2026-11-23T13:00:00+01:00"  # Belgrade time, with its offset
    option = page.locator("#last_seen_district option[value='RS-00']")
    assert last["last_seen"]["lat"] == float(option.get_attribute("data-lat"))
    assert "reporter" not in last  # nothing about the reporter leaves the page for a check
    # a sighting in the future: the panel says so, the page stays as typed
    page.fill("#last_seen_time", "23:59")
    expect(status).to_contain_text("lies in the future")
    assert page.input_value("#child_age") == "9"
    assert cases.list_cases(rt).items == []
    assert errors == []
    chromium.close()


def test_update_case_compares_the_expected_revision_under_the_row_lock(rt, factories):
    """The edit page's guard holds in the service too: an edit filled from an older revision changes nothing."""
    from alertsvc.schemas import CasePatch

    case_id = factories.case()
    actor = factories.operator()
    revision = cases.read_case(rt, case_id).case.revision
    cases.update_case(rt, actor, case_id, CasePatch.model_validate({"child": {"age": 10}}),
                      expected_revision=revision)
    with pytest.raises(cases.StaleRevision):
        cases.update_case(rt, actor, case_id, CasePatch.model_validate({"child": {"age": 11}}),
                          expected_revision=revision)
    assert cases.read_case(rt, case_id).case.child["age"] == 10
