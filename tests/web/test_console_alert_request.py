"""Requesting an alert on the console: the area as districts, a circle or pasted corners (errors on the right field,
every typed value kept), then "check your answers" (the map, the reach per channel and language, the fatigue
budgets, each message with its SMS segments and encoding; nothing stored), then the request (pending, another
supervisor must approve)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from ..helpers import add_subscriber, approval_body

CIRCLE = {"area_kind": "circle", "lat": "44.8125", "lon": "20.4612", "radius_km": "10", "text": ""}


class _Inputs(HTMLParser):
    """Every visible form control with its id, every label's ``for``, and each POST form's fields."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str | None]] = []
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.post_forms: list[list[str]] = []
        self._form: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "form":
            post = (a.get("method") or "").lower() == "post"
            self._form = [] if post else None
            if self._form is not None and a.get("action") != "/language":  # the language switch: CSRF-exempt
                self.post_forms.append(self._form)
        if tag in ("input", "textarea", "select"):
            if self._form is not None:
                self._form.append(a.get("name") or "")
            if a.get("type") not in ("hidden", "submit", "button"):
                self.controls.append((a.get("name") or "", a.get("id")))
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def check_page(html: str) -> str:
    """One h1, the title starts with it, every control labelled, ids unique, the CSRF token in every POST form;
    the h1's text."""
    assert html.count("<h1") == 1, "exactly one h1"
    h1 = re.sub(r"\s+", " ", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).strip()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    assert title.startswith(h1) or title.startswith(f"Error: {h1}"), (title, h1)
    parser = _Inputs()
    parser.feed(html)
    for name, control_id in parser.controls:
        assert control_id and control_id in parser.labels, f"control {name!r} has no label"
    assert len(parser.ids) == len(set(parser.ids)), sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    for fields in parser.post_forms:
        assert "csrf_token" in fields, f"a POST form without the CSRF token: {fields}"
    return h1


def new_url(case_id: str) -> str:
    return f"/console/cases/{case_id}/alerts/new"


def test_the_form_starts_at_the_last_seen_place_and_is_for_operators(browser, factories):
    case_id = factories.case()
    b = browser("operator")
    r = b.get(new_url(case_id))
    assert r.status_code == 200
    h1 = check_page(b.last_html)
    assert h1.startswith("Request an alert for case RS-")
    assert 'value="44.81250"' in b.last_html and 'value="20.46120"' in b.last_html
    assert 'data-draw="polygon"' in b.last_html  # drawing on the map is offered, as an extra
    assert re.search(r'type="checkbox" value="RS-00"', b.last_html)  # the districts, as checkboxes
    assert browser("operator2").get(new_url(case_id)).status_code == 200
    # as POST /api/v1/cases/{id}/alerts: an operator requests, a supervisor decides
    assert browser("supervisor").get(new_url(case_id)).status_code == 403
    assert browser("admin").get(new_url(case_id)).status_code == 403


def test_errors_land_on_their_fields_and_every_typed_value_stays(browser, factories):
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    r = b.post(new_url(case_id), {"area_kind": "circle", "lat": "sjever", "lon": "20.46", "radius_km": "",
                                  "text": "Moj tekst upozorenja", "action": "check"})
    assert r.status_code == 200
    html = b.last_html
    check_page(html)
    assert "<title>Error: Request an alert" in html
    assert 'href="#lat"' in html and 'href="#radius_km"' in html and 'href="#lon"' not in html
    assert 'value="sjever"' in html and 'value="20.46"' in html and "Moj tekst upozorenja" in html
    assert 'id="lat-error"' in html  # next to the field too

    r = b.post(new_url(case_id), {"area_kind": "regions", "action": "check"})
    assert 'href="#regions"' in b.last_html and "Choose at least one district" in b.last_html

    r = b.post(new_url(case_id), {"action": "check"})
    assert 'href="#area_kind"' in b.last_html


@pytest.mark.parametrize(("polygon", "message"), [
    ("44.80, 20.40\nnije koordinata\n44.85, 20.50", "Line 2 is not a latitude and a longitude"),
    ("44.80, 20.40\n44.85, 20.50", "Give at least 3 corners"),
    ("95, 20.40\n44.85, 20.50\n44.80, 20.50", "Line 1 is not a latitude and a longitude"),
])
def test_pasted_corners_are_checked_line_by_line(browser, factories, polygon, message):
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    r = b.post(new_url(case_id), {"area_kind": "polygon", "polygon": polygon, "action": "check"})
    assert r.status_code == 200
    assert 'href="#polygon"' in b.last_html and message in b.last_html
    assert polygon.splitlines()[0] in b.last_html  # kept as typed


