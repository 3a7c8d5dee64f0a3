"""Citizens' pages in a real browser: Debian's Chromium driven by Playwright, against the real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from babel.support import Translations

import alertsvc
from alertsvc.db import make_engine
from alertsvc.migrate import upgrade
from alertsvc.runtime import build_runtime
from alertsvc.settings import Settings

from ..helpers import add_subscriber

CHROMIUM = "/usr/bin/chromium"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ALERTSVC_DATABASE_URL": f"sqlite:///{tmp_path}/web.db", "ALERTSVC_SERVER_BASE_URL": base,
           "ALERTSVC_SECURITY_SECRET_KEY": "browser-test-secret-0123456789-abcdefghij",
           "ALERTSVC_CHANNELS_FILE_PATH": str(tmp_path / "outbox.jsonl")}
    settings = Settings().with_overrides({"database.url": env["ALERTSVC_DATABASE_URL"], "server.base_url": base,
                                          "security.secret_key": env["ALERTSVC_SECURITY_SECRET_KEY"],
                                          "channels.file.path": env["ALERTSVC_CHANNELS_FILE_PATH"]})
    engine = make_engine(settings.database.url)
    upgrade(engine)
    rt = build_runtime(settings, engine=engine)
    proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--port", str(port), "--workers", "1",
                             "--no-worker"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(proc.stderr.read().decode()[-2000:])
    yield rt, base
    proc.terminate()
    proc.wait(timeout=20)
    engine.dispose()


@pytest.fixture
def page(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests (scripts/test-setup.sh installs it)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
    yield browser.new_page()
    browser.close()


def test_unsubscribe_page_in_cyrillic_with_one_button(served, page, tmp_path):
    from sqlmodel import Session

    from alertsvc.models import Subscription
    from alertsvc.unsubscribe import unsubscribe_url

    rt, _base = served
    cyrl = _catalogue("sr_Cyrl")  # the page speaks the subscription's language, from the written catalogue
    sub_id = add_subscriber(rt, "+381641234567", language="sr-Cyrl")
    page.goto(unsubscribe_url(rt, sub_id))
    assert page.locator("html").get_attribute("lang") == "sr-Cyrl"
    assert page.title().startswith(cyrl.gettext("Unsubscribe from alerts"))
    page.get_by_role("button", name=cyrl.gettext("Unsubscribe"), exact=True).click()
    page.wait_for_load_state()
    assert cyrl.gettext("You are unsubscribed. Your address has been deleted and you will get no more messages for "
                        "this subscription.") in page.get_by_role("status").inner_text()
    page.screenshot(path=str(tmp_path / "unsubscribed.png"))
    with Session(rt.engine) as s:
        sub = s.get(Subscription, sub_id)
        assert sub.status == "unsubscribed" and sub.address is None
    page.goto(unsubscribe_url(rt, sub_id))  # a second visit says it is already done, no button
    assert page.get_by_role("button", name=cyrl.gettext("Unsubscribe"), exact=True).count() == 0
    assert page.get_by_role("status").inner_text() == cyrl.gettext("This subscription has already ended.")


def _catalogue(locale: str) -> Translations:
    return Translations.load(str(Path(alertsvc.__file__).parent / "translations"), [locale])
