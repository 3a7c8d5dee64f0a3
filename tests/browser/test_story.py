"""The whole story in Chromium, as the people in it live it, each in a browser context of their own:

1. a citizen subscribes through the pages (email, Serbian Latin, the district of Belgrade) and confirms with the
   code the file channel wrote to the outbox;
2. an operator signs in, opens a case that meets the abduction profile and requests an alert for the district;
3. a supervisor (a second context) finds it in the queue, ticks the checklist and the reach, gives a reason and
   approves it;
4. ``alertsvc worker --once`` sends what is due: the outbox holds the alert for the citizen's address; the citizen
   opens the public page from the message's link, then its unsubscribe link, and presses the one button.

Every page passed through gets ``check_page`` (axe at 390 and 1280 px, the console conventions, screenshots
``story-*``, the guards: a console error or a request to another host fails the story). The intake and the
approval again with JavaScript off (contexts with ``java_script_enabled=False``): "Check criteria" posts the form
and the server fills the panel; the pages get the console conventions, screenshots and the guards (axe needs
JavaScript).

The story runs on a server of its own (module-scoped, its own SQLite database and outbox, the settings of
``served``): the shared server's demo alerts would use up Belgrade's fatigue budget, and the worker would send the
demo's deliveries too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from . import harness
from .conftest import SERVER_SETTINGS
from .harness import (
    Served,
    add_staff,
    check_page,
    close_guarded_page,
    fail_on,
    guard_of,
    new_guarded_page,
    require_tools,
    screenshot,
    set_language,
    sign_in,
    start_server,
    structure_problems,
)

BELGRADE_TZ = ZoneInfo("Europe/Belgrade")
DISTRICT = "RS-00"  # Grad Beograd
CHILD = "Milica Testović"
APPROVE = "main form[data-testid=decision-form] button[name=decision][value=approve]"
OPEN_CASE = "main form button[name=action][value=open]"
CHECK_CRITERIA = "main form button[name=action][value=check]"  # the intake's panel button (its first button)
CONTINUE = "main form button[name=action][value=check]"  # the alert request form's only check button
REQUEST = "main form button[name=action][value=request]"
WORKER_TIMEOUT = 60  # seconds
OUTBOX_WAIT = 10  # seconds


# --- the server, the worker, the outbox -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``alertsvc serve --no-worker`` of the story's own, with every staff account (see the module's docstring);
    deliveries are sent by ``run_worker_once``."""
    require_tools()
    server = start_server(tmp_path_factory.mktemp("story-server"), **SERVER_SETTINGS)
    try:
        add_staff(server)
        yield server
    finally:
        server.stop()
        if server.log in harness._SERVER_LOGS:  # server_log_tail() is the shared server's again
            harness._SERVER_LOGS.remove(server.log)


@pytest.fixture
def story_page(chromium: Browser, story: Served) -> Iterator[Callable[..., Page]]:
    """``story_page(**context_options)``: a guarded page on the story's server in a context of its own (its own
    cookies: one person); every one is checked and closed at teardown (as conftest's ``new_page``)."""
    opened: list[tuple[BrowserContext, Page]] = []

    def make(**options: Any) -> Page:
        context, page = new_guarded_page(chromium, story.base, **options)
        opened.append((context, page))
        return page

    yield make
    problems = [p for context, page in opened for p in close_guarded_page(context, page)]
    fail_on(problems, "a page of the story broke the browser guards")


def outbox(server: Served) -> Path:
    return Path(server.env["ALERTSVC_CHANNELS_FILE_PATH"])


def wait_for_message(server: Served, address: str, kind: str) -> dict[str, Any]:
    """The one line of the outbox to ``address`` of ``kind`` (polled for up to ``OUTBOX_WAIT`` seconds)."""
    path = outbox(server)
    deadline = time.monotonic() + OUTBOX_WAIT
    seen: list[dict[str, Any]] = []
    while True:
        seen = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
        found = [r for r in seen if r.get("address") == address and r.get("kind") == kind]
        if found:
            assert len(found) == 1, f"{len(found)} {kind} messages to {address} in the outbox: {found}"
            return found[0]
        if time.monotonic() > deadline:
            kinds = [(r.get("kind"), r.get("channel")) for r in seen]
            pytest.fail(f"no {kind} message to {address} in {path} after {OUTBOX_WAIT} s; the outbox holds "
                        f"{kinds}\n{server.log_tail(1500)}", pytrace=False)
        time.sleep(0.1)


