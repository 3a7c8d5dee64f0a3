"""Sign-in lockout (security.login_max_failures / login_lockout_minutes) and the audit of failed sign-ins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

from alertsvc import audit
from alertsvc.errors import Unauthorized
from alertsvc.models import AuditEvent, LoginFailure, Staff
from alertsvc.services import staff

from ..helpers import PASSWORD

TOKEN = "/api/v1/auth/token"
PROBLEM = "application/problem+json"


def _login(api, username: str, password: str):
    return api.client.post(TOKEN, json={"username": username, "password": password})


def _staff(rt, username: str) -> Staff:
    with Session(rt.engine) as s:
        return s.exec(select(Staff).where(Staff.username == username)).one()


def _events(rt, action: str) -> list[AuditEvent]:
    with Session(rt.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_ten_wrong_passwords_lock_the_account_even_for_the_right_one(api, rt, clock, settings):
    staff.add_user(rt, "olga", "operator", PASSWORD)
    assert settings.security.login_max_failures == 10 and settings.security.login_lockout_minutes == 15
    assert [_login(api, "olga", f"wrong password {i}").status_code for i in range(10)] == [401] * 10
    r = _login(api, "olga", PASSWORD)
    assert r.status_code == 429 and r.mimetype == PROBLEM
    assert 15 * 60 - 1 <= int(r.headers["Retry-After"]) <= 15 * 60  # (flask-limiter re-renders it, rounding down)
    assert r.json["status"] == 429 and "locked" in r.json["detail"]
    clock.advance(minutes=10)
    assert _login(api, "olga", PASSWORD).status_code == 429
    assert 5 * 60 - 1 <= int(_login(api, "olga", PASSWORD).headers["Retry-After"]) <= 5 * 60
    clock.advance(minutes=5, seconds=1)
    assert _login(api, "olga", PASSWORD).status_code == 200  # the lock has ended
    user = _staff(rt, "olga")
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_correct_password_before_the_limit_resets_the_count(api, rt):
    staff.add_user(rt, "olga", "operator", PASSWORD)
    for _ in range(2):
        assert [_login(api, "olga", "wrong password").status_code for _ in range(9)] == [401] * 9
        assert _staff(rt, "olga").failed_logins == 9
        assert _login(api, "olga", PASSWORD).status_code == 200
        assert _staff(rt, "olga").failed_logins == 0


def test_past_the_limit_each_further_wrong_password_locks_again(api, rt, clock):
    staff.add_user(rt, "olga", "operator", PASSWORD)
    for _ in range(10):
        _login(api, "olga", "wrong password")
    clock.advance(minutes=16)
    assert _login(api, "olga", "wrong password").status_code == 401  # no success in between: still consecutive
    assert _login(api, "olga", PASSWORD).status_code == 429


def test_an_unknown_username_is_answered_exactly_like_an_account(api, rt):
    staff.add_user(rt, "olga", "operator", PASSWORD)
    answers = {}
    for name in ("olga", "nobody"):
        statuses = [_login(api, name, "wrong password").status_code for _ in range(10)]
        assert statuses == [401] * 10, name
        r = _login(api, name, "wrong password")
        answers[name] = (r.status_code, int(r.headers["Retry-After"]), r.json)
    assert answers["olga"][0] == answers["nobody"][0] == 429
    assert answers["olga"][2] == answers["nobody"][2]  # the same body
    assert abs(answers["olga"][1] - answers["nobody"][1]) <= 1  # the same wait (re-rendered from the wall clock)
    with Session(rt.engine) as s:  # the unknown name is counted under an HMAC, never stored as typed
        rows = s.exec(select(LoginFailure)).all()
    assert len(rows) == 1 and rows[0].failed_logins == 10 and "nobody" not in rows[0].key_hash


def test_failed_sign_ins_are_audited_without_the_typed_name(api, rt):
    staff.add_user(rt, "olga", "operator", PASSWORD)
    olga = _staff(rt, "olga")
    assert _login(api, "olga", "wrong password").status_code == 401
    typed = "Zlatoslava-my-real-passw0rd"  # a password typed into the username field
    assert _login(api, typed, "wrong password").status_code == 401
    failed = _events(rt, "auth.failed")
    assert len(failed) == 2
    assert failed[0].object_type == "staff" and failed[0].object_id == str(olga.id)
    assert failed[0].details["role"] == "operator" and failed[0].details["failed_logins"] == 1
    assert failed[1].object_id == "unknown" and failed[1].details["account"] == "unknown"
    for _ in range(9):
        _login(api, "olga", "wrong password")
    [locked] = _events(rt, "auth.locked")
    assert locked.object_id == str(olga.id) and locked.details["failed_logins"] == 10
    assert locked.details["locked_minutes"] == 15
    _login(api, "olga", PASSWORD)  # refused while locked: audited too
    assert _events(rt, "auth.failed")[-1].details["reason"] == "locked"
    with Session(rt.engine) as s:
        everything = " ".join(f"{e.actor} {e.object_id} {e.details}" for e in s.exec(select(AuditEvent)))
        assert audit.verify(s).ok
    assert "Zlatoslava" not in everything and "passw0rd" not in everything and "wrong password" not in everything


@pytest.mark.parametrize("username", ["olga", "nobody"])
def test_concurrent_wrong_passwords_are_counted_exactly(api, rt, username):
    staff.add_user(rt, "olga", "operator", PASSWORD)

    def attempt(_: int) -> str:
        try:
            staff.issue_token(rt, username, "wrong password")
        except Unauthorized:
            return "401"
        return "200"

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(attempt, range(8))) == ["401"] * 8
    with Session(rt.engine) as s:
        if username == "olga":
            user = s.exec(select(Staff).where(Staff.username == "olga")).one()
            assert user.failed_logins == 8 and user.locked_until is None
        else:
            assert s.exec(select(LoginFailure)).one().failed_logins == 8
    assert len(_events(rt, "auth.failed")) == 8
    for _ in range(2):
        with pytest.raises(Unauthorized):
            staff.issue_token(rt, username, "wrong password")
    with pytest.raises(staff.SignInLocked):
        staff.issue_token(rt, username, PASSWORD)
