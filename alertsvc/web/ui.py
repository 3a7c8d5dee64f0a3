"""What every page shares: rendering, the signed-in staff member, security headers, HTML error pages.

Pages are server-rendered and work without JavaScript. Every page response carries a Content-Security-Policy of
``default-src 'self'`` with a per-request nonce for the (rare) inline script, ``frame-ancestors 'none'``,
``Referrer-Policy: same-origin`` and ``X-Content-Type-Options: nosniff``. Errors on page routes render as pages
(the API's errors stay problem+json): ``wants_page`` decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import audit
from ..context import SESSION_TOKEN, runtime
from ..errors import DomainError
from ..services import staff

F = TypeVar("F", bound=Callable[..., Any])

# Blueprints whose routes are pages (errors render as HTML). The API, CAP and webhooks answer problem+json.
PAGE_BLUEPRINTS = {"pages", "console", "signin", "citizen", "language"}
WARN_BEFORE = timedelta(minutes=5)  # the session-expiry warning shows this long before the end

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
PAGE_HEADERS = {
    "Referrer-Policy": "same-origin",  # same-origin only: CSRF checks the Referer on HTTPS; no other host sees URLs
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Nothing here ever uses a camera, microphone or location sensor of the user's device.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Paths that are not pages (their errors are problem+json even where no blueprint matched).
NOT_PAGES = ("/api/", "/cap/", "/webhooks/", "/map/", "/static/", "/healthz")


def csp_nonce() -> str:
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def wants_page() -> bool:
    """Does this request get an HTML error page (a page route, or a path outside the API, CAP and webhooks)?"""
    if request.blueprint in PAGE_BLUEPRINTS:
        return True
    # a path that matches no route: a page unless it is under the API, CAP or webhooks
    return request.blueprint is None and not request.path.startswith(NOT_PAGES)


def page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to after sign-in or a language change; anything else (another host, a scheme,
    ``//host``, a backslash trick) becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


# --- the signed-in staff member -------------------------------------------------------------------
def idle_limit() -> timedelta:
    return timedelta(minutes=runtime().settings.security.session_idle_minutes)


def signed_in() -> staff.SignedIn | None:
    """The staff member of this browser session (cached per request), sliding the session's expiry."""
    if "signed_in" not in g:
        token = session.get(SESSION_TOKEN)
        found = staff.session_for_token(runtime(), token, idle_limit()) if isinstance(token, str) else None
        if found is None and token is not None:
            session.pop(SESSION_TOKEN, None)
        g.signed_in = found
    result: staff.SignedIn | None = g.signed_in
    return result


def current_actor() -> audit.Actor | None:
    found = signed_in()
    return found.actor if found else None


def staff_required(*roles: str) -> Callable[[F], F]:
    """A page for signed-in staff (of these roles, when given): signed out -> the sign-in page, which comes back
    here; the wrong role -> 403 page. The view receives ``actor``."""
    def deco(fn: F) -> F:
        @wraps(fn)
        def view(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                back = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else request.path
                return redirect(url_for("signin.sign_in_form", next=back))
            if roles and actor.role not in roles:
                return error_page(403, _("You cannot open this page"),
                                  _("This page is for the role %(roles)s; you are signed in as %(role)s.",
                                    roles=" / ".join(role_name(r) for r in roles), role=role_name(actor.role)))
            return fn(*args, actor=actor, **kwargs)

        return view  # type: ignore[return-value]

    return deco


def role_name(role: str) -> str:
    return {"operator": _("operator"), "supervisor": _("supervisor"), "admin": _("administrator")}.get(role, role)


# --- error pages -------------------------------------------------------------------------------------
def error_page(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    resp = page("web/error.html", status=status, title=title, detail=detail, status_code=status)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def domain_error_page(exc: DomainError) -> Response:
    titles = {400: _("The request could not be understood"), 401: _("Sign in to continue"),
              403: _("You cannot do this"), 404: _("Page not found"), 409: _("This has changed meanwhile"),
              422: _("Some of what was sent cannot be used"), 429: _("Too many attempts")}
    return error_page(exc.status, titles.get(exc.status, _("Something went wrong")), exc.detail, exc.headers)


def http_error_page(code: int, retry_after: str | None = None) -> Response:
    titles = {404: (_("Page not found"), _("If you typed the address, check it is correct.")),
              405: (_("This page cannot be used this way"), _("Go back and use the page's buttons.")),
              413: (_("What was sent is too large"), _("Send less at once.")),
              429: (_("Too many attempts"), _("Wait a moment, then try again.")),
              400: (_("The form expired or could not be read"),
                    _("Go back, reload the page and send it again. Nothing was changed."))}
    title, detail = titles.get(code, (_("Something went wrong"), _("Try again later.")))
    return error_page(code, title, detail, {"Retry-After": retry_after} if retry_after else None)


def server_error_page(correlation_id: str) -> Response:
    return error_page(500, _("Sorry, something went wrong on our side"),
                      _("Nothing you sent was lost on our side. Quote this reference if you call: %(ref)s",
                        ref=correlation_id))


def form_errors(*forms: Any) -> list[tuple[str, str]]:
    """The error summary's entries: (the field's id, its first error) for every field with an error, in order.
    A form's own problem (not about one field) is ``form.problem`` (target: none)."""
    entries: list[tuple[str, str]] = []
    for form in forms:
        if form is None:
            continue
        for field in form:
            errors = next(iter(field.errors.values()), []) if isinstance(field.errors, dict) else list(field.errors)
            if errors:
                entries.append((field.id, str(errors[0])))
        for problem in getattr(form, "problems", []):
            entries.append(("", str(problem)))
    return entries


# --- wiring ---------------------------------------------------------------------------------------
def session_cookie_secure(rt_settings: Any) -> bool:
    sec = rt_settings.security
    if sec.cookie_secure is not None:
        return bool(sec.cookie_secure)
    parts = urlsplit(rt_settings.server.base_url)
    return not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))


def install(app: Flask) -> None:
    @app.context_processor
    def _page_context() -> dict[str, Any]:
        found = signed_in() if request.blueprint in PAGE_BLUEPRINTS or request.blueprint is None else None
        rt = runtime()
        expires: datetime | None = found.expires_at if found else None
        return {"staff": found.actor if found else None, "session_expires": expires,
                "session_warn_seconds": int(WARN_BEFORE.total_seconds()),
                "role_name": role_name, "profile": rt.active_profile, "csp_nonce": csp_nonce,
                "hotline": rt.settings.alerts.hotline}

    app.jinja_env.globals.update(errors_of=form_errors)

    @app.after_request
    def _page_headers(resp: Response) -> Response:
        if resp.mimetype in HTML_TYPES:
            resp.headers["Content-Security-Policy"] = CSP.format(nonce=csp_nonce())
            for header, value in PAGE_HEADERS.items():
                resp.headers.setdefault(header, value)
        return resp
