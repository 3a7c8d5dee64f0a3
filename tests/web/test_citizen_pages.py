"""Citizens' pages through the browser: the public home page, subscribe -> code -> done, unsubscribe (GET shows,
POST acts, RFC 8058 one-click), and the public page of an alert (no cookie, CAP link, a stub once ended)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from alertsvc.models import Subscription
from alertsvc.unsubscribe import unsubscribe_token

from ..helpers import add_subscriber, approval_body
from .test_page_rules import check_structure as _check_structure

BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def check_structure(html: str, where: str) -> None:
    """The page rules of test_page_rules.py; an inline SVG map's own <title> (its accessible name) is no page title."""
    _check_structure(re.sub(r"<svg\b.*?</svg>", "<svg></svg>", html, flags=re.S), where)


def _active_alert(api, rt, factories, **case) -> str:
    case_id = factories.case(**case)
    r = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": BELGRADE})
    assert r.status_code == 201, r.json
    ok = api.as_supervisor().post(f"/api/v1/alerts/{r.json['id']}/approve", json=approval_body(rt))
    assert ok.status_code == 200, ok.json
    return r.json["id"]


def _sub(rt, sub_id: str) -> Subscription:
    with Session(rt.engine) as s:
        sub = s.get(Subscription, sub_id)
        assert sub is not None
        s.expunge(sub)
        return sub


def _code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox.sent[-1].text).group(1)


def _checked(html: str, name: str, value: str) -> bool:
    return re.search(rf'<input[^>]*name="{name}"[^>]*value="{re.escape(value)}"[^>]*checked', html) is not None or \
        re.search(rf'<input[^>]*checked[^>]*name="{name}"[^>]*value="{re.escape(value)}"', html) is not None


# --- the home page -------------------------------------------------------------------------------------------------
def test_home_lists_active_alerts_not_resolved_ones_and_offers_to_subscribe(browser, api, rt, factories):
    b = browser()
    r = b.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "No active alerts" in html
    check_structure(html, "home, no alerts")

    active = _active_alert(api, rt, factories)
    ended = _active_alert(api, rt, factories, name="Ana Drugić")
    assert api.as_operator().post(f"/api/v1/alerts/{ended}/resolve", json={"outcome": "found"}).status_code == 200

    r = b.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "No active alerts" not in html
    check_structure(html, "home")
    assert f'href="/alerts/{active}"' in html and "Milica, 9" in html and "Knez Mihailova 1, Beograd" in html
    assert f"/alerts/{ended}" not in html and "Ana Drugić" not in html
    assert "PU-BG-2026-77" not in html and "Jovana" not in html  # never the police reference or the reporter
    assert 'href="/subscribe"' in html and rt.settings.alerts.hotline in html
    assert "Set-Cookie" not in r.headers and r.headers["Cache-Control"].startswith("public")