def test_the_services_area_rules_land_on_the_field(browser, factories):
    """What only the API's area parser knows (a ring crossing itself, an area outside the catalogue) comes back on
    the field the operator typed."""
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    bow_tie = "44.80, 20.40\n44.90, 20.50\n44.80, 20.50\n44.90, 20.40"
    b.post(new_url(case_id), {"area_kind": "polygon", "polygon": bow_tie, "action": "check"})
    assert 'href="#polygon"' in b.last_html and "Self-intersection" in b.last_html
    b.post(new_url(case_id), {"area_kind": "circle", "lat": "0", "lon": "0", "radius_km": "5", "action": "check"})
    assert 'href="#lat"' in b.last_html and "outside the region catalogue" in b.last_html
    assert 'value="0"' in b.last_html


def test_check_your_answers_shows_reach_budgets_and_each_message_without_storing(browser, factories, rt, api):
    add_subscriber(rt, "+381641000001")  # sr-Latn, SMS, circle
    add_subscriber(rt, "+381641000002", language="sr-Cyrl", area={"regions": ["RS-00"]})
    add_subscriber(rt, "ana@example.org", channel="email", language="en")
    add_subscriber(rt, "+381641000003", area={"circle": {"lat": 43.3209, "lon": 21.8958, "radius_km": 5}})  # Niš
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    r = b.post(new_url(case_id), {**CIRCLE, "action": "check"})
    assert r.status_code == 200
    html = b.last_html
    assert check_page(html) == "Check the alert before you request it"
    # the area: the server-drawn map (and its Leaflet enhancement), in words
    assert '<svg' in html and 'class="app-map__area"' in html and 'data-map' in html
    assert "A circle of 10.0 km around 44.8125, 20.4612" in html
    # reach per language and channel
    assert re.search(r'data-count="sr-Latn.sms">1<', html) and re.search(r'data-count="sr-Cyrl.sms">1<', html)
    assert re.search(r'data-count="en.email">1<', html) and re.search(r'data-count="all.total"><strong>3<', html)
    # the budget of each territory it touches
    budgets = html.split('data-testid="budgets"')[1].split("</table>")[0]
    assert 'data-territory="RS-00"' in budgets and "RS-20" not in budgets
    assert re.search(r"<td[^>]*>0</td>\s*<td[^>]*>3</td>\s*<td[^>]*>3</td>", budgets)  # used, limit, remaining
    # each message in each language, SMS with segments and encoding, email
    for lang in ("sr-Latn", "sr-Cyrl", "en"):
        section = html.split(f'data-testid="preview-{lang}"')[1].split("</section>")[0]
        assert re.search(r'data-testid="segments">\d+ segments?<', section)
        assert re.search(r'data-testid="encoding">(GSM-7|UCS-2)<', section)
        assert "Milica Testović" in section and f'lang="{lang}"' in section
    assert "HITNO" in html and "ХИТНО" in html and "URGENT" in html
    # the answers travel as hidden fields; nothing was stored
    assert 'type="hidden" name="radius_km" value="10"' in html
    assert api.as_supervisor().get(f"/api/v1/alerts?case_id={case_id}").json["items"] == []


def test_change_goes_back_to_the_form_with_every_value(browser, factories):
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    b.post(new_url(case_id), {**CIRCLE, "text": "Tekst operatera", "action": "check"})
    assert 'formaction="/console/cases/' in b.last_html
    r = b.post(new_url(case_id), {**CIRCLE, "text": "Tekst operatera", "action": "change"})
    assert r.status_code == 200 and check_page(b.last_html).startswith("Request an alert")
    assert 'value="44.8125"' in b.last_html and 'value="10"' in b.last_html and "Tekst operatera" in b.last_html
    assert re.search(r'value="circle"[^>]*checked|checked[^>]*value="circle"', b.last_html)


