"""Every page, in every language, in Chromium: axe-core finds no serious or critical violation (at 390 and 1280 px),
the page does not scroll sideways, the console conventions hold (one h1, the title, <html lang>, the error summary),
nothing is logged as an error, nothing is fetched from another host; a full-page screenshot of each (see
harness.py for where they go).

ADDING A PAGE = one line in PAGES: a name (the screenshot's), how to reach it (a path, formatted with the demo
data of conftest.py: ``{case}``, ``{alert}``, ``{pending_alert}``, ``{ended_alert}``, ``{pending_subscription}``;
``submitting(path, button)`` for the page a form's button leads to, e.g. its errors; or any function
``(page, visit) -> Response``), the role to sign in as, the status, whether it shows an error summary.
Pages are only looked at, and forms only sent in ways that change nothing shared (empty or invalid; or on data of
their own: a subscriber, a locked name), so the tests of one session share a page per (role, language).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Response

from .harness import LANGUAGES, WRONG_PASSWORD_USER, Served, check_page, guard_of, submit


@dataclass(frozen=True)
class Visit:
    """What a page's reach function may use."""
    demo: dict[str, Any]
    lang: str
    served: Served


@dataclass(frozen=True)
class P:
    name: str
    reach: str | Callable[[Page, Visit], Response | None]
    role: str | None = None  # sign in first as this member of tests/helpers.py STAFF
    status: int = 200
    errors: bool | None = False  # an error summary is expected (None: not checked)


# --- how to reach the pages that are not just a URL ---------------------------------------------------------
def submitting(path: str, button: str = "main form button[type=submit]",
               fill: dict[str, str | bool] | None = None) -> Callable[[Page, Visit], Response | None]:
    """The page that pressing ``button`` (a selector; the first match) on the page at ``path`` leads to, with the
    form as it is (so: empty) but for ``fill``: {selector: text to type, or True to tick a radio or checkbox}."""
    def reach(page: Page, visit: Visit) -> Response | None:
        page.goto(path.format(**visit.demo))
        for selector, value in (fill or {}).items():
            if value is True:
                page.check(selector)
            else:
                page.fill(selector, str(value))
        return submit(page, button)

    return reach


def sign_in_wrong_password(page: Page, visit: Visit) -> Response | None:
    page.goto("/sign-in")
    page.fill("#username", WRONG_PASSWORD_USER)
    page.fill("#password", "not the password at all")
    return submit(page)


def sign_in_locked(page: Page, visit: Visit) -> Response | None:
    """A name locked by wrong passwords (through the service: the same counter as the page and the token
    endpoint), then once more on the page: 429 with the lockout explained."""
    from alertsvc.errors import DomainError
    from alertsvc.services import staff

    rt = visit.served.rt
    name = f"nobody-{visit.lang.lower()}"
    for _ in range(rt.settings.security.login_max_failures):
        with pytest.raises(DomainError):
            staff.issue_token(rt, name, "wrong password")
    page.goto("/sign-in")
    page.fill("#username", name)
    page.fill("#password", "wrong password")
    return submit(page)


def unsubscribe(page: Page, visit: Visit) -> Response | None:
    return page.goto(visit.demo["unsubscribe"][visit.lang])  # a subscriber who chose this language


def unsubscribed(page: Page, visit: Visit) -> Response | None:
    """A subscriber of its own (made through the services), unsubscribed with the page's button."""
    from alertsvc.unsubscribe import unsubscribe_url

    from ..helpers import add_subscriber

    sub_id = add_subscriber(visit.served.rt, f"+3816455600{LANGUAGES.index(visit.lang)}", language=visit.lang)
    page.goto(unsubscribe_url(visit.served.rt, sub_id))
    return submit(page)


