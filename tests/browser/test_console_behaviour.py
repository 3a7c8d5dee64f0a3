"""Console behaviour only a browser shows: signing in with JavaScript off, the session-expiry warning ("Stay signed
in" keeps what was typed and extends the session without leaving the page), the language switch, and what every
browser asks of every page (its icon)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from ..helpers import PASSWORD, STAFF
from .harness import LANG_COOKIE, LANGUAGES, Served, check_page, screenshot, set_language, sign_in, submit

# The page whose form field the session-warning test types into: the case intake page (the first textarea of its
# <main>, else its first text input); while it has none, the test adds a field of its own to the queue page (still proving that "Stay
# signed in" does not reload the page: a reload would lose the field and what was typed in it).
FORM_PAGE = "/console/cases/new"


def test_sign_in_works_without_javascript(new_page: Callable[..., Page]) -> None:
    page = new_page(java_script_enabled=False)
    set_language(page, "en")
    page.goto("/console")
    assert page.url.split("?")[0].endswith("/sign-in"), page.url  # signed out: to the sign-in page, and back
    # empty: the summary links to each field, the message is next to each field
    response = submit(page)
    assert response is not None and response.status == 200
    summary_links = page.locator(".govuk-error-summary a")
    assert [summary_links.nth(i).get_attribute("href") for i in range(summary_links.count())] == [
        "#username", "#password"]
    expect(page.locator("#username-error")).to_be_visible()
    expect(page.locator("#password-error")).to_be_visible()
    assert page.title().startswith("Error:")
    screenshot(page, "sign-in-empty-no-js", "en")
    # a wrong password: what was typed (but the password) is kept
    username = STAFF["operator"][0]
    page.fill("#username", username)
    page.fill("#password", "not the password")
    submit(page)
    assert page.locator(".govuk-error-summary").count() == 1
    assert page.input_value("#username") == username and page.input_value("#password") == ""
    # signed in: back on the page asked for, who is signed in shown
    page.fill("#password", PASSWORD)
    response = submit(page)
    assert response is not None and response.ok
    assert page.url.endswith("/console"), page.url
    expect(page.get_by_test_id("staff-user")).to_have_text(username)
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")  # no script ran
    # sign out, still without JavaScript
    response = submit(page, "form.app-sign-out button[type=submit]")
    assert response is not None and response.ok and "signed_out=1" in page.url
    assert page.locator("[data-testid=staff-user]").count() == 0


def _shorten_session(served: Served, username: str, left: timedelta) -> datetime:
    """As if the staff member had been idle: their live tokens end ``left`` from now (test set-up, in the
    database the server reads); the new end."""
    from sqlmodel import Session, col, select

    from alertsvc.models import ApiToken, Staff

    with Session(served.rt.engine) as s:
        user = s.exec(select(Staff).where(Staff.username == username)).one()
        tokens = s.exec(select(ApiToken).where(ApiToken.staff_id == user.id, col(ApiToken.revoked_at).is_(None)))
        ends = datetime.now(UTC) + left
        for token in tokens:
            token.expires_at = ends
            s.add(token)
        s.commit()
    return ends


def _token_expiry(served: Served, username: str) -> datetime:
    from sqlmodel import Session, col, select

    from alertsvc.models import ApiToken, Staff

    with Session(served.rt.engine) as s:
        user = s.exec(select(Staff).where(Staff.username == username)).one()
        rows = s.exec(select(ApiToken).where(ApiToken.staff_id == user.id, col(ApiToken.revoked_at).is_(None)))
        return max(row.expires_at for row in rows)


def test_session_warning_keeps_typed_text_and_extends_the_session(page: Page, served: Served) -> None:
    """Sessions of this server end after 6 idle minutes (the minimum); the warning shows 5 minutes before. With
    4 minutes left, the page's 5-second check (run on Playwright's clock) shows it; "Stay signed in" extends the
    session in the background, keeps the page and what was typed."""
    role = "operator2"  # nobody else's tests sign in as this one (an operator: FORM_PAGE is theirs)
    username = STAFF[role][0]
    page.clock.install()  # before any page script: the page's timers and Date run on Playwright's clock
    set_language(page, "en")
    sign_in(page, role)
    ends = _shorten_session(served, username, timedelta(minutes=4))
    response = page.goto(FORM_PAGE)
    assert response is not None and response.status == 200, response and response.status
    field = page.locator("main textarea").first
    if field.count() == 0:
        field = page.locator("main input[type=text]").first
    if field.count() == 0:  # see FORM_PAGE
        page.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
            '<div class="govuk-form-group"><label class="govuk-label" for="typed">Typed</label>' +
            '<input class="govuk-input" id="typed" name="typed" type="text"></div>')""")
        field = page.locator("#typed")
    field.fill("Plava jakna, roze ranac")
    dialog = page.locator("#session-warning")
    expect(dialog).to_be_hidden()
    before = datetime.fromisoformat(page.locator("meta[name=session-expires]").get_attribute("content") or "")
    assert abs(before - ends) < timedelta(seconds=1)  # the page shows the session's stored end (no wall clock)

    page.clock.run_for(6_000)
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("role") == "alertdialog"
    expect(dialog.locator("button")).to_be_focused()
    check_page(page, "session-warning")

    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    url = page.url
    idle = timedelta(minutes=served.rt.settings.security.session_idle_minutes)
    clicked = datetime.now(UTC)
    with page.expect_response(lambda r: r.url.endswith("/session/extend")) as extended:
        dialog.locator("button").click()
    answered = datetime.now(UTC)
    assert extended.value.status == 200, extended.value.text()
    after = datetime.fromisoformat(extended.value.json()["expires_at"])
    # idle minutes from the moment the server extended it: bracketed by the click and the answer, however slow
    assert clicked + idle - timedelta(seconds=1) <= after <= answered + idle + timedelta(seconds=1), (clicked, after)
    assert _token_expiry(served, username) == after
    expect(dialog).to_be_hidden()
    assert field.input_value() == "Plava jakna, roze ranac"
    assert navigations == [] and page.url == url
    page.clock.run_for(10_000)  # more than 5 minutes left now: the warning does not come back
    expect(dialog).to_be_hidden()


def test_language_switch_sets_the_page_language_and_remembers_it(page: Page) -> None:
    page.goto("/")
    for lang in (*LANGUAGES[1:], LANGUAGES[0]):
        url = page.url
        set_language(page, lang, via="switch")  # presses the visible switch; checks <html lang> after it
        assert page.url == url  # back on the same page
        pressed = page.locator("form.app-language-switch button[aria-current=true]")
        assert pressed.count() == 1 and pressed.get_attribute("value") == lang
        assert {c["name"]: c["value"] for c in page.context.cookies()}[LANG_COOKIE] == lang
    page.goto("/sign-in")  # the next page keeps it
    assert page.evaluate("document.documentElement.lang") == LANGUAGES[0]


def test_every_page_declares_an_icon_or_the_server_has_one(page: Page, served: Served) -> None:
    """Without <link rel=icon>, every browser asks for /favicon.ico; a 404 there is a console error (which the
    guard reports on whichever page Chromium first asks it for: this test says it once, plainly)."""
    page.goto("/")
    declared = page.locator("head link[rel~=icon]").count() > 0
    fallback = page.request.get(served.base + "/favicon.ico")
    assert declared or fallback.ok, (
        "no <link rel=icon> in templates/web/base.html and /favicon.ico is a 404: every browser logs an error")