def test_request_makes_a_pending_alert_and_says_a_supervisor_must_approve(browser, factories, api):
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    b.post(new_url(case_id), {**CIRCLE, "action": "check"})
    r = b.post(new_url(case_id), {**CIRCLE, "action": "request"})
    assert r.status_code == 303
    match = re.fullmatch(r"/console/alerts/([0-9a-f-]{36})\?done=requested", r.headers["Location"])
    assert match
    alert = api.as_supervisor().get(f"/api/v1/alerts/{match.group(1)}").json
    assert alert["status"] == "pending_approval" and alert["case_id"] == case_id
    assert alert["area"] == {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10.0}}
    assert alert["message"]["text"] is None and alert["territories"] == ["RS-00"]
    r = b.get(r.headers["Location"])
    html = b.last_html
    check_page(html)
    reference = api.as_supervisor().get(f"/api/v1/cases/{case_id}").json["reference"]
    assert f"Alert requested for case {reference}." in html and "a supervisor must approve it" in html


def test_districts_and_own_text_reach_the_api_as_typed(browser, factories, api):
    case_id = factories.case()
    b = browser("operator2")
    b.get(new_url(case_id))
    form = {"area_kind": "regions", "regions": ["RS-00", "RS-06"], "text": "Dete je viđeno kod Ade.",
            "lat": "", "lon": "", "radius_km": "", "polygon": ""}
    b.post(new_url(case_id), {**form, "action": "check"})
    html = b.last_html
    assert "Districts: Grad Beograd, Južnobački okrug" in html
    assert html.count('type="hidden" name="regions"') == 2
    assert "Dete je viđeno kod Ade." in html.split('data-testid="preview-sr-Latn"')[1]
    r = b.post(new_url(case_id), {**form, "action": "request"})
    assert r.status_code == 303
    alert_id = r.headers["Location"].split("/")[-1].split("?")[0]
    alert = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json
    assert alert["area"] == {"regions": ["RS-00", "RS-06"]} and alert["message"]["text"] == "Dete je viđeno kod Ade."


def test_pasted_corners_become_the_api_polygon(browser, factories, api):
    case_id = factories.case()
    b = browser("operator")
    b.get(new_url(case_id))
    corners = "44.80, 20.40\n44.85; 20.40\n44.85 20.50\n44.80, 20.50\n"
    b.post(new_url(case_id), {"area_kind": "polygon", "polygon": corners, "action": "check"})
    assert "A drawn area" in b.last_html
    r = b.post(new_url(case_id), {"area_kind": "polygon", "polygon": corners, "action": "request"})
    alert_id = r.headers["Location"].split("/")[-1].split("?")[0]
    area = api.as_supervisor().get(f"/api/v1/alerts/{alert_id}").json["area"]
    assert area["polygon"]["coordinates"] == [[[20.4, 44.8], [20.4, 44.85], [20.5, 44.85], [20.5, 44.8], [20.4, 44.8]]]


def test_a_closed_case_gets_no_alert(browser, factories, api):
    case_id = factories.case()
    assert api.as_operator().post(f"/api/v1/cases/{case_id}/close", json={"outcome": "found"}).status_code == 200
    b = browser("operator")
    r = b.get(new_url(case_id))
    assert r.status_code == 409 and "closed" in b.last_html


def test_the_preview_is_what_is_sent(browser, factories, rt, api, outbox):
    """The SMS shown on the decision screen is, character for character, the SMS the dispatcher sends."""
    from alertsvc.dispatch.worker import Dispatcher

    add_subscriber(rt, "+381641000001", language="sr-Cyrl")
    case_id = factories.case()
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": {"regions": ["RS-00"]}})
    alert_id = r.json["id"]
    b = browser("supervisor")
    b.get(f"/console/alerts/{alert_id}")
    section = b.last_html.split('data-testid="preview-sr-Cyrl"')[1].split("</section>")[0]
    shown = re.search(r'<div class="govuk-inset-text[^"]*" lang="sr-Cyrl">(.*?)</div>', section, re.S).group(1)
    shown = shown.replace("<br>", "\n")
    assert api.as_supervisor2().post(f"/api/v1/alerts/{alert_id}/approve", json=approval_body(rt)).status_code == 200
    Dispatcher(rt).drain()
    sent = [m for m in outbox.sent if m.kind == "alert"]
    assert len(sent) == 1
    from markupsafe import escape

    assert str(escape(sent[0].text)) == shown
