"""Citizens' pages: the unsubscribe page (GET and HEAD show a button and change nothing; only POST unsubscribes:
the page's button or RFC 8058 one-click)."""

from __future__ import annotations

from functools import cache

import jinja2
from flask import Blueprint, Response, current_app, request
from sqlmodel import Session

from ..models import Subscription, SubscriptionStatus
from ..services import subscriptions

bp = Blueprint("pages", __name__)


@cache
def _env() -> jinja2.Environment:
    from ..templating import make_environment

    return make_environment()


def render(template: str, status: int = 200, **context: object) -> Response:
    html = _env().get_template(template).render(**context)
    return Response(html, status=status, mimetype="text/html",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                        "form-action 'self'; frame-ancestors 'none'"})


def _language(sub: Subscription | None) -> str:
    if sub is not None and sub.language in ("sr-Latn", "sr-Cyrl", "en"):
        return sub.language
    best = request.accept_languages.best_match(["sr-Latn", "sr-Cyrl", "sr", "en"]) or "sr-Latn"
    return "sr-Latn" if best == "sr" else best


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe_page(token: str) -> Response:
    rt = current_app.extensions["alertsvc"]
    sub_id = subscriptions.subscription_for_token(rt, token)  # 404 problem for a forged token
    with Session(rt.engine) as s:
        sub = s.get(Subscription, sub_id)
        lang = _language(sub)
        already = sub is None or sub.status == SubscriptionStatus.UNSUBSCRIBED
    if request.method != "POST":  # GET and HEAD (mail scanners, link previews) only show the page
        return render("web/unsubscribe.html", lang=lang, state="gone" if already else "ask", action=request.path)
    if not already:
        how = "one-click" if request.form.get("List-Unsubscribe") == "One-Click" else "page"
        subscriptions.unsubscribe(rt, sub_id, how)
    return render("web/unsubscribe.html", lang=lang, state="done" if not already else "gone", action=request.path)


@bp.get("/alerts/<alert_id>")
def alert_page(alert_id: str) -> Response:
    """The public page of an alert; a stub once it has ended (no name, description or photo)."""
    from ..errors import NotFound
    from ..services import public

    rt = current_app.extensions["alertsvc"]
    with Session(rt.engine) as s:
        found = public.public_alert(s, alert_id)
        if found is None:
            raise NotFound(f"no published alert with id {alert_id}")
        view = public.public_view(rt, found)
    return render("web/alert.html", lang="sr-Latn", a=view, hotline=rt.settings.alerts.hotline)
