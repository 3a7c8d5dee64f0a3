"""The harness checks itself: the guard sees console errors, uncaught errors and requests to other hosts; axe,
brought in past the pages' CSP, fails a page with a serious violation; a script tag cannot bring axe in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from .harness import axe_source, check_page, guard_of, run_axe


def test_the_guard_sees_console_errors_uncaught_errors_and_other_hosts(page: Page) -> None:
    page.goto("/sign-in")
    guard = guard_of(page)
    guard.reset()  # what the page did by itself is the page table's business
    with page.expect_console_message(lambda m: m.type == "error"):
        page.evaluate("console.error('logged on purpose')")
    with page.expect_event("pageerror"):
        page.evaluate("setTimeout(() => { throw new Error('thrown on purpose') }, 0)")
    with page.expect_event("requestfailed"):  # recorded, then refused: the test never reaches the network
        page.evaluate("location.href = 'http://example.invalid/elsewhere'")
    problems = guard.problems()
    assert any(p.startswith("console error: logged on purpose") for p in problems), problems
    assert any(p.startswith("uncaught error in the page: Error: thrown on purpose") for p in problems), problems
    assert "request to another host: http://example.invalid/elsewhere" in problems, problems
    guard.reset()  # else the page fixture fails this test at teardown, listing them: what every other test gets


def test_axe_fails_a_page_with_a_serious_violation(page: Page) -> None:
    page.goto("/sign-in")
    page.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<input type="text" id="unlabelled" class="govuk-input">')""")
    with pytest.raises(pytest.fail.Exception, match=r"axe label \[critical\] at 390px: .*#unlabelled"):
        check_page(page, "harness-self-test", lang="sr-Latn", screenshots=False)


def test_a_script_tag_cannot_bring_axe_past_the_csp_but_evaluate_can(page: Page) -> None:
    page.goto("/sign-in")
    csp = page.context.request.get(page.url).headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content=axe_source())
    guard = guard_of(page)
    assert any("Content Security Policy" in p for p in guard.problems())  # the page logs the refusal
    guard.reset()
    assert page.evaluate("typeof window.axe") == "undefined"
    assert isinstance(run_axe(page), list)  # page.evaluate: the DevTools protocol, outside the page's CSP
    assert page.evaluate("typeof window.axe.run") == "function"
