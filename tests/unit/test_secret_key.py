"""security.secret_key: no published or short key is ever used; empty means a generated key kept beside an SQLite
database (and an error with PostgreSQL). The key is settled once, where the Runtime is built."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from alertsvc.runtime import build_runtime
from alertsvc.settings import ConfigError, load_settings, resolve_secret_key

ROOT = Path(__file__).resolve().parents[2]
GOOD = "unit-test-secret-0123456789-abcdefghijklmnop"


@pytest.mark.parametrize("key", ["dev-insecure-change-me", " dev-insecure-change-me "])
def test_published_key_is_refused_with_one_line_naming_the_key(key):
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={"ALERTSVC_SECURITY_SECRET_KEY": key})
    message = str(info.value)
    assert message.startswith("config: security.secret_key: ") and "published" in message
    assert "\n" not in message and "ALERTSVC_SECURITY_SECRET_KEY" in message


def test_short_key_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={"ALERTSVC_SECURITY_SECRET_KEY": "only-31-characters-long-abcdefg"})
    message = str(info.value)
    assert message.startswith("config: security.secret_key: ") and "32 characters" in message
    assert "only-31" not in message and "\n" not in message


def test_repetitive_key_is_refused():
    with pytest.raises(ConfigError, match="security.secret_key: is too repetitive"):
        load_settings(None, environ={"ALERTSVC_SECURITY_SECRET_KEY": "ab" * 40})


def test_config_example_holds_no_usable_key():
    settings = load_settings(ROOT / "config.example.toml", environ={})
    assert settings.security.secret_key.get_secret_value() == ""


def test_generated_key_is_persisted_beside_the_database_and_reused(tmp_path):
    env = {"ALERTSVC_DATABASE_URL": f"sqlite:///{tmp_path}/data/alertsvc.db"}
    first = build_runtime(load_settings(None, environ=env))
    key = first.settings.security.secret_key.get_secret_value()
    path = tmp_path / "data" / "secret_key"
    assert len(key) >= 32 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = build_runtime(load_settings(None, environ=env))  # a later start: the same key
    assert second.settings.security.secret_key.get_secret_value() == key
    assert first.keyed_hash("unsubscribe", "x") == second.keyed_hash("unsubscribe", "x")
    from alertsvc.app import create_app

    app = create_app(load_settings(None, environ=env))  # gunicorn workers build their app the same way
    assert app.config["SECRET_KEY"] == key and app.extensions["alertsvc"].settings.security.secret_key \
        .get_secret_value() == key
    first.engine.dispose()
    second.engine.dispose()
    app.extensions["alertsvc"].engine.dispose()


def test_embedded_default_keeps_the_key_in_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = resolve_secret_key(load_settings(None, environ={}))  # sqlite:///var/alertsvc.db
    assert (tmp_path / "var" / "secret_key").read_text().strip() == settings.security.secret_key.get_secret_value()


def test_concurrent_first_starts_agree_on_one_key(tmp_path):
    settings = load_settings(None, environ={"ALERTSVC_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(resolve_secret_key(settings).security.secret_key.get_secret_value())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir() if "secret" in p.name] == ["secret_key"]  # no temporary file left


def test_a_bad_key_file_is_refused(tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    settings = load_settings(None, environ={"ALERTSVC_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    with pytest.raises(ConfigError, match="config: security.secret_key: the key in .*secret_key is shorter"):
        resolve_secret_key(settings)


def test_configured_key_is_used_as_it_is(tmp_path):
    settings = load_settings(None, environ={"ALERTSVC_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                                            "ALERTSVC_SECURITY_SECRET_KEY": GOOD})
    assert resolve_secret_key(settings) is settings
    assert not (tmp_path / "secret_key").exists()


def test_postgresql_with_an_empty_key_is_refused():
    settings = load_settings(None, environ={"ALERTSVC_DATABASE_URL": "postgresql://postgres@127.0.0.1/alertsvc"})
    with pytest.raises(ConfigError) as info:
        build_runtime(settings)
    message = str(info.value)
    assert message.startswith("config: security.secret_key: ") and "PostgreSQL" in message
    assert "ALERTSVC_SECURITY_SECRET_KEY" in message and "\n" not in message
    ok = settings.with_overrides({"security.secret_key": GOOD})
    assert resolve_secret_key(ok) is ok
