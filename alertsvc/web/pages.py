"""The unsubscribe page, from the link in every message: GET and HEAD (mail scanners, link previews) show one button
and change nothing; only POST unsubscribes: the page's button, or RFC 8058 one-click (``List-Unsubscribe=One-Click``
from a mail provider). app.py exempts this view from CSRF: such a POST carries no token, the URL's signed token is
the key. The other citizens' pages are in citizen.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import force_locale
from flask_babel import gettext as _

from ..context import runtime
from ..errors import NotFound
from ..messages import LANGUAGES
from ..services import subscriptions
from . import ui
from .i18n import COOKIE, LOCALE_IDS, current_language

bp = Blueprint("pages", __name__)


def _language(subscribed: str | None) -> str:
    """The language switch's choice when made, else the subscription's language, else the browser's."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return subscribed if subscribed in LANGUAGES else current_language()


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe_page(token: str) -> Response:
    rt = runtime()
    try:
        sub_id, page = subscriptions.unsubscribe_page(rt, token)
    except NotFound:  # a forged or mangled token
        return ui.error_page(404, _("This unsubscribe link does not work"),
                             _("Check that you opened or copied the whole link from the message."))
    state = "gone" if page.already else "ask"
    if request.method == "POST" and not page.already:  # GET and HEAD only show the page
        how = "one-click" if request.form.get("List-Unsubscribe") == "One-Click" else "page"
        subscriptions.unsubscribe(rt, sub_id, how)
        state = "done"
    with force_locale(LOCALE_IDS[_language(page.language)]):
        return ui.page("web/citizen/unsubscribe.html", state=state, action=request.path)
