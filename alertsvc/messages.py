"""What citizens read: the confirmation code, the alert, its updates and the closing message, by SMS and
e-mail, in Serbian (Latin script ``sr-Latn``, Cyrillic script ``sr-Cyrl``) and English (``en``).

Pure rendering: everything comes in as arguments (no database, no Flask, no settings object), so the
dispatcher, the supervisor's decision brief and the tests all call the same code.

Templates (``templates/messages/``, loaded by :func:`alertsvc.templating.make_environment`). The markup is
written once, for every language; each language folder holds only wording::

    _email.html                    HTML e-mail frame: one column, inline styles, no images, no external
                                   assets, no tracking; the footer with the opt-out link
    _email.txt                     text e-mail frame: the body, then the footer with the opt-out link
    {kind}.email.txt               text e-mail (extends ``_email.txt``)
    {kind}.email.html              HTML e-mail (extends ``_email.html``), autoescaped (imported field
                                   texts are plain strings, so they are escaped too)
    {language}/_lang.j2            grammar and shared phrases of one language: age plurals (1 godina,
                                   2-4 godine, 5+ godina, ...), girl/boy/child, dates, "if you see her/him",
                                   the e-mail footer's words; its macros take numbers, dates, the case
                                   reference and f/m/x only, never user text
    {language}/{kind}.fields.j2    the wording of each named field: one ``{% set <field> %}...{% endset %}``
                                   block per field; the SMS is these fields, and both e-mails import them
                                   (``{% import ... as field with context %}``) so a fact is worded once;
                                   fields only the e-mails use (``subject``, ...) come last

The shared templates pick the language's files by the ``lang`` variable of the context.

``kind`` is ``confirmation``, ``alert``, ``update`` or ``closing``.

SMS. The order of an SMS's fields, which are required and which may be dropped (and in which order) are
fixed here, in :data:`SMS_FIELDS` and :data:`SMS_DROP_ORDER`, the same for every language; the
templates only word each field. Each field is put on one line (whitespace collapsed), fields are
joined by newlines, and :func:`channels.sms_text.fit_to_budget` drops optional fields until the text fits
``sms_max_segments``. If the required fields do not fit whole next to the unsubscribe link, the opt-out
loses its link and keeps "reply STOP" (``dropped`` then names ``"unsubscribe_link"``); only if that is
still too long is the longest field carrying people's text (name, place, update, operator's text) cut
at a word boundary (``truncated``). The fixed wording, the hotline, the alert link and STOP are never
cut: if they alone exceed the budget the SMS goes whole and ``over_budget`` says so.

With ``sms_ascii`` the Latin-script languages (``sr-Latn``, and ``en`` whose SMS may carry Serbian names)
go through :func:`channels.sms_text.to_gsm7` (``č`` -> ``c``, ``đ`` -> ``dj``, ``–`` -> ``-``, Cyrillic
names to Latin, anything else GSM-7 lacks to ``?``) so they travel as GSM-7; ``sr-Cyrl`` is always UCS-2.
E-mail is never transliterated.

Data minimisation. A closing message is rendered from the case reference and the outcome only: the
child's name, description, place, vehicle and suspect are not even passed to its templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import jinja2

from channels import ChannelName
from channels.sms_text import Field, Fitted, SmsInfo, analyse, fit_to_budget, is_gsm7, segments, to_gsm7

__all__ = [
    "CHANNELS",
    "KINDS",
    "LANGUAGES",
    "SMS_DROP_ORDER",
    "SMS_FIELDS",
    "TIMEZONE",
    "AlertFacts",
    "ChannelName",
    "Kind",
    "Language",
    "MessageRenderer",
    "Rendered",
]


class Language(StrEnum):
    """The languages of every citizen-facing text, valued as BCP 47 tags (the API's strings); one folder
    each under ``templates/messages/``. The one list of them, in this order."""

    SR_LATN = "sr-Latn"
    SR_CYRL = "sr-Cyrl"
    EN = "en"


Kind = Literal["confirmation", "alert", "update", "closing"]
LANGUAGES: tuple[str, ...] = tuple(language.value for language in Language)
KINDS: tuple[str, ...] = get_args(Kind)
CHANNELS: tuple[str, ...] = tuple(channel.value for channel in ChannelName)

TIMEZONE = ZoneInfo("Europe/Belgrade")
"""Times in messages are local time in Serbia."""

SMS_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {
    # (field, required), in message order
    "confirmation": (("confirm", True), ("ignore", True), ("optout", True)),
    "alert": (
        ("header", True), ("child", True), ("seen", True),
        ("description", False), ("vehicle", False), ("suspect", False), ("area", False),
        ("action", True), ("more", True), ("optout", True),
    ),
    # an alert with the operator's own text: it replaces the body, header and footer stay
    "alert_custom": (("header", True), ("custom", True), ("action", True), ("more", True), ("optout", True)),
    "update": (
        ("header", True), ("child", True), ("update", True), ("seen", False),
        ("action", True), ("more", True), ("optout", True),
    ),
    "closing": (("header", True), ("result", True), ("request", True), ("optout", True)),
}  # fmt: skip
"""The named fields of each SMS, in message order, with whether each is required. Every
``{kind}.fields.j2`` also sets ``optout_short`` ("reply STOP" without the link)."""

SMS_DROP_ORDER: dict[str, tuple[str, ...]] = {
    "alert": ("area", "suspect", "description", "vehicle"),
    "update": ("seen",),
}
"""Optional fields dropped first to last while an SMS is over budget."""

CUTTABLE_FIELDS = frozenset({"child", "seen", "custom", "update"})
"""Required SMS fields that carry people's text and may, as a last resort, be cut at a word boundary.
The other required fields (fixed wording, hotline, links, STOP) are never cut."""

UNSUBSCRIBE_LINK = "unsubscribe_link"
"""Named in ``Rendered.dropped`` when an SMS opt-out kept "reply STOP" but lost its link to fit."""


@dataclass(frozen=True)
class AlertFacts:
    """What an alert message may say about a case (already minimised by the caller).

    ``last_seen_at`` must be timezone-aware; messages show it in Belgrade time. ``sex`` is ``"f"``,
    ``"m"`` or ``"x"`` (anything else, or None, is worded as "child"). ``link`` is the absolute URL of the
    alert's public page.
    """

    reference: str
    child_name: str | None
    age: int
    sex: str | None
    description: str | None
    last_seen_place: str | None
    last_seen_at: datetime
    vehicle: str | None
    plate: str | None
    suspect: str | None
    area_name: str | None
    link: str
    update_text: str | None = None  # kind "update": the operator's update
    outcome: str | None = None  # kind "closing": "found" | "withdrawn" | "other"
    custom_text: str | None = None  # the operator's own alert text: replaces the body, keeps the footer


@dataclass(frozen=True)
class Rendered:
    """One message ready for a :class:`channels.Message`.

    ``subject`` and ``html`` are set for e-mail only; ``sms`` (encoding, segments) for SMS only.
    ``dropped`` names the optional SMS fields left out to fit the segment budget (and
    ``"unsubscribe_link"`` when the opt-out had to shrink to "reply STOP"); ``truncated`` names required
    SMS fields that had to be cut at a word boundary, the last resort (only fields carrying people's
    text are ever cut). ``over_budget`` is True when even the fixed text of an SMS (header, what to do,
    links, STOP) exceeds ``sms_max_segments``: the SMS is then sent whole, over budget (a budget too small
    for the language, e.g. 2 segments of UCS-2).
    """

    subject: str | None
    text: str
    html: str | None
    sms: SmsInfo | None
    dropped: tuple[str, ...]
    truncated: tuple[str, ...] = ()
    over_budget: bool = False


class MessageRenderer:
    """Renders every citizen-facing message from templates. Thread-safe; build once and share."""

    def __init__(self, *, hotline: str, sms_max_segments: int, sms_ascii: bool,
                 env: jinja2.Environment | None = None) -> None:
        if sms_max_segments < 1:
            raise ValueError("sms_max_segments must be at least 1")
        if env is None:
            from .templating import make_environment

            env = make_environment()
        self._env = env
        self._hotline = hotline.strip()
        self._max_segments = sms_max_segments
        self._sms_ascii = sms_ascii

    # --- the four kinds ---------------------------------------------------------------------------

    def confirmation(self, channel: str, language: str, *, code: str,
                     unsubscribe_url: str | None = None) -> Rendered:
        """The double opt-in message: the code, what it subscribes to, "ignore it if you did not ask"."""
        code = code.strip()
        if not (code.isascii() and code.isdigit()):
            raise ValueError("code must be digits")
        context = self._base(language, unsubscribe_url, required_url=False) | {"code": code}
        return self._render(channel, language, "confirmation", context)

    def alert(self, channel: str, language: str, facts: AlertFacts, *, unsubscribe_url: str) -> Rendered:
        """The alert itself (or the operator's ``custom_text`` with the standard header and footer)."""
        context = self._base(language, unsubscribe_url) | self._facts(facts, sms=channel == ChannelName.SMS)
        layout = "alert_custom" if context["f"]["custom_text"] else "alert"
        return self._render(channel, language, "alert", context, sms_layout=layout)

    def update(self, channel: str, language: str, facts: AlertFacts, *, unsubscribe_url: str) -> Rendered:
        """New information on an active alert (``facts.update_text``; ``custom_text`` is not used)."""
        context = self._base(language, unsubscribe_url) | self._facts(facts, sms=channel == ChannelName.SMS)
        return self._render(channel, language, "update", context)

    def closing(self, channel: str, language: str, facts: AlertFacts, *, unsubscribe_url: str) -> Rendered:
        """The alert is over: says the outcome and asks people to delete and stop sharing what they got.

        Only the reference and the outcome reach the templates (data minimisation)."""
        outcome = facts.outcome if facts.outcome in ("found", "withdrawn") else "other"
        context = self._base(language, unsubscribe_url) | {"reference": _reference(facts), "outcome": outcome}
        return self._render(channel, language, "closing", context)

    def sms_info(self, language: str, facts: AlertFacts, unsubscribe_url: str) -> SmsInfo:
        """Encoding and segment count of the alert SMS in ``language`` (for the supervisor's decision brief)."""
        info = self.alert(ChannelName.SMS, language, facts, unsubscribe_url=unsubscribe_url).sms
        assert info is not None
        return info

    # --- context ----------------------------------------------------------------------------------

    def _base(self, language: str, unsubscribe_url: str | None, *, required_url: bool = True) -> dict[str, Any]:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r} (expected one of {', '.join(LANGUAGES)})")
        url = unsubscribe_url.strip() if unsubscribe_url else None
        if url is None and required_url:
            raise ValueError("unsubscribe_url is required: every alert message says how to leave")
        if url is not None:
            _check_url("unsubscribe_url", url)
        return {"lang": language, "hotline": self._hotline, "unsubscribe_url": url}

    @staticmethod
    def _facts(facts: AlertFacts, *, sms: bool) -> dict[str, Any]:
        at = facts.last_seen_at
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("last_seen_at must be a timezone-aware datetime")
        if isinstance(facts.age, bool) or not isinstance(facts.age, int) or facts.age < 0:
            raise ValueError("age must be a whole number of years, 0 or more")
        link = facts.link.strip()
        _check_url("link", link)
        clean = _one_line if sms else _text
        f = {
            "child_name": clean(facts.child_name),
            "description": clean(facts.description),
            "place": clean(facts.last_seen_place),
            "vehicle": clean(facts.vehicle),
            "plate": clean(facts.plate),
            "suspect": clean(facts.suspect),
            "area": clean(facts.area_name),
            "update_text": clean(facts.update_text),
            "custom_text": clean(facts.custom_text),
        }
        sex = (facts.sex or "").strip().lower()
        return {
            "f": f,
            "reference": _reference(facts),
            "link": link,
            "sex": sex if sex in ("f", "m") else "x",
            "age": facts.age,
            "seen_at": at.astimezone(TIMEZONE),
        }

    # --- rendering --------------------------------------------------------------------------------

    def _render(self, channel: str, language: str, kind: str, context: dict[str, Any], *,
                sms_layout: str | None = None) -> Rendered:
        if channel == ChannelName.SMS:
            return self._sms(language, kind, sms_layout or kind, context)
        if channel == ChannelName.EMAIL:
            return self._email(language, kind, context)
        raise ValueError(f"unknown channel {channel!r} (expected one of {', '.join(CHANNELS)})")

    def _email(self, language: str, kind: str, context: dict[str, Any]) -> Rendered:
        text_module = self._env.get_template(f"messages/{kind}.email.txt").make_module(context)
        subject = _one_line(str(getattr(text_module, "subject", ""))) or ""
        if not subject:
            raise LookupError(f"messages/{language}/{kind}.fields.j2 does not set a subject")
        html = self._env.get_template(f"messages/{kind}.email.html").render(context, subject=subject)
        return Rendered(subject=subject, text=_tidy(str(text_module)), html=html.strip() + "\n", sms=None,
                        dropped=())

    def _sms(self, language: str, kind: str, layout: str, context: dict[str, Any]) -> Rendered:
        name = f"messages/{language}/{kind}.fields.j2"
        module = self._env.get_template(name).make_module(context)
        ascii_only = self._sms_ascii and language != Language.SR_CYRL

        def field(field_name: str, required: bool) -> Field:
            if not hasattr(module, field_name):
                raise LookupError(f"{name} does not set the SMS field {field_name!r}")
            text = _one_line(str(getattr(module, field_name))) or ""
            return Field(field_name, to_gsm7(text) if ascii_only else text, required)

        fields = [field(n, required) for n, required in SMS_FIELDS[layout]]
        drop_order = SMS_DROP_ORDER.get(layout, ())
        fitted, over = _fit_sms(fields, self._max_segments, drop_order)
        dropped_link = False
        if (fitted.truncated or over) and context["unsubscribe_url"]:
            # The required fields do not fit whole next to the (long) link: say "reply STOP" without it.
            short = field("optout_short", True)
            fields = [short if f.name == "optout" else f for f in fields]
            (fitted, over), dropped_link = _fit_sms(fields, self._max_segments, drop_order), True
        dropped = fitted.dropped + ((UNSUBSCRIBE_LINK,) if dropped_link else ())
        return Rendered(subject=None, text=fitted.text, html=None, sms=fitted.info, dropped=dropped,
                        truncated=fitted.truncated, over_budget=over)


def _fit_sms(fields: list[Field], max_segments: int, drop_order: tuple[str, ...]) -> tuple[Fitted, bool]:
    """``fit_to_budget``, except that only fields carrying people's text (:data:`CUTTABLE_FIELDS`) may be
    cut: the fixed wording, the hotline, the link and STOP stay whole. If they alone are over the budget,
    the message goes whole and over budget: ``(fitted, True)``."""
    try:
        fitted = fit_to_budget(fields, max_segments, drop_order=drop_order)
        if set(fitted.truncated) <= CUTTABLE_FIELDS:
            return fitted, False
    except ValueError:  # even bare ellipses are too long
        pass
    # Every optional field is gone by now; cut people's text, longest first, at word boundaries.
    present = [f for f in fields if f.text.strip()]
    optional = [f.name for f in present if not f.required]
    dropped = [n for n in drop_order if n in optional] + [n for n in reversed(optional) if n not in drop_order]
    required = [f for f in present if f.required]
    texts = {f.name: f.text.strip() for f in required}

    def build() -> str:
        return "\n".join(texts[f.name] for f in required)

    ellipsis = "..." if is_gsm7(build()) else "…"
    cut: list[str] = []
    for name in sorted((n for n in texts if n in CUTTABLE_FIELDS), key=lambda n: len(texts[n]), reverse=True):
        cut.append(name)
        for prefix in _word_prefixes(texts[name]):
            texts[name] = prefix + ellipsis
            if segments(build()) <= max_segments:
                break
        if segments(build()) <= max_segments:
            break
    else:  # the fixed text alone is over budget: better whole and long than cut
        texts, cut = {f.name: f.text.strip() for f in required}, []
    text = build()
    fitted = Fitted(text=text, info=analyse(text), kept=tuple(texts), dropped=tuple(dropped), truncated=tuple(cut))
    return fitted, not cut and fitted.info.segments > max_segments


def _word_prefixes(text: str) -> list[str]:
    """Prefixes of ``text`` ending at a word boundary, longest first, without trailing separators; then ``""``."""
    cuts = [i for i in range(1, len(text)) if text[i].isspace() and not text[i - 1].isspace()]
    prefixes = [text[:i].rstrip().rstrip(",;:-–—").rstrip() for i in reversed(cuts)]
    return [p for p in prefixes if p] + [""]


def _reference(facts: AlertFacts) -> str:
    reference = _one_line(facts.reference)
    if reference is None:
        raise ValueError("reference is required")
    return reference


def _check_url(what: str, url: str) -> None:
    if not url.startswith(("https://", "http://")) or any(ch.isspace() for ch in url):
        raise ValueError(f"{what} must be an absolute http(s) URL")


def _one_line(value: str | None) -> str | None:
    """Whitespace (newlines included) collapsed to single spaces; None for nothing left."""
    if value is None:
        return None
    return " ".join(value.split()) or None


def _text(value: str | None) -> str | None:
    """Multi-line text for e-mail, tidied (see :func:`_tidy`); None for nothing left."""
    if value is None:
        return None
    return _tidy(value) or None


def _tidy(text: str) -> str:
    """Trailing spaces removed, at most one blank line in a row, no blank lines at either end."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line if line == "-- " else line.rstrip()  # "-- " is the signature delimiter
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
