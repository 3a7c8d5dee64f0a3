"""Fixtures of the browser tests: one server and one Chromium per session (per xdist worker), demo data made
through the JSON API, and a guarded ``page`` per test. The helpers are in tests/browser/harness.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from ..helpers import add_subscriber, case_payload
from .harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LANGUAGES,
    Served,
    add_staff,
    api_call,
    api_token,
    close_guarded_page,
    fail_on,
    guard_of,
    new_guarded_page,
    require_tools,
    set_language,
    sign_in,
    start_server,
)

BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}
# The settings of every server of the browser tests (``served``, and the story's own in test_story.py): short staff
# sessions (6 idle minutes, the minimum: the expiry warning comes 5 minutes before the end), cheap password hashing,
# and sign-in and subscribe rate limits that a whole run of tests from one address stays under.
SERVER_SETTINGS = {"ALERTSVC_SECURITY_SESSION_IDLE_MINUTES": "6",
                   "ALERTSVC_SECURITY_ARGON2_TIME_COST": "1", "ALERTSVC_SECURITY_ARGON2_MEMORY_KIB": "8192",
                   "ALERTSVC_RATELIMIT_TOKEN_PER_IP": "1000/minute",
                   "ALERTSVC_RATELIMIT_SUBSCRIBE_PER_IP": "1000/hour",
                   "ALERTSVC_RATELIMIT_SUBSCRIBE_PER_ADDRESS": "1000/hour"}


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``alertsvc serve`` with every staff account of tests/helpers.py STAFF. Short staff sessions (6 idle
    minutes, the minimum: the expiry warning comes 5 minutes before the end), cheap password hashing, and a sign-in
    and subscribe rate limits that a whole run of tests from one address stays under."""
    require_tools()
    server = start_server(tmp_path_factory.mktemp("browser-server"), **SERVER_SETTINGS)
    try:
        add_staff(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo(served: Served) -> dict[str, Any]:
    """What the pages show, made as clients make it: a subscriber per language (and the unsubscribe link of
    each), cases through the JSON API with bearer tokens, an alert pending approval, an active alert (requested
    by an operator, approved by a supervisor) and an ended one. Keys: ``case``, ``pending_alert``, ``alert``,
    ``ended_alert``, ``unsubscribe`` (language -> path), ``pending_subscription`` (waiting for its code)."""
    from alertsvc.services import subscriptions
    from alertsvc.unsubscribe import unsubscribe_url

    rt = served.rt
    unsubscribe = {}
    for i, lang in enumerate(LANGUAGES):
        sub_id = add_subscriber(rt, f"+38164555000{i}", language=lang)
        unsubscribe[lang] = unsubscribe_url(rt, sub_id).removeprefix(served.base)
    pending_subscription = subscriptions.request_subscription(rt, "sms", "+381645559999", "en", BELGRADE)
    operator, supervisor = api_token(served, "operator"), api_token(served, "supervisor")
    now = datetime.now(UTC)

    def alert(approve: bool) -> tuple[str, str]:
        case = api_call(served, "POST", "/api/v1/cases", case_payload(now), operator)["id"]
        requested = api_call(served, "POST", f"/api/v1/cases/{case}/alerts", {"area": BELGRADE}, operator)
        if approve:
            body = {"reason": "Meets the profile; area is the plausible travel radius.",
                    "checklist": {item["id"]: True for item in requested["brief"]["approval_checklist"]}}
            api_call(served, "POST", f"/api/v1/alerts/{requested['id']}/approve", body, supervisor)
        return case, requested["id"]

    case, active = alert(approve=True)
    _, ended = alert(approve=True)
    api_call(served, "POST", f"/api/v1/alerts/{ended}/resolve", {"outcome": "found"}, operator)
    _, pending = alert(approve=False)
    return {"case": case, "alert": active, "ended_alert": ended, "pending_alert": pending,
            "unsubscribe": unsubscribe, "pending_subscription": pending_subscription}


@pytest.fixture(scope="session")
def chromium(served: Served, playwright: Playwright) -> Iterator[Browser]:
    """One headless Debian Chromium for the session (never a browser downloaded by `playwright install`)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(chromium: Browser, served: Served) -> Iterator[Callable[..., Page]]:
    """``new_page(**context_options)``: another guarded page in a context of its own (e.g.
    ``java_script_enabled=False``); each is checked and closed at teardown."""
    opened: list[tuple[BrowserContext, Page]] = []

    def make(**options: Any) -> Page:
        context, page = new_guarded_page(chromium, served.base, **options)
        opened.append((context, page))
        return page

    yield make
    problems = [p for context, page in opened for p in close_guarded_page(context, page)]
    fail_on(problems, "the page broke the browser guards")


@pytest.fixture(scope="session")
def _shared_pages(chromium: Browser, served: Served) -> Iterator[dict[tuple[str | None, str], Page]]:
    pages: dict[tuple[str | None, str], Page] = {}
    yield pages
    for page in pages.values():
        close_guarded_page(page.context, page)


SESSION_REFRESH = 120  # seconds: a shared page's session is refreshed when it was last looked at longer ago
_last_sign_in: dict[tuple[str | None, str], float] = {}


@pytest.fixture
def shared_page(_shared_pages: dict[tuple[str | None, str], Page], chromium: Browser,
                served: Served) -> Iterator[Callable[[str | None, str], Page]]:
    """``shared_page(role, lang)``: a guarded page kept for the whole session, one per (role, language): the
    language cookie set and, with a role, signed in. For tests that only look at pages (the page table): it saves
    a context and a sign-in per test. Its guard starts empty for each test and is checked at teardown."""
    used: list[Page] = []

    def get(role: str | None, lang: str) -> Page:
        if (role, lang) not in _shared_pages:
            _context, page = new_guarded_page(chromium, served.base)
            set_language(page, lang)
            _shared_pages[role, lang] = page
            _last_sign_in[role, lang] = 0.0
        page = _shared_pages[role, lang]
        if role and time.monotonic() - _last_sign_in[role, lang] > SESSION_REFRESH:
            sign_in(page, role)  # signs in, or (still signed in) slides the session: it ends after 6 idle minutes
            _last_sign_in[role, lang] = time.monotonic()
            fail_on(guard_of(page).unreported(), f"signing in as {role} ({lang})")
        guard = guard_of(page)
        late = guard.unreported()  # what arrived after the previous test on this page had been checked
        guard.reset()
        fail_on(late, f"left over from the previous test on the shared page ({page.url})")
        guard.lang = lang
        used.append(page)
        return page

    yield get
    fail_on([p for page in used for p in guard_of(page).unreported()], "the page broke the browser guards")


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A guarded page in a fresh context (no cookies), 1280 x 800, base URL = the served app. The test fails at
    teardown on any console error, uncaught page error, or request to another host, with the list."""
    return new_page()
