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


def _run(settings, *args, input=None):
    env = {"ALERTSVC_DATABASE_URL": settings.database.url, "ALERTSVC_SECURITY_ARGON2_MEMORY_KIB": "1024",
           "ALERTSVC_SECURITY_ARGON2_TIME_COST": "1",
           "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value()}  # PostgreSQL needs one
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
    token = api.client.post("/api/v1/auth/token", json={"username": "ana", "password": "linden-operator-demo"})
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
    if database == "postgresql":  # PostgreSQL needs a configured key (SQLite generates one beside the database)
        env["ALERTSVC_SECURITY_SECRET_KEY"] = "serve-test-secret-0123456789-abcdefghijkl"
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


def _one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def _serve_refused(cwd: Path, env: dict[str, str], *args: str) -> str:
    """Run `alertsvc serve` as an operator does and return its one-line refusal. (In a session of its own, so that
    a server that did start is stopped whole and the test fails instead of hanging.)"""
    proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--no-worker", "--port",
                             str(_free_port()), *args], cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail("alertsvc serve started")
    assert proc.returncode == 1 and out == "", (out, err)
    return _one_line(err)


def test_published_secret_key_stops_serve_and_every_command_with_one_line(settings, tmp_path):
    env = {"ALERTSVC_DATABASE_URL": settings.database.url, "ALERTSVC_SECURITY_SECRET_KEY": "dev-insecure-change-me"}
    assert _serve_refused(tmp_path, env).startswith(
        "alertsvc: config: security.secret_key: is a published example value")
    for args in (["audit", "verify"], ["db", "upgrade"]):
        r = CliRunner().invoke(main, args, env=env)
        assert r.exit_code == 1, r.output
        assert _one_line(r.output).startswith("alertsvc: config: security.secret_key: is a published example value")


def test_postgresql_without_a_secret_key_stops_with_one_line(pg_url, tmp_path):
    line = _serve_refused(tmp_path, {"ALERTSVC_DATABASE_URL": pg_url})
    assert line.startswith("alertsvc: config: security.secret_key: is empty; with PostgreSQL")
    assert "ALERTSVC_SECURITY_SECRET_KEY" in line
    r = CliRunner().invoke(main, ["audit", "verify"], env={"ALERTSVC_DATABASE_URL": pg_url})
    assert r.exit_code == 1 and _one_line(r.output) == line


def test_serve_refuses_per_process_rate_limits_with_several_workers(settings, tmp_path):
    env = {"ALERTSVC_DATABASE_URL": settings.database.url, "ALERTSVC_RATELIMIT_STORAGE_URI": "memory://",
           "ALERTSVC_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value()}
    line = _serve_refused(tmp_path, env, "--workers", "2")
    assert line.startswith("alertsvc: ratelimit.storage_uri: memory:// counts per process")
    assert "redis://" in line and "empty" in line
