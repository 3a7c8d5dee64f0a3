"""The browser-test harness: the real server in a subprocess, Debian's Chromium driven by Playwright, and the
checks every page gets.

- ``Guard``: records every request, console error and uncaught page error of a page. Any console message of type
  ``error`` (this includes CSP refusals, e.g. an inline ``style=""`` or ``<script>`` without the nonce, and failed
  loads), any ``pageerror`` and any request whose URL does not start with the served base URL is a failure
  (``check_page`` reports it at once; the ``page`` fixture again at its teardown, with the list).
- ``check_page(page, name)``: the console conventions (one ``<h1>``, the ``<title>`` starts with it (after "Error: "
  when there is an error summary), ``<html lang>``, the error summary takes the focus, staff pages keep the
  session warning), no sideways scrolling (WCAG 1.4.10) and axe-core at 390 px and at 1280 px (fails on a
  ``serious`` or ``critical`` violation: id, impact, help, target nodes), a full-page screenshot at each width
  (``<screenshots>/<page>-<lang>-<width>.png``, beside ``<page>-<lang>.axe.json`` holding every violation found, of
  any impact), then the guard; every problem of the page in one failure message.
- ``sign_in(page, role)``, ``set_language(page, lang)``, ``submit(page, selector)``.

How axe gets in: the pages' CSP is ``script-src 'self' 'nonce-…'``, so ``page.add_script_tag(content=…)`` (and
``path=…``, which Playwright also inlines) is refused by the page — and the refusal is itself a console error. The
harness hands axe.min.js's source to ``page.evaluate``: Playwright runs it through the DevTools protocol
(``Runtime.evaluate``), which CSP does not govern, so the page keeps its real CSP (a ``bypass_csp=True`` context
would also work but would hide the very CSP violations the guard is there to catch).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, ViewportSize

from ..helpers import PASSWORD, STAFF

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
AXE = ROOT / "assets" / "node_modules" / "axe-core" / "axe.min.js"
SETUP = "scripts/test-setup.sh installs it (it runs in `make install-test`)"
LANGUAGES = ("sr-Latn", "sr-Cyrl", "en")
WIDTHS = (390, 1280)
VIEWPORTS: dict[int, ViewportSize] = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 800}}
FAILING_IMPACTS = ("serious", "critical")
LANG_COOKIE = "alertsvc_lang"
SECRET = "browser-harness-secret-0123456789-abcdefghij"
WRONG_PASSWORD_USER = "walter"  # an account only ever given wrong passwords (the others never get locked)


def screenshot_dir() -> Path:
    """``$ALERTSVC_TEST_SCREENSHOTS``, else ``var/screenshots`` at the repo root. (``ALERTSVC_TEST_*`` names are
    left alone by the settings loader, which refuses any other unknown ``ALERTSVC_*`` variable.)"""
    chosen = os.environ.get("ALERTSVC_TEST_SCREENSHOTS")
    path = Path(chosen) if chosen else ROOT / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_tools() -> None:
    """Fail (never skip) when Chromium or axe-core is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Debian's Chromium ({CHROMIUM}) is missing: {SETUP}", pytrace=False)
    if not AXE.is_file():
        pytest.fail(f"axe-core ({AXE.relative_to(ROOT)}) is missing: {SETUP} (npm ci --prefix assets)",
                    pytrace=False)


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


# --- the server -------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """``alertsvc serve`` in a subprocess, and a runtime of this process over the same database (to create staff
    accounts and subscribers through the services)."""
    base: str
    env: dict[str, str] = field(repr=False)
    rt: Any = field(repr=False)
    proc: subprocess.Popen[bytes] = field(repr=False)
    log: Path = field(repr=False)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.rt.engine.dispose()


_SERVER_LOGS: list[Path] = []


def server_log_tail(chars: int = 2500) -> str:
    """The end of the (last started) server's log: what to read after a 5xx."""
    return _SERVER_LOGS[-1].read_text(errors="replace")[-chars:] if _SERVER_LOGS else ""


