"""Staff passwords: common and trivially weak ones are refused with a clear message (services/staff.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from alertsvc.cli import main
from alertsvc.demo import DEMO_STAFF
from alertsvc.errors import ValidationFailed
from alertsvc.services import staff

from ..helpers import PASSWORD, STAFF

REFUSED = [
    ("          ", "must not be blank"),                       # ten spaces
    ("   short   ", "at least 10 characters"),                  # long enough only with its spaces
    ("1234567890", "too easy to guess (a sequence)"),
    ("abcdefghij", "too easy to guess (a sequence)"),
    ("0987654321", "too easy to guess (a sequence)"),
    ("qwertyuiop", "too easy to guess"),
    ("zzzzzzzzzzzz", "too easy to guess (one character repeated)"),
    ("password12", "too easy to guess (a common password)"),
    ("Password123!", "too easy to guess"),
    ("iloveyou2024", "too easy to guess"),
    ("vesna-is-my-login-2026", "must not contain the username"),
]


@pytest.mark.parametrize(("password", "reason"), REFUSED)
def test_weak_passwords_are_refused_with_a_reason(rt, password, reason):
    with pytest.raises(ValidationFailed) as info:
        staff.add_user(rt, "vesna", "supervisor", password)
    [error] = info.value.errors
    assert error["field"] == "password" and reason in error["message"], error


@pytest.mark.parametrize("password", ["1234567890", "password12", "          "])
def test_users_add_refuses_them_with_one_line(settings, password):
    env = {"ALERTSVC_DATABASE_URL": settings.database.url, "ALERTSVC_SECURITY_ARGON2_MEMORY_KIB": "1024",
           "ALERTSVC_SECURITY_ARGON2_TIME_COST": "1",
           "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value()}
    r = CliRunner().invoke(main, ["users", "add", "vesna", "--role", "operator", "--password-stdin"], env=env,
                           input=password + "\n")
    assert r.exit_code == 1
    [line] = [x for x in r.output.splitlines() if x.strip()]
    assert line.startswith("alertsvc: password: ")
    assert "use a longer phrase" in line or "must not be blank" in line


def test_a_good_passphrase_is_accepted(rt, api):
    user = staff.add_user(rt, "vesna", "supervisor", "lantern orchard quietly 42")
    assert user.username == "vesna"
    r = api.client.post("/api/v1/auth/token", json={"username": "vesna", "password": "lantern orchard quietly 42"})
    assert r.status_code == 200


def test_demo_and_test_passwords_pass_the_rule():
    for username, _, password in DEMO_STAFF:
        assert staff.password_problem(password, username, 10) is None, username
    for username, _ in STAFF.values():
        assert staff.password_problem(PASSWORD, username, 10) is None, username
