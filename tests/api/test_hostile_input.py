"""Hostile input, on every route of the app and on both databases: deep nesting, NUL, lone surrogates, huge key
counts, wrong types, huge numbers, odd path and query values. Every answer is a 4xx problem+json (or a 2xx
where the request is legitimate): never a 5xx, never HTML, never an exception, never a dropped connection."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from alertsvc.api.registry import ENDPOINTS, Endpoint
from alertsvc.web.ui import NOT_PAGES

from ..helpers import PASSWORD, STAFF, approval_body, case_payload

PROBLEM = "application/problem+json"
JSON = {"Content-Type": "application/json"}
TWILIO_TOKEN = "twilio-test-auth-token"  # tests/conftest.py settings
DEEP_ARRAYS = b"[" * 5000 + b"]" * 5000
DEEP_OBJECTS = b'{"a":' * 3000 + b"1" + b"}" * 3000
MANY_KEYS = 20_000


def many_keys(seed: dict[str, Any] | None = None, n: int = MANY_KEYS) -> bytes:
    return json.dumps({**(seed or {}), **{f"unknown_{i}": i for i in range(n)}}).encode()


def assert_problem(r, status: int | None = None) -> dict[str, Any]:
    text = r.get_data(as_text=True)
    if status is not None:
        assert r.status_code == status, text[:500]
    assert 400 <= r.status_code < 500, text[:500]
    assert r.mimetype == PROBLEM, (r.status_code, r.mimetype, text[:300])
    body = json.loads(text)
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == r.status_code
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


def is_page(path: str) -> bool:
    """A page route (the console and the citizens' pages): its errors are HTML pages, not problem+json."""
    return not path.startswith(NOT_PAGES)


def assert_error_page(r, status: int | None = None) -> str:
    text = r.get_data(as_text=True)
    if status is not None:
        assert r.status_code == status, text[:500]
    assert 300 <= r.status_code < 500, text[:500]  # a staff page sends the signed-out to the sign-in page
    assert r.mimetype == "text/html", (r.status_code, r.mimetype, text[:300])
    if r.status_code >= 400:
        assert text.count("<h1") == 1 and "Traceback" not in text
    return text


def assert_refused(r, status: int | None = None) -> None:
    """The answer to a refused request: problem+json from the API, CAP and webhooks; an HTML page from pages."""
    if is_page(r.request.path):
        assert_error_page(r, status)
    else:
        assert_problem(r, status)


# --- a world with one of everything, to aim at --------------------------------------------------------
@dataclass
class World:
    app: Flask
    ids: dict[str, str]
    tokens: dict[str, str]
    seeds: dict[str, Any]
    routes: list[tuple[Any, str]] = field(default_factory=list)
    declared: dict[tuple[str, str], Endpoint] = field(default_factory=dict)

    def mint(self, role: str) -> None:
        """A fresh token for ``role`` (the hostile requests may have revoked the last one)."""
        from alertsvc.services import staff

        self.tokens[role] = staff.issue_token(self.app.extensions["alertsvc"], STAFF[role][0], PASSWORD).token

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def answered(self, rule: Any, method: str, role: str | None, r: Any) -> None:
        """After each request: a token that signed itself out (DELETE /auth/token) is replaced."""
        if rule.rule == "/api/v1/auth/token" and method == "DELETE" and r.status_code == 204 and role:
            self.mint(role)


def fill(rule: str, values: dict[str, str], default: str = "1") -> str:
    """The rule with each ``<conv:name>`` replaced by ``values[name]`` (a URL fragment, already encoded)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(m.group(1), default), rule)


@pytest.fixture
def world(app, api, factories, rt) -> World:
    op = api.as_operator()
    case_id = factories.case()
    alert = op.post(f"/api/v1/cases/{case_id}/alerts",
                    json={"area": {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}}})
    assert alert.status_code == 201, alert.json
    sub = api.client.post("/api/v1/subscriptions", json={"channel": "sms", "address": "+381641234599",
                                                          "language": "en", "area": {"regions": ["RS-00"]}})
    assert sub.status_code == 202, sub.json
    tokens = {role: api.user(role)[1] for role in ("operator", "supervisor", "admin")}
    now = rt.clock.now()
    seeds = {
        "issue_token": {"username": "nobody", "password": "not the password"},
        "open_case": case_payload(now),
        "patch_case": {"circumstances": {"vehicle": "Crveni kombi"}, "child": {"age": 9}},
        "close_case": {"outcome": "found", "note": "Found at home"},
        "request_alert": {"area": {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5}},
                          "message": {"text": "Missing child"}},
        "approve_alert": approval_body(rt),
        "reject_alert": {"reason": "Not enough information"},
        "override_fatigue": {"reason": "A second supervisor agrees"},
        "post_update": {"text": "Seen near the station"},
        "resolve_alert": {"outcome": "found", "note": "Found"},
        "subscribe": {"channel": "sms", "address": "+381641234598", "language": "sr-Latn",
                      "area": {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 3}}},
        "confirm": {"code": "123456"},
        "unsubscribe": {"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    }
    w = World(app, {"case_id": case_id, "alert_id": alert.json["id"], "sub_id": sub.json["id"]}, tokens, seeds)
    w.declared = {(e.rule, e.method): e for e in ENDPOINTS}
    w.routes = sorted(((rule, method) for rule in app.url_map.iter_rules()
                       for method in rule.methods if method not in ("HEAD", "OPTIONS")),
                      key=lambda rm: (rm[0].rule, rm[1]))
    return w


def _role_for(ep: Endpoint | None) -> str | None:
    return ep.roles[0] if ep is not None and ep.roles else None


# --- 12. nesting ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [DEEP_ARRAYS, DEEP_OBJECTS], ids=["5000-nested-arrays", "3000-nested-objects"])
def test_deeply_nested_json_is_400_on_every_json_endpoint(world, raw):
    client, checked = world.app.test_client(), set()
    for rule, method in world.routes:
        if method == "GET":
            continue
        ep = world.declared.get((rule.rule, method))
        r = client.open(fill(rule.rule, world.ids), method=method, data=raw,
                        headers={**JSON, **world.headers(_role_for(ep))})
        world.answered(rule, method, _role_for(ep), r)
        assert r.status_code < 500, (method, rule.rule, r.get_data(as_text=True)[:300])
        if ep is not None and ep.body is not None:
            assert "nested too deeply" in assert_problem(r, 400)["detail"], (method, rule.rule)
            checked.add(rule.rule)
        elif r.status_code >= 400:
            assert_refused(r)
    assert {"/api/v1/auth/token", "/api/v1/cases", "/api/v1/cases/<case_id>/alerts",
            "/api/v1/alerts/<alert_id>/approve", "/api/v1/alerts/<alert_id>/reject",
            "/api/v1/alerts/<alert_id>/resolve", "/api/v1/subscriptions",
            "/api/v1/subscriptions/<sub_id>/confirm", "/api/v1/subscriptions/unsubscribe"} <= checked


def test_nesting_inside_a_valid_body_is_400(api, clock):
    body = case_payload(clock.now())
    raw = json.dumps(body).replace('"Sivi karavan"', "[" * 100 + "]" * 100).encode()
    problem = assert_problem(api.as_operator().post("/api/v1/cases", data=raw, headers=JSON), 400)
    assert "nested too deeply" in problem["detail"]


# --- 13. NUL and lone surrogates -------------------------------------------------------------------------
@pytest.mark.parametrize(("who", "method", "url"), [
    ("supervisor", "GET", "/api/v1/cases/%00"), ("supervisor", "GET", "/api/v1/alerts/%00"),
    ("supervisor", "GET", "/api/v1/alerts/%00/deliveries"), (None, "GET", "/cap/%00.xml"), (None, "GET", "/alerts/%00"),
    ("operator", "POST", "/api/v1/cases/%00/alerts"), ("operator", "PATCH", "/api/v1/cases/%00"),
    ("supervisor", "POST", "/api/v1/alerts/%00/approve"), (None, "POST", "/api/v1/subscriptions/%00/confirm"),
    ("supervisor", "GET", "/api/v1/cases/6f1c2a8e-3b7d-4c1e-9a2b-0123456789ab%00"),
    ("supervisor", "GET", "/api/v1/alerts/%ED%A0%80"), ("supervisor", "GET", "/api/v1/cases/.."),
    ("supervisor", "GET", "/api/v1/cases/" + "a" * 5000), (None, "GET", "/unsubscribe/%00"),
    (None, "GET", "/unsubscribe/" + "A" * 600),
])
def test_a_malformed_path_id_is_404_before_any_query(api, who, method, url):
    headers = {"Authorization": f"Bearer {api.user(who)[1]}"} if who else {}
    assert_refused(api.client.open(url, method=method, json={"code": "123456"}, headers=headers), 404)


@pytest.mark.parametrize("url", ["/api/v1/cases/{id}", "/api/v1/alerts/{id}", "/api/v1/alerts/{id}/deliveries",
                                 "/cap/{id}.xml", "/alerts/{id}"])
def test_a_well_formed_unknown_id_is_404(api, url):
    assert_refused(api.as_supervisor().get(url.format(id="6f1c2a8e-3b7d-4c1e-9a2b-0123456789ab")), 404)


def test_nul_in_a_query_is_422_naming_the_parameter(api):
    problem = assert_problem(api.as_supervisor().get("/api/v1/audit?case_id=%00"), 422)
    assert problem["errors"] == [{"field": "case_id", "message": "must not contain the NUL character (U+0000)"}]
    assert_problem(api.client.get("/cap/index.atom?x=a%00b"), 422)


@pytest.mark.parametrize(("who", "url", "body", "field"), [
    (None, "/api/v1/auth/token", {"username": "operator1\x00", "password": "x"}, "username"),
    (None, "/api/v1/auth/token", {"username": "\ud800", "password": "x"}, "username"),
    (None, "/api/v1/auth/token", {"username": "x", "password": "a\udfffb"}, "password"),
    ("operator", "/api/v1/cases", "case:child.name=Ana\x00Bo", "child.name"),
    ("operator", "/api/v1/cases", "case:circumstances.vehicle=\ud83d", "circumstances.vehicle"),
    ("operator", "/api/v1/cases", "case:reporter.phone=+381\x00", "reporter.phone"),
    (None, "/api/v1/subscriptions", {"channel": "sms", "address": "+38164\x001234567", "language": "en",
                                     "area": {"regions": ["RS-00"]}}, "address"),
    (None, "/api/v1/subscriptions", {"channel": "email", "address": "a\ud800@example.org", "language": "en",
                                     "area": {"regions": ["RS-00\x00"]}}, "address"),
    (None, "/api/v1/subscriptions/unsubscribe", {"token": "\x00"}, "token"),
])
def test_nul_and_lone_surrogates_in_json_strings_are_422_with_the_field(api, clock, who, url, body, field):
    if isinstance(body, str):  # "case:section.key=value": a valid case with one bad value
        path, value = body.removeprefix("case:").split("=", 1)
        section, key = path.split(".")
        body = case_payload(clock.now())
        body[section][key] = value
    raw = json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as the escape \ud800
    client = api.as_(who) if who else api.client
    problem = assert_problem(client.post(url, data=raw, headers=JSON), 422)
    assert field in [e["field"] for e in problem["errors"]], problem


def test_bad_strings_in_keys_and_deep_values_are_422(api, world):
    sup = api.as_supervisor()
    body = approval_body(api.rt)
    body["checklist"]["bad\x00key"] = True
    problem = assert_problem(sup.post(f"/api/v1/alerts/{world.ids['alert_id']}/approve",
                                      data=json.dumps(body), headers=JSON), 422)
    assert problem["errors"][0]["field"] == "checklist.bad\\u0000key"
    polygon = {"area": {"polygon": {"type": "Polygon", "coordinates": [[[20.4, 44.8], ["\ud800", 44.9]]]}}}
    problem = assert_problem(api.as_operator().post(f"/api/v1/cases/{world.ids['case_id']}/alerts",
                                                    data=json.dumps(polygon), headers=JSON), 422)
    assert problem["errors"][0]["field"] == "area.polygon.coordinates[0][1][0]"
    unknown = assert_problem(api.client.post("/api/v1/auth/token", headers=JSON,
                                             data=json.dumps({"username": "x", "password": "y", "\ud800": 1})), 422)
    assert unknown["errors"][0]["field"] == "\\ud800"


# --- 14. a capped error list --------------------------------------------------------------------------------
def test_twenty_thousand_unknown_keys_list_fifty_errors_and_count_them_all(api, clock):
    op = api.as_operator()
    r = op.post("/api/v1/cases", data=many_keys(), headers=JSON)  # how fast: bench/bench_hostile_input.py
    problem = assert_problem(r, 422)
    assert len(problem["errors"]) == 50
    assert problem["error_count"] == MANY_KEYS + 2  # and child, last_seen missing
    assert problem["detail"].endswith(f"and {MANY_KEYS + 2 - 50} more (the first 50 are listed)")
    assert len(r.data) < 10_000
    valid_but_many = json.dumps({**case_payload(clock.now()), "child": json.loads(
        many_keys({"age": 9}, 5000))}).encode()
    problem = assert_problem(op.post("/api/v1/cases", data=valid_but_many, headers=JSON), 422)
    assert problem["error_count"] == 5000 and problem["errors"][0]["field"].startswith("child.unknown_")


def test_a_short_error_list_is_listed_whole_with_its_count(api):
    problem = assert_problem(api.as_operator().post("/api/v1/cases", json={"child": {"age": -1}}), 422)
    assert problem["error_count"] == len(problem["errors"]) == 2  # child.age, last_seen


# --- 18. no HTML redirects ----------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/v1/alerts//deliveries", "/api/v1/cases//alerts", "/cap//index.atom",
                                 "/api/v1//openapi.json"])
def test_a_doubled_slash_is_a_404_problem_not_an_html_redirect(api, url):
    r = api.as_supervisor().get(url)
    assert_problem(r, 404)
    assert "Location" not in r.headers


def test_any_routing_redirect_answers_problem_json(app):
    app.add_url_rule("/probe/", "probe", lambda: "ok")  # strict_slashes: /probe redirects to /probe/
    r = app.test_client().get("/probe")
    assert r.status_code == 308 and r.mimetype == PROBLEM and r.headers["Location"].endswith("/probe/")
    assert "<" not in r.get_data(as_text=True) and json.loads(r.data)["status"] == 308


# --- 19. headers of HTML responses ----------------------------------------------------------------------------
def _html_headers_ok(r) -> None:
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_html_pages_carry_referrer_policy_and_x_frame_options(api, rt, world):
    from alertsvc.unsubscribe import unsubscribe_token

    token = unsubscribe_token(rt, world.ids["sub_id"])
    for method in ("GET", "POST"):
        r = api.client.open(f"/unsubscribe/{token}", method=method)
        assert r.status_code == 200 and r.mimetype == "text/html"
        _html_headers_ok(r)


def test_every_html_response_gets_the_headers(app):
    app.add_url_rule("/bare-html", "bare_html", lambda: Response("<p>hi</p>", mimetype="text/html"))
    _html_headers_ok(app.test_client().get("/bare-html"))


# --- webhooks: form bodies ----------------------------------------------------------------------------------
def _signed_post(api, path: str, body: bytes, params: dict[str, str]):
    url = "http://alertsvc.test" + path
    sig = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return api.client.post(path, data=body, headers={"X-Twilio-Signature": sig,
                                                     "Content-Type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize(("path", "body", "params", "status"), [
    ("/webhooks/twilio/status", b"MessageSid=" + b"S" * 300 + b"&MessageStatus=delivered",
     {"MessageSid": "S" * 300, "MessageStatus": "delivered"}, 204),
    ("/webhooks/twilio/status?reference=d%C2%B2", b"MessageSid=SM1&MessageStatus=failed",
     {"MessageSid": "SM1", "MessageStatus": "failed"}, 204),
    ("/webhooks/twilio/status?reference=d99999999999999999999999", b"MessageSid=SM1&MessageStatus=failed",
     {"MessageSid": "SM1", "MessageStatus": "failed"}, 204),
    ("/webhooks/twilio/sms", b"From=%ff%fe&Body=STOP", {"From": "%FF%FE", "Body": "STOP"}, 200),  # as werkzeug reads it
    ("/webhooks/twilio/sms", b"From=%2B381641234567&Body=" + b"x" * 100_000,
     {"From": "+381641234567", "Body": "x" * 100_000}, 200),
])
def test_signed_but_odd_twilio_forms_never_fail(api, path, body, params, status):
    r = _signed_post(api, path, body, params)
    assert r.status_code == status, r.get_data(as_text=True)[:300]


@pytest.mark.parametrize("body", [b"From=%00&Body=STOP", b"Body=STOP&%00=1", b"MessageSid=SM%00&MessageStatus=sent"])
def test_nul_in_a_form_is_422(api, body):
    for path in ("/webhooks/twilio/sms", "/webhooks/twilio/status"):
        assert_problem(api.client.post(path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}),
                       422)


def test_twenty_thousand_form_fields_do_not_fail(api):
    body = "&".join(f"f{i}={i}" for i in range(MANY_KEYS)).encode()
    r = api.client.post("/webhooks/twilio/sms", data=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert_problem(r, 403)


# --- the property: every route, every hostile input ------------------------------------------------------------
ROLES = (None, "operator", "supervisor", "admin")
FRAGMENTS = ["%00", "a%00b", "%ff", "%FF%FE", "%ED%A0%80", "%C0%AF", "..", "%2e%2e", ".", "", "%2F", "%2F..%2F..",
             "x" * 5000, "%C3%BC%C3%B1%C3%AF", "%F0%9F%98%80", "%E2%80%AE", "%0A%0D", "%20", "-1", "0",
             "99999999999999999999999", "1e400", "NaN", "null", "%7B%7D", "%5B%5D", "6f1c2a8e-3b7d-4c1e-9a2b-0123456789ab",
             "6F1C2A8E-3B7D-4C1E-9A2B-0123456789AB", "%27%20OR%201%3D1--"]
FRAGMENT = st.one_of(st.sampled_from(FRAGMENTS),
                     st.text(st.characters(exclude_categories=("Cs",)), max_size=24).map(lambda s: quote(s, safe="")))
LEAVES = st.one_of(
    st.sampled_from(["\x00", "Ana\x00Bo", "\ud800", "a\udfffb", "", "   ", "x" * 100_000, "\u202eevil", "١٢٣",
                     10**30, -(10**30), 2**63, 1e308, -0.0, float("inf"), float("nan"), True, False, None, [], {},
                     [[[[[[]]]]]], {"$ne": 1}, "2026-13-45T99:99:99+99:99", "RS-00"]),
    st.text(max_size=12), st.integers(), st.floats(), st.booleans())
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40)
CONTENT_TYPES = ["application/json", "application/json", "application/json", "application/merge-patch+json",
                 "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-16",
                 "multipart/form-data; boundary=xyz", None]
RAW_BODIES = [b"", b"\xff\xfe", b'{"a": "\xed\xa0\x80"}', b"null", b"[]", b'"x"', b"1e99999", b"9" * 5000,
              b"\x00", b"{" * 70, b'{"a":' * 70 + b"1" + b"}" * 70, b"[" * 6000, b"[" * 5000 + b"]" * 5000,
              b"From=%00&Body=STOP", b"a=1&" * 2000, b'{"__proto__": {"x": 1}}', b"NaN", b"{'a': 1}"]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _set(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node[path[0]] = _set(node[path[0]], path[1:], value)
    return node


@st.composite
def hostile_body(draw, seed: Any) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(["leaf", "leaf", "key", "keys", "deep", "raw"]))
    content_type = "application/json"
    body = json.loads(json.dumps(seed))
    if kind == "leaf":
        body = _set(body, draw(st.sampled_from(_paths(body))), draw(LEAVES))
    elif kind == "key":
        name = draw(st.sampled_from(["\x00", "a\x00", "\ud800", "", "x" * 1000, "__proto__", "constructor"]))
        path = draw(st.sampled_from([p for p in _paths(body) if isinstance(_get(body, p), dict)] or [()]))
        if isinstance(_get(body, path), dict):
            _get(body, path)[name] = draw(LEAVES)
    elif kind == "keys":
        body = {**(body if isinstance(body, dict) else {}),
                **{f"k{i}": i for i in range(draw(st.sampled_from([100, 2000])))}}
    elif kind == "deep":
        n = draw(st.integers(60, 6000))
        deep = ("[" * n + "]" * n) if draw(st.booleans()) else ('{"a":' * n + "1" + "}" * n)
        raw = json.dumps(body).encode()
        if isinstance(body, dict) and body and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(body)))
            raw = json.dumps({**body, key: "__DEEP__"}).replace('"__DEEP__"', deep).encode()
        else:
            raw = deep.encode()
        return raw, draw(st.sampled_from(CONTENT_TYPES))
    else:
        return draw(st.sampled_from(RAW_BODIES)), draw(st.sampled_from(CONTENT_TYPES))
    if draw(st.integers(0, 9)) == 0:
        content_type = draw(st.sampled_from(CONTENT_TYPES))
    return json.dumps(body).encode(), content_type


def _get(node: Any, path: tuple) -> Any:
    for p in path:
        node = node[p]
    return node


@st.composite
def hostile_request(draw, world: World, rule: Any, method: str) -> dict[str, Any]:
    ep = world.declared.get((rule.rule, method))
    values = {}
    for name in rule.arguments:
        real = world.ids.get(name)
        values[name] = draw(st.one_of(FRAGMENT, st.just(real))) if real else draw(FRAGMENT)
    url = fill(rule.rule, values)
    if draw(st.booleans()):
        names = ([n for n in (ep.query.model_fields if ep is not None and ep.query else {})]
                 + ["case_id", "reference", "after_id", "limit"])
        pairs = draw(st.lists(st.tuples(st.one_of(st.sampled_from(names), FRAGMENT), FRAGMENT), max_size=4))
        url += "?" + "&".join(f"{k}={v}" for k, v in pairs)  # both already URL-encoded
    role = draw(st.sampled_from(ROLES))
    headers = world.headers(role)
    if draw(st.integers(0, 9)) == 0:
        headers["Authorization"] = draw(st.sampled_from(["Bearer ", "Bearer", "Basic YTpi", "bearer x y"])
                                        | HEADER_TEXT.map(lambda t: "Bearer " + t))
    if draw(st.integers(0, 9)) == 0:
        headers["X-Twilio-Signature"] = draw(HEADER_TEXT)
    body, content_type = draw(hostile_body(world.seeds.get(ep.name, {}) if ep is not None else {}))
    if content_type:
        headers["Content-Type"] = content_type
    return {"method": method, "url": url, "headers": headers, "data": body, "role": role}


def check_response(r, req: dict[str, Any]) -> None:
    where = f"{req['method']} {req['url'][:200]} as {req['role']} with {req['data'][:120]!r}"
    assert r.status_code < 500, f"{where}: {r.status_code} {r.get_data(as_text=True)[:300]}"
    if is_page(req["url"]):
        if r.status_code >= 300 and r.status_code != 304:
            assert_error_page(r)
    elif r.status_code >= 300 and r.status_code != 304:
        assert r.mimetype == PROBLEM, f"{where}: {r.status_code} {r.mimetype}"
        body = json.loads(r.get_data())
        assert body["status"] == r.status_code and body["title"] and body["detail"], where
    if r.mimetype == "text/html":
        _html_headers_ok(r)


@settings(max_examples=int(os.environ.get("ALERTSVC_HOSTILE_EXAMPLES", "50")), deadline=None, derandomize=False,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_requests_to_every_route_never_fail_the_server(world, data):
    """One example sends a hostile request to every route and method of the URL map (path variables, query,
    body, content type and credentials each drawn), so every route meets every kind of input: 50 examples are
    about 1,500 requests per database. ALERTSVC_HOSTILE_EXAMPLES=500 for a longer hunt (about 45 s each)."""
    client = world.app.test_client()
    for rule, method in world.routes:
        req = data.draw(hostile_request(world, rule, method), label=f"{method} {rule.rule}")
        r = client.open(req["url"], method=req["method"], headers=req["headers"], data=req["data"])
        check_response(r, req)
        world.answered(rule, method, req["role"], r)


def test_head_and_options_on_every_route_are_never_5xx(world):
    client = world.app.test_client()
    for rule in world.app.url_map.iter_rules():
        for method in ("HEAD", "OPTIONS"):
            for value in ("%00", "..", "x" * 5000, "%ff"):
                r = client.open(fill(rule.rule, {}, value), method=method, headers=world.headers("supervisor"))
                assert r.status_code < 500 and (r.status_code < 400 or r.mimetype == PROBLEM
                                                or is_page(rule.rule)), (method, rule.rule)


# --- a real server: the big answers are sent, not dropped --------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    """``alertsvc serve`` under gunicorn, as operators run it (one per database for this module)."""
    tmp_path = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{tmp_path}/served.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    port = _free_port()
    # Its own rate-limit counters: on PostgreSQL it shares the database of the test-client tests, whose requests
    # to the token endpoint (from the same 127.0.0.1) would otherwise count against it within the same minute.
    env = {**os.environ, "ALERTSVC_DATABASE_URL": url, "ALERTSVC_RATELIMIT_KEY_PREFIX": f"served-{port}",
           "ALERTSVC_SECURITY_SECRET_KEY": "hostile-serve-secret-0123456789-abcdefghijkl"}
    proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--port", str(port), "--workers", "1",
                             "--no-worker"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(proc.stdout.read().decode())
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(("body", "status"), [(many_keys({"username": "x", "password": "y"}), 422),
                                              (DEEP_ARRAYS, 400), (DEEP_OBJECTS, 400)],
                         ids=["20000-keys", "5000-nested-arrays", "3000-nested-objects"])
def test_a_real_server_answers_hostile_bodies_with_a_problem(served, body, status):
    for path in ("/api/v1/auth/token", "/api/v1/subscriptions"):
        conn = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
        try:
            conn.request("POST", path, body=body, headers={**JSON, "Connection": "close"})
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        assert resp.status == status, payload[:300]
        assert resp.getheader("Content-Type") == PROBLEM
        problem = json.loads(payload)
        assert problem["status"] == status and len(payload) < 10_000
