"""Citizens' pages: the unsubscribe page (GET and HEAD show a button and change nothing; only POST unsubscribes:
the page's button or RFC 8058 one-click)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..context import runtime
from ..errors import NotFound
from ..messages import LANGUAGES
from ..services import public, subscriptions
from .ui import page

bp = Blueprint("pages", __name__)


def render(template: str, status: int = 200, **context: object) -> Response:
    return page(template, status, **context)


def _language(subscribed: str | None) -> str:
    if subscribed in LANGUAGES:
        return subscribed
    best = request.accept_languages.best_match(["sr-Latn", "sr-Cyrl", "sr", "en"]) or "sr-Latn"
    return "sr-Latn" if best == "sr" else best


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe_page(token: str) -> Response:
    rt = runtime()
    sub_id, page = subscriptions.unsubscribe_page(rt, token)  # 404 problem for a forged token
    lang, already = _language(page.language), page.already
    if request.method != "POST":  # GET and HEAD (mail scanners, link previews) only show the page
        return render("web/unsubscribe.html", lang=lang, state="gone" if already else "ask", action=request.path)
    if not already:
        how = "one-click" if request.form.get("List-Unsubscribe") == "One-Click" else "page"
        subscriptions.unsubscribe(rt, sub_id, how)
    return render("web/unsubscribe.html", lang=lang, state="done" if not already else "gone", action=request.path)


@bp.get("/alerts/<alert_id>")
def alert_page(alert_id: str) -> Response:
    """The public page of an alert; a stub once it has ended (no name, description or photo)."""
    rt = runtime()
    found = public.published_alert(rt, alert_id)
    if found is None:
        raise NotFound(f"no published alert with id {alert_id}")
    return render("web/alert.html", lang="sr-Latn", a=public.public_view(rt, found),
                  hotline=rt.settings.alerts.hotline)
