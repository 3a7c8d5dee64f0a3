"""The interface language: sr-Latn, sr-Cyrl or en, from the visible switch (kept in a cookie), else the browser's
``Accept-Language``, else Serbian in Latin script.

Interface texts come from written Babel catalogues (``alertsvc/translations/<locale>/LC_MESSAGES``; both Serbian
scripts written out, never transliterated at run time; ``scripts/i18n.py`` keeps them in step). Flask-Babel
needs underscore locale ids (``sr_Latn``); pages and cookies use the BCP 47 tags (``sr-Latn``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale

from ..messages import LANGUAGES
from .ui import safe_next

bp = Blueprint("language", __name__)

COOKIE = "alertsvc_lang"
DEFAULT = "sr-Latn"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LOCALE_IDS = {"sr-Latn": "sr_Latn", "sr-Cyrl": "sr_Cyrl", "en": "en"}
# Names of the languages in themselves, for the switch.
NATIVE_NAMES = {"sr-Latn": "Srpski (latinica)", "sr-Cyrl": "Српски (ћирилица)", "en": "English"}


def language_of_header(header_values: list[tuple[str, float]]) -> str | None:
    """The first acceptable language of an ``Accept-Language`` header, by quality: ``sr-Latn-RS``, ``sr-Latn`` ->
    sr-Latn; ``sr-Cyrl*`` -> sr-Cyrl; ``sr``, ``sr-RS``, ``sr-ME`` -> sr-Latn (the script Serbian is mostly
    read in online); ``en*`` -> en. Other languages are skipped."""
    for tag, quality in sorted(header_values, key=lambda item: -item[1]):
        if quality <= 0:
            continue
        parts = [p.lower() for p in tag.replace("_", "-").split("-")]
        if parts[0] == "sr":
            return "sr-Cyrl" if "cyrl" in parts[1:] else "sr-Latn"
        if parts[0] == "sh":
            return "sr-Latn"
        if parts[0] == "en":
            return "en"
    return None


def current_language() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return language_of_header(list(request.accept_languages)) or DEFAULT


def html_lang() -> str:
    """The BCP 47 tag of the page being rendered (``<html lang>``)."""
    locale = get_locale()
    if locale is None:
        return DEFAULT
    return f"{locale.language}-{locale.script}" if locale.script else locale.language


def install(app: Flask) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALE_IDS[DEFAULT])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Belgrade")
    babel = Babel(app, locale_selector=lambda: LOCALE_IDS[current_language()],
                  default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals.update(html_lang=html_lang, languages=NATIVE_NAMES)
    return babel


@bp.post("/language")
def choose_language() -> ResponseReturnValue:
    """The language switch (a form in every page's header): remembered in a cookie for a year, then back to the
    page it was chosen on."""
    lang = request.form.get("lang", "")
    back = safe_next(request.form.get("next"), url_for("citizen.home"))
    resp = redirect(back, code=303)
    if lang in LANGUAGES:
        resp.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=request.is_secure)
    return resp
