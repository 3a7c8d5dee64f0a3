from __future__ import annotations

import re
from pathlib import Path

import pytest

from alertsvc.settings import ENV_KEYS, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_default_is_sqlite_and_file_channel():
    s = load_settings(None, environ={})
    assert s.database.url == "sqlite:///var/alertsvc.db"
    assert s.channels.file.enabled and s.channels.file.path == "var/outbox.jsonl"
    assert s.criteria.profile == "abduction"


def test_toml_then_environment(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[fatigue]\nterritory_max_alerts = 7\n[channels.sms]\nauth_token = "from-file"\n')
    s = load_settings(cfg, environ={"ALERTSVC_CHANNELS_SMS_AUTH_TOKEN": "from-env",
                                    "ALERTSVC_FATIGUE_SUBSCRIBER_MAX_MESSAGES": "9"})
    assert s.fatigue.territory_max_alerts == 7
    assert s.fatigue.subscriber_max_messages == 9
    assert s.channels.sms.auth_token.get_secret_value() == "from-env"
    assert "from-env" not in repr(s)  # secrets are not printed


def test_config_file_from_environment_variable(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[criteria]\nprofile = "expanded"\n')
    assert load_settings(None, environ={"ALERTSVC_CONFIG": str(cfg)}).criteria.profile == "expanded"


def test_postgres_url_gets_the_psycopg_driver():
    s = load_settings(None, environ={"ALERTSVC_DATABASE_URL": "postgresql://u@h/db"})
    assert s.database.url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(("env", "key"), [
    ({"ALERTSVC_FATIGUE_TERRITORY_MAX_ALERTS": "0"}, "fatigue.territory_max_alerts"),
    ({"ALERTSVC_FATIGUE_TERRITORY_MAX_ALERTS": "many"}, "fatigue.territory_max_alerts"),
    ({"ALERTSVC_SERVER_BASE_URL": "example.org"}, "server.base_url"),
    ({"ALERTSVC_DATABASE_URL": "mysql://x"}, "database.url"),
    ({"ALERTSVC_CHANNELS_EMAIL_PORT": "99999"}, "channels.email.port"),
    ({"ALERTSVC_DATABASE_AUTO_MIGRATE": "perhaps"}, "database.auto_migrate"),
    ({"ALERTSVC_NOPE_KEY": "1"}, "ALERTSVC_NOPE_KEY"),
])
def test_bad_values_stop_with_one_line_naming_the_key(env, key):
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ=env)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_unknown_key_in_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[fatigue]\nterritory_max = 3\n")
    with pytest.raises(ConfigError, match="fatigue.territory_max: unknown key"):
        load_settings(cfg, environ={})


def test_invalid_toml(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[server\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(cfg, environ={})


def test_config_example_documents_every_key_and_loads():
    text = (ROOT / "config.example.toml").read_text()
    settings = load_settings(ROOT / "config.example.toml", environ={})
    assert isinstance(settings, Settings)
    section = None
    documented = set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if m := re.match(r"^\[([a-z_.]+)\]", line):
            section = m.group(1)
        elif m := re.match(r"^#?\s*([a-z_0-9]+)\s*=", line):
            if section is None:
                continue
            documented.add(f"{section}.{m.group(1)}")
            # every key has a comment on the line(s) above it or at the end of its line
            assert "#" in line.split("=", 1)[1] or lines[i - 1].lstrip().startswith("#"), line
    expected = {".".join(path).lower() for path in ENV_KEYS.values()}
    assert expected - documented == set()


def test_channels_come_from_entry_points_and_file_stands_in(tmp_path):
    from alertsvc.runtime import build_channels
    from channels import ChannelConfigError
    from channels.file import FileChannel

    s = Settings().with_overrides({"channels.file.path": str(tmp_path / "out.jsonl")})
    built = build_channels(s)
    assert isinstance(built["sms"], FileChannel) and built["sms"] is built["email"]
    # any installed entry point can be the transport: the in-memory one is found and handed the sms section
    # (which it refuses, strictly, since Twilio's keys mean nothing to it)
    with pytest.raises(ChannelConfigError, match="channels.memory: unknown option"):
        build_channels(s.with_overrides({"channels.sms.enabled": True, "channels.sms.transport": "memory"}))
    with pytest.raises(ValueError, match="channels.sms.transport"):
        build_channels(s.with_overrides({"channels.sms.enabled": True, "channels.sms.transport": "pigeon"}))


def test_the_suite_and_the_benches_keep_their_own_variables():
    from alertsvc.settings import load_settings

    s = load_settings(environ={"ALERTSVC_BENCH_PG": "postgresql://x", "ALERTSVC_TEST_DATABASES": "sqlite",
                               "ALERTSVC_FATIGUE_TERRITORY_MAX_ALERTS": "2"})
    assert s.fatigue.territory_max_alerts == 2