# --- subscribe -----------------------------------------------------------------------------------------------------
def test_subscribe_page_structure_and_default_language_is_the_page_language(browser):
    b = browser()
    r = b.get("/subscribe", headers={"Accept-Language": "sr-Cyrl-RS,en;q=0.5"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="sr-Cyrl"' in html
    check_structure(html, "subscribe")
    assert _checked(html, "language", "sr-Cyrl") and not _checked(html, "channel", "sms")
    assert re.search(r'<input[^>]*autocomplete="tel"[^>]*type="tel"|<input[^>]*type="tel"[^>]*autocomplete="tel"',
                     html)
    assert re.search(r'<input[^>]*inputmode="tel"', html)
    assert re.search(r'<input[^>]*autocomplete="email"[^>]*type="email"|<input[^>]*type="email"[^>]*'
                     r'autocomplete="email"', html)
    assert 'name="regions" type="checkbox" value="RS-00"' in html or 'value="RS-00"' in html
    assert 'data-pick-lat="lat"' in html and 'data-pick-lon="lon"' in html


def test_subscribe_with_errors_keeps_every_typed_value(browser, outbox):
    b = browser()
    b.get("/subscribe")
    r = b.post("/subscribe", {"channel": "sms", "phone": "not a phone", "email": "kept@example.org",
                              "language": "en", "area_kind": "circle", "lat": "44,81", "lon": "", "radius_km": "5"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    check_structure(html, "subscribe with errors")
    assert "<title>Error: " in html and "govuk-error-summary" in html
    assert 'href="#lon"' in html and 'id="lon-error"' in html  # a missing longitude, next to the field too
    assert 'href="#phone"' in html and 'id="phone-error"' in html  # and the number, in the same answer
    assert 'value="not a phone"' in html and 'value="kept@example.org"' in html and 'value="44,81"' in html
    assert 'value="5"' in html
    assert _checked(html, "channel", "sms") and _checked(html, "language", "en") and _checked(html, "area_kind", "circle")
    assert outbox.sent == []

    # the service's own check of the number, once the form is complete: on the phone field, values kept
    r = b.post("/subscribe", {"channel": "sms", "phone": "not a phone", "language": "en", "area_kind": "regions",
                              "regions": ["RS-00", "RS-01"]})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'href="#phone"' in html and 'id="phone-error"' in html
    assert _checked(html, "regions", "RS-00") and _checked(html, "regions", "RS-01")
    assert not _checked(html, "regions", "RS-02")
    assert outbox.sent == []


def test_an_empty_form_names_each_missing_answer(browser):
    b = browser()
    b.get("/subscribe")
    html = b.post("/subscribe", {}).get_data(as_text=True)
    for field in ("channel", "language", "area_kind"):
        assert f'href="#{field}"' in html, field
    b.post("/subscribe", {"channel": "email", "language": "sr-Latn", "area_kind": "regions"})
    assert 'href="#email"' in b.last_html and 'href="#regions"' in b.last_html


def test_a_circle_outside_serbia_is_refused_on_the_place(browser, outbox):
    b = browser()
    b.get("/subscribe")
    r = b.post("/subscribe", {"channel": "email", "email": "ana@example.org", "language": "en",
                              "area_kind": "circle", "lat": "48.85", "lon": "2.35", "radius_km": "5"})  # Paris
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'href="#lat"' in html and 'value="48.85"' in html and outbox.sent == []


@pytest.mark.parametrize("form, expected", [
    ({"channel": "sms", "phone": "064 123 4567", "language": "sr-Cyrl", "area_kind": "regions",
      "regions": ["RS-00", "RS-06"]},
     {"channel": "sms", "address": "+381641234567", "language": "sr-Cyrl", "regions": ["RS-00", "RS-06"]}),
    ({"channel": "email", "email": "Ana.Test@Example.org", "language": "en", "area_kind": "circle",
      "lat": "44,8125", "lon": "20.4612", "radius_km": "5"},
     {"channel": "email", "address": "Ana.Test@example.org", "language": "en", "lat": 44.8125, "radius_km": 5}),
], ids=["sms-districts", "email-circle"])
def test_subscribe_then_the_code_then_done_makes_an_active_subscription(browser, outbox, rt, form, expected):
    b = browser()
    b.get("/subscribe")
    r = b.post("/subscribe", form)
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    confirm_url = r.headers["Location"]
    sub_id = re.fullmatch(r"/subscribe/([^/]+)/confirm", confirm_url).group(1)
    assert _sub(rt, sub_id).status == "pending"
    sent = outbox.sent[-1]
    assert sent.kind == "confirmation" and sent.channel == expected["channel"]
    assert sent.address == expected["address"]

    page = b.get(confirm_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    check_structure(html, "confirm")
    code = _code(outbox)
    r = b.post(confirm_url, {"code": f"{code[:3]} {code[3:]}"})  # typed with a space, as it is often read out
    assert r.status_code == 303 and r.headers["Location"] == "/subscribe/done"
    done = b.get("/subscribe/done")
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "STOP" in html
    check_structure(html, "done")

    sub = _sub(rt, sub_id)
    assert sub.status == "active" and sub.address == expected["address"] and sub.language == expected["language"]
    if "regions" in expected:
        assert sorted(sub.regions or []) == expected["regions"]
    else:
        assert sub.lat == pytest.approx(expected["lat"]) and sub.radius_km == pytest.approx(expected["radius_km"])
    # the confirmation page of a confirmed subscription says so
    again = b.get(confirm_url)
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)


def test_a_wrong_code_says_how_many_tries_are_left_then_locks(browser, outbox, rt):
    b = browser()
    b.get("/subscribe")
    r = b.post("/subscribe", {"channel": "sms", "phone": "+381 64 7654321", "language": "en",
                              "area_kind": "regions", "regions": ["RS-00"]})
    confirm_url = r.headers["Location"]
    sub_id = confirm_url.split("/")[2]
    code = _code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    b.get(confirm_url)
    r = b.post(confirm_url, {"code": "12ab"})  # not six digits: the form's own check, no attempt counted
    assert r.status_code == 200 and 'href="#code"' in b.last_html and 'value="12ab"' in b.last_html
    attempts = rt.settings.subscriptions.code_max_attempts
    for left in range(attempts - 1, 0, -1):
        r = b.post(confirm_url, {"code": wrong})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and 'href="#code"' in html and f"try {left} more time" in html, left
        assert f'value="{wrong}"' in html
        check_structure(html, "confirm with a wrong code")
    r = b.post(confirm_url, {"code": wrong})  # the last attempt: locked
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Too many wrong codes" in html and 'name="code"' not in html
    r = b.post(confirm_url, {"code": code})  # even the right code, now
    assert r.status_code == 200 and "Too many wrong codes" in r.get_data(as_text=True)
    assert "Too many wrong codes" in b.get(confirm_url).get_data(as_text=True)
    assert _sub(rt, sub_id).status == "pending"


def test_an_expired_code_says_so(browser, outbox, rt, clock):
    b = browser()
    b.get("/subscribe")
    r = b.post("/subscribe", {"channel": "email", "email": "late@example.org", "language": "en",
                              "area_kind": "regions", "regions": ["RS-00"]})
    confirm_url = r.headers["Location"]
    code = _code(outbox)
    b.get(confirm_url)
    clock.advance(minutes=rt.settings.subscriptions.code_ttl_minutes + 1)
    r = b.post(confirm_url, {"code": code})
    assert r.status_code == 200 and "This code has expired" in r.get_data(as_text=True)
    assert _sub(rt, confirm_url.split("/")[2]).status == "pending"


def test_subscribe_and_confirm_forms_need_their_csrf_token(browser, outbox):
    b = browser()
    b.get("/subscribe")
    form = {"channel": "sms", "phone": "064 123 4567", "language": "en", "area_kind": "regions", "regions": "RS-00"}
    assert b.post("/subscribe", form, csrf=False).status_code == 400
    assert outbox.sent == []
    r = b.post("/subscribe", form)
    confirm_url = r.headers["Location"]
    b.get(confirm_url)
    assert b.post(confirm_url, {"code": _code(outbox)}, csrf=False).status_code == 400


def test_subscribing_has_the_apis_rate_limit_per_address(browser, rt, outbox):
    limit = int(rt.settings.ratelimit.subscribe_per_address.split("/")[0])
    b = browser()
    b.get("/subscribe")
    form = {"channel": "sms", "phone": "064 555 1234", "language": "en", "area_kind": "regions", "regions": "RS-00"}
    for _ in range(limit):
        assert b.post("/subscribe", form).status_code == 303
    b.get("/subscribe")
    refused = b.post("/subscribe", {**form, "phone": "+381645551234"})  # the same number, written otherwise
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert len(outbox.sent) == limit


def test_unknown_subscription_confirm_page_is_not_found(browser):
    assert browser().get("/subscribe/no-such-id/confirm").status_code == 404


# --- unsubscribe ---------------------------------------------------------------------------------------------------
def test_unsubscribe_get_changes_nothing_post_unsubscribes(browser, rt):
    sub_id = add_subscriber(rt, "+381 64 1112233", language="en")
    url = f"/unsubscribe/{unsubscribe_token(rt, sub_id)}"
    b = browser()
    for _ in range(2):
        r = b.get(url)
        assert r.status_code == 200 and _sub(rt, sub_id).status == "active"
    html = r.get_data(as_text=True)
    check_structure(html, "unsubscribe")
    assert html.count("<button") - html.count('name="lang"') == 1 and "Set-Cookie" not in r.headers
    assert b.client.head(url).status_code == 200 and _sub(rt, sub_id).status == "active"
    r = b.post(url, csrf=False)  # the page's button: no CSRF token by design
    assert r.status_code == 200 and _sub(rt, sub_id).status == "unsubscribed"
    html = r.get_data(as_text=True)
    assert "You are unsubscribed" in html and 'role="status"' in html
    html = b.get(url).get_data(as_text=True)
    assert "already ended" in html and html.count("<button") == html.count('name="lang"')  # no button left


def test_rfc8058_one_click_post_unsubscribes_without_a_csrf_token_or_cookie(app, rt):
    sub_id = add_subscriber(rt, "ana@example.org", channel="email", language="en")
    url = f"/unsubscribe/{unsubscribe_token(rt, sub_id)}"
    client = app.test_client()  # a mail provider: no cookie, no token
    r = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and _sub(rt, sub_id).status == "unsubscribed"
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # again: still fine


def test_unsubscribe_page_speaks_the_subscriptions_language_unless_one_is_chosen(browser, rt):
    sub_id = add_subscriber(rt, "+381 64 1112244", language="sr-Cyrl")
    url = f"/unsubscribe/{unsubscribe_token(rt, sub_id)}"
    b = browser()
    html = b.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="sr-Cyrl"' in html
    b.client.set_cookie("alertsvc_lang", "en")  # the language switch
    assert '<html lang="en"' in b.get(url).get_data(as_text=True)


def test_a_forged_unsubscribe_link_is_a_page_not_found(browser):
    r = browser().get("/unsubscribe/forged-token")
    assert r.status_code == 404 and r.mimetype == "text/html"
    check_structure(r.get_data(as_text=True), "forged unsubscribe link")


# --- the public alert page -----------------------------------------------------------------------------------------
def test_alert_page_sets_no_cookie_links_cap_and_becomes_a_stub(browser, api, rt, factories):
    alert_id = _active_alert(api, rt, factories)
    b = browser()
    r = b.get(f"/alerts/{alert_id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    check_structure(html, "alert page")
    assert "Set-Cookie" not in r.headers and b.client.get_cookie("alertsvc_session") is None
    assert r.headers["Cache-Control"].startswith("public") and "Cookie" in r.headers["Vary"]
    assert "csrf" not in html
    base = rt.settings.server.base_url
    assert f'href="{base}/cap/{alert_id}.xml"' in html
    assert f'<link rel="canonical" href="{base}/alerts/{alert_id}">' in html
    assert "Milica Testović" in html and "Plava jakna, roze ranac." in html and "Knez Mihailova 1, Beograd" in html
    assert "192" in html and rt.settings.alerts.hotline in html
    assert "<svg" in html and "js/alert.js" in html
    assert "PU-BG-2026-77" not in html and "Jovana" not in html

    assert api.as_operator().post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "found"}).status_code == 200
    r = b.get(f"/alerts/{alert_id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    check_structure(html, "ended alert page")
    for gone in ("Milica", "Plava jakna", "Knez Mihailova", "BG-123-AB", "Sivi karavan"):
        assert gone not in html, gone
    assert "This alert has ended" in html and f"/cap/{alert_id}.xml" in html


def test_alert_page_of_an_unpublished_alert_is_not_found(browser, api, factories):
    case_id = factories.case()
    pending = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts", json={"area": BELGRADE}).json["id"]
    for url in (f"/alerts/{pending}", "/alerts/no-such-alert"):
        r = browser().get(url)
        assert r.status_code == 404 and "Milica" not in r.get_data(as_text=True), url


@pytest.mark.parametrize("url", ["/", "/subscribe", "/subscribe/done", "ALERT"])
def test_accept_language_sr_cyrl_gives_cyrillic_pages(browser, api, rt, factories, url):
    if url == "ALERT":
        url = f"/alerts/{_active_alert(api, rt, factories)}"
    r = browser().get(url, headers={"Accept-Language": "sr-Cyrl"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="sr-Cyrl"' in html
    check_structure(html, url)