APPROVE = "main form[data-testid=decision-form] button[name=decision][value=approve]"
CONTINUE = "main form button[name=action][value=check]"
UPDATE_PREVIEW = "main form#update-form button[name=action][value=preview]"
RESOLVE = "main form[action*='/resolve'] button[type=submit]"
PAGES = [
    # signing in
    P("sign-in", "/sign-in"),
    P("sign-in-empty", submitting("/sign-in"), errors=True),
    P("sign-in-wrong-password", sign_in_wrong_password, errors=True),
    P("sign-in-locked", sign_in_locked, status=429, errors=True),
    # the console
    P("queue", "/console", role="supervisor"),
    P("queue-bad-filter", "/console?district=XX-99", role="supervisor", errors=True),
    P("case-new", "/console/cases/new", role="operator"),
    P("case-new-errors", submitting("/console/cases/new", "main form button[name=action][value=open]"),
      role="operator", errors=True),
    P("case", "/console/cases/{case}", role="operator"),
    P("case-edit", "/console/cases/{case}/edit", role="operator"),
    P("case-edit-errors", submitting("/console/cases/{case}/edit", "main form button[name=action][value=save]",
                                     {"#child_age": ""}), role="operator", errors=True),
    P("case-close", "/console/cases/{case}/close", role="operator"),
    P("case-close-errors", submitting("/console/cases/{case}/close"), role="operator", errors=True),
    P("alert-request", "/console/cases/{case}/alerts/new", role="operator"),
    P("alert-request-errors", submitting("/console/cases/{case}/alerts/new", CONTINUE), role="operator",
      errors=True),
    P("alert-request-check", submitting("/console/cases/{case}/alerts/new", CONTINUE,
                                        {"#area_kind-1": True, "#radius_km": "10"}), role="operator"),
    P("decision", "/console/alerts/{pending_alert}", role="supervisor"),
    P("decision-errors", submitting("/console/alerts/{pending_alert}", APPROVE), role="supervisor", errors=True),
    P("decision-requester", "/console/alerts/{pending_alert}", role="operator"),
    P("alert-live", "/console/alerts/{alert}", role="supervisor"),
    P("alert-live-resolve-errors", submitting("/console/alerts/{alert}", RESOLVE), role="supervisor",
      errors=True),
    P("alert-live-update-errors", submitting("/console/alerts/{alert}", UPDATE_PREVIEW), role="supervisor",
      errors=True),
    P("alert-ended-console", "/console/alerts/{ended_alert}", role="operator"),
    P("forbidden", "/console/cases/new", role="admin", status=403),
    # citizens
    P("home", "/"),
    P("subscribe", "/subscribe"),
    P("subscribe-errors", submitting("/subscribe"), errors=True),
    P("subscribe-confirm", "/subscribe/{pending_subscription}/confirm"),
    P("subscribe-confirm-errors", submitting("/subscribe/{pending_subscription}/confirm"), errors=True),
    P("subscribe-done", "/subscribe/done"),
    P("unsubscribe", unsubscribe),
    P("unsubscribed", unsubscribed),
    P("unsubscribe-bad-link", "/unsubscribe/not-a-real-token", status=404),
    P("alert", "/alerts/{alert}"),
    P("alert-ended", "/alerts/{ended_alert}"),
    P("not-found", "/no-such-page", status=404),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_page(spec: P, lang: str, shared_page: Callable[[str | None, str], Page], served: Served,
              demo: dict[str, Any]) -> None:
    page = shared_page(spec.role, lang)  # the language cookie set, signed in as spec.role
    if isinstance(spec.reach, str):
        response = page.goto(spec.reach.format(**demo))
    else:
        response = spec.reach(page, Visit(demo, lang, served))
    assert response is not None
    if spec.status >= 400:  # Chromium logs the document's own error status on the console: expected here
        guard_of(page).allow_console(rf"^Failed to load resource: the server responded with a status of "
                                     rf"{spec.status}\b.*\(at {re.escape(response.url)}:")
    assert response.status == spec.status, f"{response.url}: {response.status}\n{served.log_tail(1500)}"
    check_page(page, spec.name, expect_errors=spec.errors)
