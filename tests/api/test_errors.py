"""Bad input of every kind gets a clear problem+json, never a 500 or HTML."""

from __future__ import annotations

import json
import logging

import pytest

from ..helpers import case_payload

PROBLEM = "application/problem+json"


def _assert_problem(r, status):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == PROBLEM
    body = r.json
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    assert "Traceback" not in r.get_data(as_text=True) and "<html" not in r.get_data(as_text=True).lower()
    return body


def _mutate(body, path, value):
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(("path", "value", "field"), [
    ("child.age", KeyError, "child.age"),
    ("child.age", -1, "child.age"),
    ("child.age", "nine", "child.age"),
    ("child.age", 9.5, "child.age"),
    ("child.sex", "female", "child.sex"),
    ("child.name", "x" * 201, "child.name"),  # blank is "not given" now (tests/api/test_blank_text.py)
    ("child.description", "x" * 2001, "child.description"),
    ("last_seen.lat", 91, "last_seen.lat"),
    ("last_seen.lon", -181, "last_seen.lon"),
    ("last_seen.lat", KeyError, "last_seen.lat"),
    ("last_seen.at", "yesterday", "last_seen.at"),
    ("last_seen.at", "2026-11-23T14:05:00", "last_seen.at"),  # no offset
    ("circumstances.abduction_suspected", "yes", "circumstances.abduction_suspected"),
    ("circumstances.colour", "red", "circumstances.colour"),
    ("police.confirmed", 1, "police.confirmed"),
    ("reporter.phone", "call me", "reporter.phone"),
    ("last_seen", KeyError, "last_seen"),
])
def test_invalid_case_fields_are_422_with_dotted_paths(api, clock, path, value, field):
    body = _mutate(case_payload(clock.now()), path, value)
    r = api.as_operator().post("/api/v1/cases", json=body)
    problem = _assert_problem(r, 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert all(e["message"] for e in problem["errors"])


def test_every_bad_field_is_listed(api, clock):
    body = case_payload(clock.now())
    body["child"]["age"] = -3
    body["last_seen"]["lat"] = 500
    body["police"]["confirmed"] = "maybe"
    problem = _assert_problem(api.as_operator().post("/api/v1/cases", json=body), 422)
    assert {e["field"] for e in problem["errors"]} == {"child.age", "last_seen.lat", "police.confirmed"}


def test_bad_input_stores_nothing(api, clock, rt):
    from sqlmodel import Session, func, select

    from alertsvc.models import AuditEvent, Case

    op = api.as_operator()
    op.post("/api/v1/cases", json={"child": {"age": "x"}})
    with Session(rt.engine) as s:
        assert s.exec(select(func.count()).select_from(Case)).one() == 0
        assert s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("case.%"))).one() == 0


@pytest.mark.parametrize(("data", "content_type", "status"), [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("\"text\"", "application/json", 400),
    (b"\xff\xfe\x00", "application/json", 400),
    ("child=1", "application/x-www-form-urlencoded", 415),
    ("{}", "text/plain", 415),
])
def test_malformed_bodies(api, data, content_type, status):
    r = api.as_operator().post("/api/v1/cases", data=data, headers={"Content-Type": content_type})
    _assert_problem(r, status)


def test_body_too_large_is_413(api):
    r = api.as_operator().post("/api/v1/cases", data="{" + " " * 2_000_000 + "}",
                               headers={"Content-Type": "application/json"})
    _assert_problem(r, 413)


def test_unknown_path_is_404_problem(api):
    _assert_problem(api.client.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_405_problem(api):
    _assert_problem(api.client.put("/api/v1/cases"), 405)


def test_token_endpoint_is_rate_limited(api):
    # a different (unknown) name each time: this is the per-IP limit, not the per-account lockout (test_lockout.py)
    statuses = [api.client.post("/api/v1/auth/token", json={"username": f"x{i}", "password": "y"}).status_code
                for i in range(31)]
    assert statuses[:30] == [401] * 30
    r = api.client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    body = _assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) > 0 and body["detail"]


def test_unexpected_error_is_500_problem_with_correlation_id(app, caplog):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="alertsvc"):
        r = app.test_client().get("/api/v1/boom")
    body = _assert_problem(r, 500)
    assert "secret internals" not in r.get_data(as_text=True)
    cid = body["correlation_id"]
    assert cid in body["detail"]
    assert any(getattr(rec, "correlation_id", None) == cid for rec in caplog.records)


def test_problem_json_is_valid_utf8_json(api):
    r = api.as_operator().post("/api/v1/cases", data="{", headers={"Content-Type": "application/json"})
    json.loads(r.get_data())


def test_an_unexpected_error_on_a_page_is_a_page_with_the_correlation_id(app, caplog):
    """A page (any path outside the API, CAP, webhooks and data files) answers a browser with an HTML page."""
    @app.get("/boom-page")
    def boom_page():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="alertsvc"):
        r = app.test_client().get("/boom-page")
    text = r.get_data(as_text=True)
    assert r.status_code == 500 and r.mimetype == "text/html"
    assert "secret internals" not in text and "Traceback" not in text and text.count("<h1") == 1
    cids = [getattr(rec, "correlation_id", None) for rec in caplog.records if getattr(rec, "correlation_id", None)]
    assert cids and cids[-1] in text
