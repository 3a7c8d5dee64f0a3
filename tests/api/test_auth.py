from __future__ import annotations

import pytest

from alertsvc.services import staff

from ..helpers import PASSWORD

PROBLEM = "application/problem+json"


def test_token_for_valid_credentials_opens_the_api(api):
    staff.add_user(api.rt, "olga", "operator", PASSWORD)
    r = api.client.post("/api/v1/auth/token", json={"username": "olga", "password": PASSWORD})
    assert r.status_code == 200
    assert set(r.json) == {"token", "expires_at"}
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.status_code == 200 and me.json["username"] == "olga" and me.json["role"] == "operator"


@pytest.mark.parametrize(("username", "password"), [
    ("olga", "wrong password!"),
    ("nobody", PASSWORD),
])
def test_bad_credentials_get_the_same_401(api, username, password):
    staff.add_user(api.rt, "olga", "operator", PASSWORD)
    r = api.client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 401 and r.mimetype == PROBLEM
    assert r.json["detail"] == "Invalid username or password."  # never says whether the user exists


def test_token_is_stored_hashed(api, rt):
    from sqlmodel import Session, select

    from alertsvc.models import ApiToken

    token = api.user("operator")[1]
    with Session(rt.engine) as s:
        hashes = s.exec(select(ApiToken.token_hash)).all()
    assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_token_expires(api, clock, settings):
    op = api.as_operator()
    assert op.get("/api/v1/auth/me").status_code == 200
    clock.advance(minutes=settings.security.token_ttl_minutes + 1)
    r = op.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.mimetype == PROBLEM
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused(api):
    op = api.as_operator()
    assert op.delete("/api/v1/auth/token").status_code == 204
    assert op.get("/api/v1/auth/me").status_code == 401


def test_revoke_all_tokens_of_a_user(api):
    op = api.as_operator()
    assert staff.revoke_all(api.rt, "olga") == 1
    assert op.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer    ", "Basic b2xnYTpwdw==", "Bearer not-a-token"])
def test_missing_or_malformed_credentials_are_401(api, header):
    r = api.client.get("/api/v1/criteria", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.mimetype == PROBLEM


@pytest.mark.parametrize(("method", "url", "allowed"), [
    ("post", "/api/v1/cases", {"operator"}),
    ("get", "/api/v1/audit", {"supervisor", "admin"}),
    ("get", "/api/v1/criteria", {"operator", "supervisor", "admin"}),
])
def test_roles_are_enforced(api, method, url, allowed):
    for who in ("operator", "supervisor", "admin"):
        client = api.as_(who)
        r = getattr(client, method)(url, json={})
        if who in allowed:
            assert r.status_code not in (401, 403), (who, r.json)
        else:
            assert r.status_code == 403 and r.mimetype == PROBLEM, who


@pytest.mark.parametrize(("username", "role", "password", "field"), [
    ("Olga Big", "operator", PASSWORD, "username"),
    ("olga", "god", PASSWORD, "role"),
    ("olga", "operator", "short", "password"),
])
def test_add_user_rejects_bad_input(api, username, role, password, field):
    from alertsvc.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        staff.add_user(api.rt, username, role, password)
    assert [e["field"] for e in info.value.errors] == [field]
