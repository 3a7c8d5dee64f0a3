"""Test helpers: staff logins through the real API and factories that go through services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from alertsvc import audit
from alertsvc.runtime import Runtime
from alertsvc.schemas import CaseIn
from alertsvc.services import cases, staff

PASSWORD = "correct horse battery"
STAFF = {
    "operator": ("olga", "operator"),
    "operator2": ("oskar", "operator"),
    "supervisor": ("sara", "supervisor"),
    "supervisor2": ("stefan", "supervisor"),
    "supervisor3": ("sanja", "supervisor"),
    "admin": ("adam", "admin"),
}


class AuthedClient:
    """A test client that sends ``Authorization: Bearer`` on every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, kw: dict[str, Any]) -> dict[str, Any]:
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        kw["headers"] = headers
        return kw

    def get(self, url: str, **kw: Any):
        return self.client.get(url, **self._headers(kw))

    def post(self, url: str, **kw: Any):
        return self.client.post(url, **self._headers(kw))

    def patch(self, url: str, **kw: Any):
        return self.client.patch(url, **self._headers(kw))

    def delete(self, url: str, **kw: Any):
        return self.client.delete(url, **self._headers(kw))


class ApiActions:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self._tokens: dict[str, str] = {}

    @property
    def rt(self) -> Runtime:
        return self.app.extensions["alertsvc"]

    def user(self, key: str) -> tuple[str, str]:
        username, role = STAFF[key]
        if key not in self._tokens:
            try:
                staff.add_user(self.rt, username, role, PASSWORD)
            except Exception:  # already there (a second login in one test)
                pass
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.json
            self._tokens[key] = r.json["token"]
        return username, self._tokens[key]

    def credentials(self, key: str) -> tuple[str, str]:
        """The username and password of a staff member of STAFF (created on first use)."""
        username, role = STAFF[key]
        try:
            staff.add_user(self.rt, username, role, PASSWORD)
        except Exception:  # already there
            pass
        return username, PASSWORD

    def as_(self, key: str) -> AuthedClient:
        return AuthedClient(self.client, self.user(key)[1])

    def as_operator(self) -> AuthedClient:
        return self.as_("operator")

    def as_operator2(self) -> AuthedClient:
        return self.as_("operator2")

    def as_supervisor(self) -> AuthedClient:
        return self.as_("supervisor")

    def as_supervisor2(self) -> AuthedClient:
        return self.as_("supervisor2")

    def as_supervisor3(self) -> AuthedClient:
        return self.as_("supervisor3")

    def as_admin(self) -> AuthedClient:
        return self.as_("admin")

    def send_update(self, alert_id: str, text: str, *, by: str = "operator", approver: str = "supervisor2",
                    facts: bool = False) -> dict[str, Any]:
        """An update requested by ``by`` and approved by ``approver`` (four eyes); the approved update."""
        r = self.as_(by).post(f"/api/v1/alerts/{alert_id}/updates", json={"text": text, "facts": facts})
        assert r.status_code == 201, r.json
        ok = self.as_(approver).post(f"/api/v1/alerts/{alert_id}/updates/{r.json['id']}/approve",
                                     json={"reason": "Checked with the police liaison"})
        assert ok.status_code == 200, ok.json
        return ok.json


def case_payload(now, **overrides: Any) -> dict[str, Any]:
    """A report that meets the abduction profile; keyword overrides go into their section by name."""
    body: dict[str, Any] = {
        "child": {"name": "Milica Testović", "age": 9, "sex": "f", "description": "Plava jakna, roze ranac."},
        "last_seen": {"lat": 44.8125, "lon": 20.4612, "place": "Knez Mihailova 1, Beograd",
                      "at": (now - timedelta(hours=1)).isoformat()},
        "circumstances": {"abduction_suspected": True, "abduction_witnessed": True, "imminent_danger": True,
                          "medical_or_disability": False, "suspect": "Muškarac, oko 40 godina",
                          "vehicle": "Sivi karavan", "plate": "BG-123-AB"},
        "police": {"confirmed": True, "reference": "PU-BG-2026-77"},
        "reporter": {"name": "Jovana Testović", "phone": "+381 64 1234567"},
    }
    for key, value in overrides.items():
        for section in body.values():
            if key in section:
                section[key] = value
                break
        else:
            raise KeyError(key)
    return body


class Factories:
    def __init__(self, rt: Runtime, api: ApiActions) -> None:
        self.rt = rt
        self.api = api

    def operator(self) -> audit.Actor:
        username, _ = self.api.user("operator")
        from sqlmodel import Session, select

        from alertsvc.models import Staff

        with Session(self.rt.engine) as s:
            user = s.exec(select(Staff).where(Staff.username == username)).one()
            return audit.Actor(user.id, user.username, user.role)

    def case(self, **overrides: Any) -> str:
        body = case_payload(self.rt.clock.now(), **overrides)
        return cases.open_case(self.rt, self.operator(), CaseIn.model_validate_json(_json(body)))


def _json(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body)


def approval_body(rt: Runtime) -> dict[str, Any]:
    return {"reason": "Meets the profile; area is the plausible travel radius.",
            "checklist": {item.id: True for item in rt.active_profile.approval_checklist}}


def add_subscriber(rt: Runtime, address: str, *, channel: str = "sms", language: str = "sr-Latn",
                   area: dict[str, Any] | None = None) -> str:
    """An active subscription, made through the real double opt-in services."""
    from alertsvc.services import subscriptions

    new = subscriptions.prepare(rt, channel, address, language,
                                area or {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}})
    sub_id, code = subscriptions.subscribe(rt, new)
    subscriptions.confirm(rt, sub_id, code)
    return sub_id