def start_server(tmp: Path, **settings: str) -> Served:
    """The real app on a free port: SQLite and the file channel's outbox in ``tmp``, one HTTP worker, no dispatch
    worker, a fixed secret. ``settings``: more ``ALERTSVC_*`` variables."""
    from alertsvc.db import make_engine
    from alertsvc.migrate import upgrade
    from alertsvc.runtime import build_runtime
    from alertsvc.settings import load_settings

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTSVC_")}  # no stray configuration
    env.update({"ALERTSVC_DATABASE_URL": f"sqlite:///{tmp}/browser.db", "ALERTSVC_SERVER_BASE_URL": base,
                "ALERTSVC_SECURITY_SECRET_KEY": SECRET, "ALERTSVC_CHANNELS_FILE_PATH": str(tmp / "outbox.jsonl"),
                "ALERTSVC_LOGGING_LEVEL": "WARNING", **settings})
    config = load_settings(None, env)
    engine = make_engine(config.database.url)
    upgrade(engine)
    rt = build_runtime(config, engine=engine)
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "alertsvc.cli", "serve", "--port", str(port), "--workers",
                                 "1", "--no-worker"], env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    served = Served(base, env, rt, proc, log)
    _SERVER_LOGS.append(log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            return served
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    served.stop()
    pytest.fail(f"alertsvc serve did not start:\n{served.log_tail()}", pytrace=False)


def add_staff(served: Served) -> None:
    """Every account of tests/helpers.py STAFF (password ``PASSWORD``), plus the wrong-password account."""
    from alertsvc.services import staff

    for username, role in [*STAFF.values(), (WRONG_PASSWORD_USER, "operator")]:
        staff.add_user(served.rt, username, role, PASSWORD)


def api_call(served: Served, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """The JSON API over HTTP, as a client sends it; the decoded answer (fails the test on an error status)."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(served.base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        pytest.fail(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')[:1000]}", pytrace=False)


def api_token(served: Served, role: str) -> str:
    username = STAFF[role][0]
    token: str = api_call(served, "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
    return token


# --- the guard --------------------------------------------------------------------------------------------
@dataclass
class Guard:
    """What a page did that it must not: console errors, uncaught errors, requests to another host."""
    base: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    lang: str | None = None
    javascript: bool = True  # False in a java_script_enabled=False context (where axe cannot run)
    reported: set[str] = field(default_factory=set)  # already failed a check_page (not repeated at teardown)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            where = msg.location or {}
            self.console_errors.append(f"{msg.text} (at {where.get('url', '?')}:{where.get('lineNumber', '?')})")

    def attach(self, page: Page) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.page_errors.append(f"{e.name}: {e.message}\n{e.stack or ''}".strip()))

    def allow_console(self, pattern: str) -> None:
        """A console error this test expects (e.g. Chromium's "Failed to load resource: … 404" for a 404 page)."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        found = [f"console error: {e}" for e in self.console_errors
                 if not any(p.search(e) for p in self.allowed)]
        found += [f"uncaught error in the page: {e}" for e in self.page_errors]
        found += [f"request to another host: {url}" for url in self.requests if not url.startswith(self.base + "/")]
        return found

    def reset(self) -> None:
        """Forget everything seen so far (a page reused by the next test)."""
        for seen in (self.requests, self.console_errors, self.page_errors, self.allowed):
            seen.clear()
        self.reported.clear()

    def unreported(self) -> list[str]:
        """The problems no ``check_page`` has failed on yet; marks them reported."""
        new = [p for p in self.problems() if p not in self.reported]
        self.reported.update(new)
        return new


_GUARDS: dict[Page, Guard] = {}


def guard_of(page: Page) -> Guard:
    return _GUARDS[page]


def new_guarded_page(browser: Browser, base: str, **context_options: Any) -> tuple[BrowserContext, Page]:
    """A fresh context (its own cookies) with one page, guarded from its first request; ``base`` is the
    context's base URL, so ``page.goto("/sign-in")`` works."""
    options = {"viewport": VIEWPORTS[1280], "base_url": base, "locale": "sr-RS", **context_options}
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    # recorded by the guard (a failure), then refused: a test never reaches the network
    context.route(re.compile(rf"^(?!{re.escape(base)}/)[a-z]+://"), lambda route: route.abort())
    page = context.new_page()
    guard = Guard(base, javascript=options.get("java_script_enabled", True))
    guard.attach(page)
    _GUARDS[page] = guard
    return context, page


def close_guarded_page(context: BrowserContext, page: Page) -> list[str]:
    """Closes the context; what its page's guard found."""
    guard = _GUARDS.pop(page, None)
    context.close()
    return guard.unreported() if guard else []


def fail_on(problems: list[str], what: str) -> None:
    if problems:
        pytest.fail(f"{what}:\n  " + "\n  ".join(problems), pytrace=False)


# --- page actions -----------------------------------------------------------------------------------------
def set_language(page: Page, lang: str, *, via: str = "cookie") -> None:
    """The interface language: ``via="cookie"`` sets the ``alertsvc_lang`` cookie (for the next page),
    ``via="switch"`` presses the visible switch of the current page (and checks ``<html lang>`` after it)."""
    assert lang in LANGUAGES, lang
    guard = guard_of(page)
    if via == "cookie":
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": guard.base}])
    else:
        with page.expect_navigation():
            page.locator(f'form.app-language-switch button[value="{lang}"]').click()
        assert page.evaluate("document.documentElement.lang") == lang
    guard.lang = lang


def submit(page: Page, selector: str = "main form button[type=submit]") -> Response | None:
    """Presses a submit button and waits for the page it leads to; that page's response (after redirects)."""
    with page.expect_navigation() as nav:
        page.locator(selector).first.click()
    return nav.value


def sign_in(page: Page, role: str, *, username: str | None = None) -> None:
    """Signs in through the sign-in page as a member of tests/helpers.py STAFF (``role`` is its key:
    operator, operator2, supervisor, supervisor2, supervisor3, admin); ends on the queue (or, when already
    signed in as them, wherever the sign-in page sends a signed-in user)."""
    username = username or STAFF[role][0]
    page.goto("/sign-in")
    who = page.locator("[data-testid=staff-user]")
    if who.count():  # already signed in: the sign-in page sent us on (and the visit slid the session)
        if who.inner_text().strip() == username:
            return
        submit(page, "form.app-sign-out button[type=submit]")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    response = submit(page)
    assert response is not None and response.ok, f"sign-in: {response and response.status}\n{server_log_tail()}"
    assert page.locator("[data-testid=staff-user]").inner_text().strip() == username


# --- checks -----------------------------------------------------------------------------------------------
def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (axe injected once per document; see the module doc)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            tags: v.tags, nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300),
                                                    summary: n.failureSummary}))}));
    }""")
    violations: list[dict[str, Any]] = result
    return violations


def describe_violation(v: dict[str, Any], width: int) -> str:
    nodes = "; ".join(f"{' '.join(map(str, n['target']))} <{n['html'][:160]}>" for n in v["nodes"][:5])
    more = f" (+{len(v['nodes']) - 5} more)" if len(v["nodes"]) > 5 else ""
    return f"axe {v['id']} [{v['impact']}] at {width}px: {v['help']} ({v['helpUrl']}) — {nodes}{more}"


def structure_problems(page: Page, lang: str | None) -> list[str]:
    """The console conventions a page shows in its DOM."""
    facts = page.evaluate("""() => ({
        h1: [...document.querySelectorAll('h1')].map(h => h.textContent.replace(/\\s+/g, ' ').trim()),
        title: document.title.replace(/\\s+/g, ' ').trim(),
        lang: document.documentElement.lang,
        summary: !!document.querySelector('.govuk-error-summary'),
        summaryFocused: !!(document.activeElement && document.activeElement.closest('.govuk-error-summary')),
        js: document.body.classList.contains('js-enabled'),
        sessionWarning: !document.querySelector('meta[name="session-expires"]')
                        || !!document.getElementById('session-warning'),
    })""")
    problems = []
    if len(facts["h1"]) != 1:
        problems.append(f"exactly one <h1> expected, found {len(facts['h1'])}: {facts['h1']}")
    elif facts["summary"]:
        prefix, _, rest = facts["title"].partition(": ")
        if not (rest.startswith(facts["h1"][0]) and prefix):
            problems.append(f"with an error summary the <title> must be 'Error: <h1> …': {facts['title']!r}")
    elif not facts["title"].startswith(facts["h1"][0]):
        problems.append(f"the <title> {facts['title']!r} does not start with the <h1> {facts['h1'][0]!r}")
    if lang and facts["lang"] != lang:
        problems.append(f"<html lang={facts['lang']!r}>, expected {lang!r}")
    if not facts["sessionWarning"]:
        problems.append("a staff page without the session-expiry warning: its template overrides "
                        "{% block scripts %} without {{ super() }}")
    if facts["summary"] and facts["js"] and not facts["summaryFocused"]:
        problems.append("the error summary did not take the focus (govuk-frontend's error summary module)")
    return problems


def screenshot(page: Page, name: str, lang: str) -> None:
    """Full-page screenshots at each width, without the checks (e.g. for a page with JavaScript off)."""
    original = page.viewport_size or VIEWPORTS[1280]
    for width in WIDTHS:
        page.set_viewport_size(VIEWPORTS[width])
        page.screenshot(path=str(screenshot_dir() / f"{name}-{lang}-{width}.png"), full_page=True, caret="hide")
    page.set_viewport_size(original)


OVERFLOW_JS = """() => {
    const root = document.documentElement, vw = root.clientWidth;
    if (root.scrollWidth <= vw) return null;
    const clipped = el => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        [...el.classList].slice(0, 2).map(c => '.' + c).join('');
    const near = el => {  // the caption, else the heading before it: which one it is, in words
        if (el.caption) return el.caption.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60);
        for (let e = el; e && e !== document.body; e = e.parentElement)
            for (let s = e.previousElementSibling; s; s = s.previousElementSibling)
                if (/^H[1-6]$/.test(s.tagName)) return s.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60);
        return '';
    };
    const over = [];
    for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect(), p = el.parentElement.getBoundingClientRect();
        if (r.width > 0 && r.right > vw + 1 && p.right <= vw + 1 && !clipped(el))
            over.push(`${name(el)} "${near(el)}" (${Math.round(r.width)}px wide, to ${Math.round(r.right)}px)`);
    }
    return {scrollWidth: root.scrollWidth, over: over.slice(0, 6)};
}"""


def check_page(page: Page, name: str, *, lang: str | None = None, expect_errors: bool | None = None,
               screenshots: bool = True) -> None:
    """The console conventions, then at each of 390 and 1280 px: no sideways scrolling, axe (no serious or
    critical violation), a full-page screenshot; then the guard. ``lang``: defaults to the language set by
    ``set_language``. ``expect_errors``: True/False asserts an error summary is / is not on the page."""
    guard = guard_of(page)
    if not guard.javascript:  # axe.run's promise would never settle: the test would hang
        pytest.fail("check_page needs JavaScript (axe runs in the page): use a page of its own with JavaScript on",
                    pytrace=False)
    lang = lang or guard.lang or page.evaluate("document.documentElement.lang")
    page.wait_for_load_state("load")
    problems = structure_problems(page, lang)
    if expect_errors is not None:
        has = page.locator(".govuk-error-summary").count() > 0
        if has != expect_errors:
            problems.append("an error summary was expected" if expect_errors else "unexpected error summary")
    directory = screenshot_dir()
    original = page.viewport_size or VIEWPORTS[1280]
    report: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    for width in WIDTHS:
        page.set_viewport_size(VIEWPORTS[width])
        overflow = page.evaluate(OVERFLOW_JS)
        if overflow:  # WCAG 1.4.10 (reflow): no sideways scrolling on a phone
            problems.append(f"the page scrolls sideways at {width}px (it is {overflow['scrollWidth']}px wide): "
                            + "; ".join(overflow["over"]))
        violations = run_axe(page)
        report[str(width)] = violations
        for v in violations:
            key = (v["id"], json.dumps([n["target"] for n in v["nodes"]]))
            if v["impact"] in FAILING_IMPACTS and key not in seen:
                seen.add(key)
                problems.append(describe_violation(v, width))
        if screenshots:
            page.screenshot(path=str(directory / f"{name}-{lang}-{width}.png"), full_page=True, caret="hide")
    page.set_viewport_size(original)
    if screenshots:
        (directory / f"{name}-{lang}.axe.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    problems += guard.unreported()
    fail_on(problems, f"page {name!r} ({lang}, {page.url})")
