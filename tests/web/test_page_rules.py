"""Rules every page obeys, checked over every page route of the app (a new route fails here until it is in the
role matrix below):

- a role matrix: each GET page with each staff role and signed out gets the expected status;
- exactly one h1, a <title> that starts with it ("Error: " first on a page with errors), <html lang> set;
- every input, select and textarea has a label (a <label for>, or a fieldset legend for radios and checkboxes);
- every POST form carries the CSRF token (but the two documented exceptions).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask

from alertsvc.unsubscribe import unsubscribe_token
from alertsvc.web.ui import PAGE_BLUEPRINTS

from ..helpers import add_subscriber, approval_body

ROLES = (None, "operator", "supervisor", "admin")
SIGN_IN = 302  # a staff page sends the signed-out to the sign-in page

# GET page rule -> expected status for (signed out, operator, supervisor, admin)
MATRIX: dict[str, tuple[int, int, int, int]] = {
    "/": (200, 200, 200, 200),
    "/sign-in": (200, 302, 302, 302),  # a signed-in user goes on to the queue
    "/console": (SIGN_IN, 200, 200, 200),
    "/console/cases/new": (SIGN_IN, 200, 403, 403),
    "/alerts/<alert_id>": (200, 200, 200, 200),
    "/unsubscribe/<token>": (200, 200, 200, 200),
    "/console/cases/<case_id>": (SIGN_IN, 200, 200, 200),
    "/console/cases/<case_id>/edit": (SIGN_IN, 200, 200, 403),
    "/console/cases/<case_id>/close": (SIGN_IN, 200, 200, 403),
    "/console/cases/<case_id>/alerts/new": (SIGN_IN, 200, 403, 403),
    "/console/alerts/<alert_id>": (SIGN_IN, 200, 200, 200),
    "/console/alerts/<alert_id>/progress": (SIGN_IN, 200, 200, 200),
    "/subscribe": (200, 200, 200, 200),
    "/subscribe/<sub_id>/confirm": (200, 200, 200, 200),
    "/subscribe/done": (200, 200, 200, 200),
}
# Forms that carry no CSRF token, and why.
CSRF_EXEMPT_ACTIONS = {
    "/language": "changes only how this browser shows pages; a token would put a cookie on cacheable public pages",
    "/unsubscribe/": "RFC 8058 one-click POSTs from mail providers carry no token: the link's token is the key",
}


@pytest.fixture
def world(api, rt, factories):
    """One of everything a page route can name."""
    case_id = factories.case()
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                               json={"area": {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5}}})
    assert r.status_code == 201, r.json
    pending = r.json["id"]
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": {"regions": ["RS-00"]}})
    active = r.json["id"]
    assert api.as_supervisor().post(f"/api/v1/alerts/{active}/approve", json=approval_body(rt)).status_code == 200
    sub_id = add_subscriber(rt, "+381641234500")
    return {"case_id": case_id, "alert_id": active, "pending_alert_id": pending, "sub_id": sub_id,
            "token": unsubscribe_token(rt, sub_id), "update_id": "1"}


def page_rules(app: Flask) -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in (rule.methods or ()) and rule.endpoint.split(".")[0] in PAGE_BLUEPRINTS})


def fill(rule: str, ids: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: ids[m.group(1)], rule)


def test_every_page_route_is_in_the_role_matrix(app):
    assert set(page_rules(app)) - set(MATRIX) == set(), "add the new page routes to MATRIX"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "signed-out")
def test_role_matrix(browser, world, app, role):
    b = browser(role)
    for rule in page_rules(app):
        expected = MATRIX[rule][ROLES.index(role)]
        r = b.get(fill(rule, world))
        assert r.status_code == expected, (rule, role, r.status_code)
        if expected == SIGN_IN and role is None:
            assert r.headers["Location"].startswith("/sign-in?next=")


class PageStructure(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] = []
        self.title = ""
        self.html_lang: str | None = None
        self.labels_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.forms: list[dict[str, object]] = []
        self._in: list[str] = []
        self._fieldset_legends: list[bool] = []
        self._text: list[str] = []
        self._svg = 0  # inside an inline SVG map: its <title> names the map, not the page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self._svg += 1
        if self._svg:
            return
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag in ("h1", "title"):
            self._in.append(tag)
            self._text = []
        if tag == "label" and a.get("for"):
            self.labels_for.add(a["for"] or "")
        if tag == "fieldset":
            self._fieldset_legends.append(False)
        if tag == "legend" and self._fieldset_legends:
            self._fieldset_legends[-1] = True
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                               "csrf": False})
        if tag == "input" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["csrf"] = True
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append({**a, "_tag": tag, "_in_fieldset": "1" if self._fieldset_legends else None})

    def handle_endtag(self, tag: str) -> None:
        if self._svg:
            self._svg -= tag == "svg"
            return
        if self._in and tag == self._in[-1]:
            text = " ".join("".join(self._text).split())
            if tag == "h1":
                self.h1.append(text)
            else:
                self.title = text
            self._in.pop()
        if tag == "fieldset" and self._fieldset_legends:
            self._fieldset_legends.pop()

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


def check_structure(html: str, where: str) -> None:
    p = PageStructure()
    p.feed(html)
    assert p.html_lang in ("sr-Latn", "sr-Cyrl", "en"), where
    assert len(p.h1) == 1, (where, p.h1)
    title = re.sub(r"^(Error|Greška|Грешка): ", "", p.title)
    assert title.startswith(p.h1[0]), (where, p.title, p.h1[0])
    for c in p.controls:
        labelled = (c.get("id") in p.labels_for or c.get("aria-label") or c.get("aria-labelledby"))
        assert labelled, (where, "unlabelled control", {k: v for k, v in c.items() if not k.startswith("_")})
        if c.get("type") in ("radio", "checkbox"):
            assert c["_in_fieldset"] or c.get("id") in p.labels_for, (where, c)
    for form in p.forms:
        if form["method"] == "post" and not any(str(form["action"]).startswith(x) for x in CSRF_EXEMPT_ACTIONS):
            assert form["csrf"], (where, "a POST form without its CSRF token", form["action"])


@pytest.mark.parametrize("lang", ["sr-Latn", "sr-Cyrl", "en"])
def test_every_page_has_one_h1_a_matching_title_labels_and_csrf(browser, world, app, lang):
    checked = 0
    for role in ROLES:
        b = browser(role)
        b.client.set_cookie("alertsvc_lang", lang)
        for rule in page_rules(app):
            if MATRIX[rule][ROLES.index(role)] != 200:
                continue
            r = b.get(fill(rule, world))
            html = r.get_data(as_text=True)
            assert f'lang="{lang}"' in html.split(">", 2)[1], (rule, role)
            check_structure(html, f"{rule} as {role} in {lang}")
            checked += 1
    assert checked >= len(MATRIX)


def test_error_pages_follow_the_rules_too(browser, world):
    b = browser()
    r = b.get("/no-such-page")
    assert r.status_code == 404
    check_structure(r.get_data(as_text=True), "404")
    b.get("/sign-in")
    r = b.post("/sign-in", {"username": "", "password": ""})
    html = r.get_data(as_text=True)
    check_structure(html, "sign-in with errors")
    assert re.search(r"<title>(Error|Greška|Грешка): ", html)
    r = browser("supervisor").get("/console/cases/new")
    assert r.status_code == 403
    check_structure(r.get_data(as_text=True), "403")
