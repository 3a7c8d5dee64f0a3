"""Staff sign-in, sign-out and "stay signed in".

The console session holds a token issued by ``services.staff.issue_token``, the same path as ``POST
/api/v1/auth/token``: the same lockout after repeated wrong passwords (audited), the same per-IP rate limit. The
token lives in the signed session cookie (HttpOnly, SameSite=Strict, Secure outside the loopback demo); it ends
after ``security.session_idle_minutes`` without a page (each page slides it) and is revoked on sign-out.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..context import SESSION_TOKEN, RateLimit, rate_limited, runtime
from ..errors import TooManyRequests, Unauthorized
from ..services import staff
from . import ui

bp = Blueprint("signin", __name__)


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Enter your username")), Length(max=64)],
                           render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"})
    password = PasswordField(_l("Password"),
                             validators=[InputRequired(_l("Enter your password")), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


def _render(form: SignInForm, next_url: str, problem: str | None = None, status: int = 200) -> Response:
    return ui.page("web/sign_in.html", status=status, form=form, next_url=next_url, problem=problem,
                   config_max_failures=runtime().settings.security.login_max_failures)


@bp.get("/sign-in")
def sign_in_form() -> ResponseReturnValue:
    next_url = ui.safe_next(request.args.get("next"), url_for("console.queue"))
    if ui.current_actor() is not None:
        return redirect(next_url)
    return _render(SignInForm(), next_url)


@bp.post("/sign-in")
@rate_limited(RateLimit(lambda s: s.ratelimit.token_per_ip))
def sign_in() -> ResponseReturnValue:
    form = SignInForm()
    next_url = ui.safe_next(request.form.get("next"), url_for("console.queue"))
    if not form.validate_on_submit():
        return _render(form, next_url)
    rt = runtime()
    try:
        issued = staff.issue_token(rt, form.username.data or "", form.password.data or "", ttl=ui.idle_limit())
    except staff.SignInLocked as exc:
        form.password.data = ""
        return _render(form, next_url, _("Too many wrong passwords: sign-in is locked for a while. "
                                         "Try again later or ask an administrator."), status=exc.status)
    except TooManyRequests:
        raise
    except Unauthorized:
        form.password.errors = [_("The username or password is wrong")]
        return _render(form, next_url)
    old_csrf = session.get("csrf_token")
    session.clear()  # a fresh session on sign-in (no fixation)
    if old_csrf:
        session["csrf_token"] = old_csrf
    session[SESSION_TOKEN] = issued.token
    session.permanent = True
    return redirect(next_url, code=303)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    token = session.get(SESSION_TOKEN)
    actor = ui.current_actor()
    if isinstance(token, str) and actor is not None:
        staff.revoke_token(runtime(), token, actor)
    session.clear()
    return redirect(url_for("signin.sign_in_form", signed_out="1"), code=303)


@bp.post("/session/extend")
def extend_session() -> ResponseReturnValue:
    """"Stay signed in" (the warning before the session ends): JSON for the page's script, or back to the page."""
    token = session.get(SESSION_TOKEN)
    expires: datetime | None = None
    if isinstance(token, str) and ui.current_actor() is not None:
        expires = staff.extend_token(runtime(), token, ui.idle_limit())
    if expires is None:
        raise Unauthorized(_("Your session has ended. Sign in again."))
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"expires_at": expires.isoformat()})
    return redirect(ui.safe_next(request.form.get("next"), url_for("console.queue")), code=303)