def run_worker_once(server: Served) -> int:
    """``alertsvc worker --once`` against the server's database and settings: sends what is due, then exits. How
    many deliveries it sent."""
    done = subprocess.run([sys.executable, "-m", "alertsvc.cli", "worker", "--once"], env=server.env,
                          cwd=server.log.parent, capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    assert done.returncode == 0, f"alertsvc worker --once: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    sent = re.search(r"sent (\d+) deliveries", done.stdout)
    assert sent, f"alertsvc worker --once said: {done.stdout!r} {done.stderr[-1500:]!r}"
    return int(sent.group(1))


# --- page steps -----------------------------------------------------------------------------------------------
def follow(page: Page, selector: str) -> Response:
    """Clicks a link or presses a button and waits for the page it leads to; fails on an error status."""
    with page.expect_navigation() as nav:
        page.locator(selector).first.click()
    response = nav.value
    assert response is not None, f"{selector}: no response"
    assert response.ok, f"{selector} led to {response.url}: {response.status}\n{harness.server_log_tail(2000)}"
    return response


def look(page: Page, name: str) -> None:
    """Every check a page of the story gets: with JavaScript, ``check_page`` (axe, conventions, screenshots, guards);
    without, the conventions, the screenshots and the guards (axe runs in the page: it needs JavaScript)."""
    guard = guard_of(page)
    if guard.javascript:
        check_page(page, name, expect_errors=False)
        return
    lang = guard.lang or "sr-Latn"
    problems = structure_problems(page, lang)
    if page.locator(".govuk-error-summary").count():
        problems.append("unexpected error summary: " + page.locator(".govuk-error-summary").inner_text())
    if "js-enabled" in (page.locator("body").get_attribute("class") or ""):
        problems.append("a script ran in a context without JavaScript")
    screenshot(page, name, lang)
    problems += guard.unreported()
    fail_on(problems, f"page {name!r} ({lang}, JavaScript off, {page.url})")


def subscribe(page: Page, server: Served, address: str) -> str:
    """The citizen's part before the alert: home, Subscribe, the form, the code from the outbox, done. The
    subscription's id."""
    response = page.goto("/")
    assert response is not None and response.ok
    look(page, "story-home")
    follow(page, "main a.govuk-button--start[href$='/subscribe']")
    page.wait_for_url(re.compile(r"/subscribe$"))
    page.check("input[name=channel][value=email]")
    expect(page.locator("#email")).to_be_visible()  # revealed by the channel chosen
    page.fill("#email", address)
    page.check("input[name=language][value=sr-Latn]")
    page.check("input[name=area_kind][value=regions]")
    page.check(f"input[name=regions][value={DISTRICT}]")
    look(page, "story-subscribe")
    follow(page, "main form button[type=submit]")
    page.wait_for_url(re.compile(r"/subscribe/[^/]+/confirm$"))
    sub_id = page.url.rsplit("/", 2)[-2]
    look(page, "story-subscribe-confirm")

    message = wait_for_message(server, address, "confirmation")
    assert message["channel"] == "email", message
    code = re.search(r"\b(\d{6})\b", message["text"])
    assert code, f"no 6-digit code in the confirmation message: {message['text']!r}"
    assert code.group(1) in (message.get("subject") or ""), message
    page.fill("#code", code.group(1))
    follow(page, "main form button[type=submit]")
    page.wait_for_url(re.compile(r"/subscribe/done$"))
    look(page, "story-subscribe-done")
    return sub_id


def open_case(page: Page, prefix: str) -> str:
    """The operator (signed in, on the queue): New case, the facts of a case that meets the abduction profile
    (tests/helpers.py case_payload), the criteria panel, Open case. The case's id."""
    look(page, f"{prefix}-queue")
    follow(page, "main a[href$='/console/cases/new']")
    page.wait_for_url(re.compile(r"/console/cases/new$"))
    seen = datetime.now(BELGRADE_TZ) - timedelta(hours=1)
    page.fill("#child_age", "9")
    page.fill("#child_name", CHILD)
    page.check("input[name=child_sex][value=f]")
    page.fill("#child_description", "Plava jakna, roze ranac.")
    page.fill("#last_seen_date", seen.date().isoformat())
    page.fill("#last_seen_time", seen.strftime("%H:%M"))
    page.select_option("#last_seen_district", DISTRICT)
    page.fill("#last_seen_place", "Knez Mihailova 1, Beograd")
    page.fill("#last_seen_lat", "44.8125")
    page.fill("#last_seen_lon", "20.4612")
    for fact in ("circumstances_abduction_suspected", "circumstances_abduction_witnessed",
                 "circumstances_imminent_danger", "police_confirmed"):
        page.check(f"input[name={fact}][value=yes]")
    page.check("input[name=circumstances_medical_or_disability][value=no]")
    page.fill("#circumstances_suspect", "Muškarac, oko 40 godina")
    page.fill("#circumstances_vehicle", "Sivi karavan")
    page.fill("#circumstances_plate", "BG-123-AB")
    page.fill("#police_reference", "PU-BG-2026-77")
    page.fill("#reporter_name", "Jovana Testović")
    page.fill("#reporter_phone", "+381 64 1234567")

    panel = page.locator("[data-criteria-panel]")
    met_all = panel.get_attribute("data-label-met-all")
    summary = panel.locator("[data-criteria-summary]")
    if guard_of(page).javascript:
        # intake.js checks the facts as they are typed (POST /api/v1/criteria/evaluate), the page stays
        expect(summary).to_have_text(met_all or "")
        url = page.url
        with page.expect_response(lambda r: r.url.endswith("/api/v1/criteria/evaluate")) as checked:
            page.locator(CHECK_CRITERIA).click()  # the same check, without leaving the page
        assert checked.value.ok, checked.value.status
        assert page.url == url
    else:
        # the server fills the panel: the form comes back with every value typed
        follow(page, CHECK_CRITERIA)
        assert page.input_value("#child_age") == "9" and page.input_value("#child_name") == CHILD
        assert page.locator("input[name=police_confirmed][value=yes]").is_checked()
    expect(summary).to_have_text(met_all or "")
    reasons = panel.locator("[data-criterion] [data-reason]")  # empty before the first check
    assert reasons.count() > 0
    unexplained = [panel.locator("[data-criterion]").nth(i).get_attribute("data-criterion")
                   for i in range(reasons.count()) if not reasons.nth(i).inner_text().strip()]
    assert not unexplained, f"criteria without a verdict's reason after the check: {unexplained}"
    look(page, f"{prefix}-intake")

    follow(page, OPEN_CASE)
    page.wait_for_url(re.compile(r"/console/cases/[^/?#]+$"))
    case_id = page.url.rsplit("/", 1)[-1]
    expect(page.locator("main .govuk-notification-banner--success")).to_be_visible()  # the case opened
    look(page, f"{prefix}-case")
    return case_id


def request_alert(page: Page, case_id: str, prefix: str, *, recipients: int) -> tuple[str, int]:
    """The operator on the case page: Request an alert, the district, Continue, check your answers (the estimate:
    at least ``recipients`` by email in Serbian Latin), Request alert, the banner. The alert's id and the estimated
    number of people it reaches."""
    follow(page, f"main a[href$='/console/cases/{case_id}/alerts/new']")
    page.check("input[name=area_kind][value=regions]")
    district = page.locator(f"input[name=regions][value={DISTRICT}]")
    expect(district).to_be_visible()
    district.check()
    look(page, f"{prefix}-alert-request")
    follow(page, CONTINUE)
    assert page.locator(".govuk-error-summary").count() == 0, page.locator(".govuk-error-summary").inner_text()
    expect(page.get_by_test_id("area-words")).to_contain_text("Beograd")
    by_email = int(page.locator("[data-testid=reach] [data-count='sr-Latn.email']").inner_text())
    total = int(page.locator("[data-testid=reach] [data-count='all.total']").inner_text())
    assert by_email >= recipients and total >= by_email, (by_email, total)
    look(page, f"{prefix}-alert-check")
    follow(page, REQUEST)
    page.wait_for_url(re.compile(r"/console/alerts/[^/?#]+\?done=requested$"))
    alert_id = page.url.split("?")[0].rsplit("/", 1)[-1]
    expect(page.get_by_test_id("done")).to_be_visible()
    expect(page.locator("[data-testid=status] .app-status-tag--pending_approval")).to_be_visible()
    look(page, f"{prefix}-alert-requested")
    return alert_id, total


def approve(page: Page, alert_id: str, prefix: str, *, people: int) -> None:
    """The supervisor (signed in, on the queue): the alert waits there; Decide; every checklist item and the reach
    ("I understand this will reach N people", N = ``people``), a reason; Approve; the alert is active."""
    row = page.locator(f"main tr[data-alert='{alert_id}']")
    expect(row).to_be_visible()  # in "Waiting for approval"
    look(page, f"{prefix}-queue-pending")
    follow(page, f"main tr[data-alert='{alert_id}'] a[href$='/console/alerts/{alert_id}']")
    form = page.locator("main form[data-testid=decision-form]")
    expect(form).to_be_visible()
    boxes = form.locator("input[type=checkbox]")
    assert boxes.count() >= 2, "the checklist and the reach confirmation"
    reach = form.locator("label[for='decision-reach_confirmed']")
    assert re.search(rf"\b{people}\b", reach.inner_text()), (people, reach.inner_text())
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.fill("#decision-reason", "Ispunjava profil; oblast je Grad Beograd, gde je dete poslednji put viđeno.")
    look(page, f"{prefix}-decision")
    follow(page, APPROVE)
    page.wait_for_url(re.compile(rf"/console/alerts/{alert_id}\?done=approved$"))
    expect(page.get_by_test_id("done")).to_be_visible()
    expect(page.locator("[data-testid=status] .app-status-tag--active")).to_be_visible()
    look(page, f"{prefix}-alert-active")


def alert_status(server: Served, alert_id: str) -> str:
    from alertsvc import store
    from alertsvc.models import Alert

    with store.read(server.rt) as s:
        alert = store.get(s, Alert, alert_id)
        assert alert is not None
        return str(alert.status)


# --- the tests ----------------------------------------------------------------------------------------------
def test_the_whole_story(story: Served, story_page: Callable[..., Page]) -> None:
    """JavaScript on, the interface in Serbian Latin (the default): subscribe, intake, request, approve (a second
    context), the worker sends, the public page from the message's link, unsubscribe with one click."""
    from alertsvc import store
    from alertsvc.models import Subscription, SubscriptionStatus

    citizen, operator, supervisor = story_page(), story_page(), story_page()
    address = f"gradjanka-{uuid.uuid4().hex[:8]}@example.org"

    sub_id = subscribe(citizen, story, address)

    sign_in(operator, "operator")
    case_id = open_case(operator, "story")
    alert_id, people = request_alert(operator, case_id, "story", recipients=1)

    sign_in(supervisor, "supervisor")
    approve(supervisor, alert_id, "story", people=people)
    assert alert_status(story, alert_id) == "active"

    # the deliveries: the alert to the citizen's address, with the public page's link and their unsubscribe link
    assert run_worker_once(story) >= 1
    message = wait_for_message(story, address, "alert")
    assert message["channel"] == "email", message
    text = message["text"]
    link = re.search(rf"{re.escape(story.base)}/alerts/[A-Za-z0-9_-]+", text)
    assert link and link.group(0).rsplit("/", 1)[-1] == alert_id, f"no link to /alerts/{alert_id} in:\n{text}"
    unsubscribe = re.search(rf"{re.escape(story.base)}/unsubscribe/[A-Za-z0-9_-]+", text)
    assert unsubscribe, f"no unsubscribe link in:\n{text}"
    assert message.get("unsubscribe_url") == unsubscribe.group(0), message

    # the public page, from the link
    response = citizen.goto(link.group(0))
    assert response is not None and response.ok, response and response.status
    expect(citizen.locator("h1")).to_contain_text(CHILD)
    look(citizen, "story-public-alert")

    # unsubscribe: the link shows one button (and changes nothing); the button ends it
    response = citizen.goto(unsubscribe.group(0))
    assert response is not None and response.ok, response and response.status
    look(citizen, "story-unsubscribe")
    with store.read(story.rt) as s:
        sub = store.get(s, Subscription, sub_id)
        assert sub is not None and sub.status == SubscriptionStatus.ACTIVE and sub.address == address, sub
    follow(citizen, "main form button[type=submit]")
    expect(citizen.locator("main .govuk-panel--confirmation")).to_be_visible()
    look(citizen, "story-unsubscribed")
    with store.read(story.rt) as s:
        sub = store.get(s, Subscription, sub_id)
        assert sub is not None and sub.status == SubscriptionStatus.UNSUBSCRIBED and sub.address is None, sub
    # the link again: it has already ended, and there is no button
    response = citizen.goto(unsubscribe.group(0))
    assert response is not None and response.ok
    expect(citizen.locator("main [role=status]")).to_be_visible()
    assert citizen.locator("main form button").count() == 0
    look(citizen, "story-unsubscribe-again")


def test_intake_and_approval_without_javascript(story: Served, story_page: Callable[..., Page]) -> None:
    """The operator's intake (with "Check criteria" posting the form) and alert request, and the supervisor's
    approval, in contexts with JavaScript off, the interface in English."""
    operator = story_page(java_script_enabled=False)
    supervisor = story_page(java_script_enabled=False)
    for page in (operator, supervisor):
        set_language(page, "en")

    sign_in(operator, "operator")
    case_id = open_case(operator, "story-nojs")
    alert_id, people = request_alert(operator, case_id, "story-nojs", recipients=0)

    sign_in(supervisor, "supervisor")
    approve(supervisor, alert_id, "story-nojs", people=people)
    assert alert_status(story, alert_id) == "active"
