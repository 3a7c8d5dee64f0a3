"""Page tests: a Flask test client that signs in through the sign-in page, as a browser does, and sends each
form with the CSRF token of the page it came from."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from ..helpers import ApiActions

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1) or m.group(2)


class PageClient:
    """One browser: ``get`` pages, ``post`` forms (the CSRF token taken from the last page unless given)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        # The tests read the English texts; a test of the language choice sends its own header or cookie.
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.last_html = ""
        self.role: str | None = None

    def get(self, url: str, **kw: Any):
        r = self.client.get(url, **kw)
        if r.mimetype == "text/html":
            self.last_html = r.get_data(as_text=True)
        return r

    def csrf(self) -> str:
        if "csrf" not in self.last_html:
            self.get("/sign-in")
        return csrf_of(self.last_html)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf())
        r = self.client.post(url, data=form, **kw)
        if r.mimetype == "text/html":
            self.last_html = r.get_data(as_text=True)
        return r

    def sign_in(self, who: str, api: ApiActions) -> PageClient:
        username, password = api.credentials(who)
        self.get("/sign-in")
        r = self.post("/sign-in", {"username": username, "password": password})
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        self.role = who
        return self


@pytest.fixture
def browser(app: Flask):
    """``browser()`` a signed-out browser; ``browser("supervisor")`` one signed in as that staff member (keys of
    tests/helpers.py STAFF: operator, operator2, supervisor, supervisor2, supervisor3, admin)."""
    api = ApiActions(app)

    def make(who: str | None = None) -> PageClient:
        client = PageClient(app)
        return client.sign_in(who, api) if who else client

    return make
