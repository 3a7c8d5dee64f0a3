"""The operating contract of the `alertsvc` command (API.md, "Running it")."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from alertsvc.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _run(settings, *args, input=None):  # noqa: ANN001, A002
    env = {"ALERTSVC_DATABASE_URL": settings.database.url, "ALERTSVC_SECURITY_ARGON2_MEMORY_KIB": "1024",
           "ALERTSVC_SECURITY_ARGON2_TIME_COST": "1"}
    return CliRunner().invoke(main, list(args), env=env, input=input)


def test_users_add_reads_the_password_from_stdin(settings, api):
    r = _run(settings, "users", "add", "vesna", "--role", "supervisor", "--password-stdin",
             input="a long enough password\n")
    assert r.exit_code == 0, r.output
    token = api.client.post("/api/v1/auth/token", json={"username": "vesna", "password": "a long enough password"})
    assert token.status_code == 200


def test_users_add_failures_exit_1_with_one_line(settings, api):
    assert _run(settings, "users", "add", "vesna", "--role", "operator", "--password-stdin",
                input="a long enough password\n").exit_code == 0
    again = _run(settings, "users", "add", "vesna", "--role", "operator", "--password-stdin",
                 input="a long enough password\n")
    assert again.exit_code == 1 and "already exists" in again.output
    short = _run(settings, "users", "add", "vera", "--role", "operator", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "password" in short.output


def test_usage_errors_exit_2(settings):
    assert _run(settings, "users", "add", "x", "--role", "king", "--password-stdin").exit_code == 2
    assert _run(settings, "no-such-command").exit_code == 2


def test_bad_config_exits_1_naming_the_key(settings):
    r = CliRunner().invoke(main, ["audit", "verify"], env={"ALERTSVC_FATIGUE_TERRITORY_MAX_ALERTS": "0"})
    assert r.exit_code == 1 and "fatigue.territory_max_alerts" in r.output


def test_demo_loads_once_and_never_into_a_database_with_cases(settings, api):
    first = _run(settings, "demo")
    assert first.exit_code == 0, first.output
    assert "marko" in first.output and "ana" in first.output
    token = api.client.post("/api/v1/auth/token", json={"username": "ana", "password": "ana-operator-demo"})
    assert token.status_code == 200
    second = _run(settings, "demo")
    assert second.exit_code == 1 and "already has cases" in second.output
    assert _run(settings, "demo", "--if-empty").exit_code == 0


def test_criteria_check_explains_problems(tmp_path, settings):
    ok = _run(settings, "criteria", "check", str(ROOT / "criteria/profiles/expanded.toml"))
    assert ok.exit_code == 0 and "ok" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\ntitle = "t"\n[[criteria]]\nid = "a"\ntext = "t"\nrule = "no_such_rule"\nparams = {}\n')
    r = _run(settings, "criteria", "check", str(bad))
    assert r.exit_code == 1 and "no_such_rule" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_serve_runs_gunicorn_and_migrates_first(tmp_path, database, request):
    if database == "sqlite":
        url = f"sqlite:///{tmp_path}/served.db"
    else:
        from sqlalchemy import create_engine

        url = request.getfixturevalue("pg_url")
        eng = create_engine(url)
        with eng.begin() as conn:  # start from an empty schema: serve must migrate it
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        eng.dispose()
    port = _free_port()
    env = {**os.environ, "ALERTSVC_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--port", str(port), "--workers", "1",
                             "--no-worker"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2) as resp:
                    body = json.load(resp)
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(proc.stdout.read().decode())
                time.sleep(0.2)
        assert body is not None and "/api/v1/cases" in body["paths"]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/token", method="POST",
                                     data=b'{"username":"nobody","password":"x"}',
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=5)
        assert info.value.code == 401 and info.value.headers["Content-Type"] == "application/problem+json"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if database == "postgresql":  # leave the per-worker database migrated for the tests that follow
        from alertsvc.db import make_engine
        from alertsvc.migrate import upgrade

        eng = make_engine(url)
        upgrade(eng)
        eng.dispose()
