"""Citizens' pages: the public home page, subscribing (the form, the code, done) and the public page of each alert.

Subscribing obeys the JSON API's rules: the form builds the body of ``POST /api/v1/subscriptions``, validates it with
the same ``SubscriptionIn`` model and calls the same services under the same rate limits; the code is confirmed by
the same service as ``POST /api/v1/subscriptions/<id>/confirm``. The public pages (home, alert) set no cookie and
may be cached briefly: an SMS link sends a crowd to them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from pydantic import ValidationError as PydanticError
from wtforms import Field, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; not in its stubs yet
from wtforms.widgets import CheckboxInput, ListWidget

import geo

from ..context import RateLimit, rate_limited, runtime
from ..errors import Conflict, DomainError, NotFound, TooManyRequests, ValidationFailed
from ..http_cache import cacheable
from ..messages import CHANNELS, LANGUAGES
from ..schemas import ConfirmIn, SubscriptionIn
from ..services import public, subscriptions
from . import ui
from .i18n import NATIVE_NAMES, current_language, html_lang

bp = Blueprint("citizen", __name__)



# --- public pages: no cookie, briefly cacheable -----------------------------------------------------------------
def _public(resp: Response) -> Response:
    """Let caches keep a public page for a minute, with an ETag and 304 (``http_cache.cacheable``); it varies by
    language (Accept-Language and the language cookie). A browser with a staff session is never served from or
    into a shared cache."""
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        resp.headers["Cache-Control"] = "private, no-cache"
        resp.vary.update(("Accept-Language", "Cookie"))
        return resp
    return cacheable(resp, vary=("Accept-Language", "Cookie"))


def _instant(value: Any) -> datetime | None:
    """A published time (ISO 8601 text in the approved snapshot) as an aware datetime, for Babel's filters."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def region_name(code: str, language: str | None = None) -> str:
    """A district's name in the page's script (English pages use the Latin name)."""
    catalogue = runtime().regions
    if code not in catalogue:
        return code
    region = catalogue[code]
    return region.names.get(language or html_lang()) or region.name


def _shown(view: dict[str, Any]) -> dict[str, Any]:
    """A public view with what the templates need on top: the last-seen time parsed, the districts named."""
    seen = dict(view.get("last_seen") or {})
    return {**view, "last_seen_time": _instant(seen.get("at")),
            "territory_names": [region_name(c) for c in view.get("territories") or []]}


@bp.get("/")
def home() -> Response:
    alerts = [_shown(v) for v in public.active_alerts(runtime())]
    return _public(ui.page("web/citizen/home.html", alerts=alerts))


@bp.get("/alerts/<alert_id>")
def alert_page(alert_id: str) -> Response:
    """The public page of an alert; a stub once it has ended (no name, description or photo). No cookie: the
    language switch is CSRF-exempt and nothing here touches the session."""
    rt = runtime()
    found = public.published_alert(rt, alert_id)
    if found is None:
        return ui.http_error_page(404)
    view = public.public_view(rt, found)
    resp = ui.page("web/citizen/alert.html", a=_shown(view), area=public.alert_area(rt, view))
    return _public(resp)


# --- subscribe ---------------------------------------------------------------------------------------------------
class SubscribeForm(FlaskForm):
    # Choices are checked by the view (translated messages), not by WTForms' untranslated "Not a valid choice".
    channel = RadioField(_l("How do you want to get alerts?"), validate_choice=False,
                         choices=[SelectChoice("sms", _l("Text message (SMS)")), SelectChoice("email", _l("Email"))])
    phone = StringField(_l("Mobile phone number"),
                        render_kw={"autocomplete": "tel", "spellcheck": "false", "maxlength": "40"})
    email = StringField(_l("Email address"),
                        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none",
                                   "maxlength": "320"})
    language = RadioField(_l("Language of the alerts"), validate_choice=False,
                          choices=[SelectChoice(tag, name) for tag, name in NATIVE_NAMES.items()])
    area_kind = RadioField(_l("Where do you want alerts for?"), validate_choice=False,
                           choices=[SelectChoice("regions", _l("One or more districts")),
                                    SelectChoice("circle", _l("Around a place (a circle on the map)"))])
    regions = SelectMultipleField(_l("Districts"), validate_choice=False, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
    lat = StringField(_l("Latitude"), render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": "20"})
    lon = StringField(_l("Longitude"), render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": "20"})
    radius_km = StringField(_l("Distance from the place, in kilometres"),
                            render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": "10"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []
        lang = html_lang()
        self.regions.choices = [SelectChoice(r.code, region_name(r.code, lang)) for r in runtime().regions]


def _fail(field: Field, message: str) -> None:
    """Keep the first error of a field (the one shown next to it and in the summary)."""
    if not field.errors:
        field.errors = [message]


def _number(field: Field, missing: str, wrong: str) -> float | None:
    raw = (field.data or "").strip().replace(",", ".").replace("\u2212", "-")  # 44,81 (decimal comma); minus sign
    if not raw:
        _fail(field, missing)
        return None
    try:
        value = float(raw)
    except ValueError:
        _fail(field, wrong)
        return None
    if value != value or value in (float("inf"), float("-inf")):
        _fail(field, wrong)
        return None
    return value


def _address_field(form: SubscribeForm, channel: str | None) -> Field | None:
    return form.phone if channel == "sms" else form.email if channel == "email" else None


def _address_message(channel: str | None) -> str:
    if channel == "sms":
        countries = ", ".join(runtime().settings.subscriptions.sms_allowed_countries)
        return _("Enter a mobile phone number (%(countries)s), like 064 123 4567", countries=countries)
    return _("Enter an email address in the correct format, like name@example.com")


def _place_problem(form: SubscribeForm, dotted: str) -> None:
    """Put a problem of the API's field ``dotted`` (pydantic's loc or a service's field) on the form's field."""
    channel = form.channel.data if form.channel.data in CHANNELS else None
    if dotted == "channel":
        _fail(form.channel, _("Choose text message or email"))
    elif dotted.startswith("address"):
        _fail(_address_field(form, channel) or form.channel, _address_message(channel))
    elif dotted.startswith("language"):
        _fail(form.language, _("Choose the language of your alerts"))
    elif dotted.startswith("area.regions"):
        _fail(form.regions, _("Choose districts from the list"))
    elif dotted.startswith("area.circle.lat"):
        _fail(form.lat, _("Enter a latitude between -90 and 90, like 44.81"))
    elif dotted.startswith("area.circle.lon"):
        _fail(form.lon, _("Enter a longitude between -180 and 180, like 20.46"))
    elif dotted.startswith("area.circle.radius_km"):
        _fail(form.radius_km, _("Enter a distance of more than 0 and at most %(max)s km",
                                max=f"{geo.MAX_RADIUS_KM:g}"))
    elif dotted.startswith("area") and form.area_kind.data == "circle":
        _fail(form.lat, _("This circle does not reach Serbia: check the place and the distance"))
    elif dotted.startswith("area"):
        _fail(form.area_kind, _("Choose districts, or a place and a distance"))
    else:
        form.problems.append(_("Something in the form cannot be used. Check your answers and send it again."))


def _body(form: SubscribeForm) -> dict[str, Any] | None:
    """The JSON API's body built from the form, checked field by field (every problem at once); None when a field
    has an error (each set on its field)."""
    channel = form.channel.data if form.channel.data in CHANNELS else None
    if channel is None:
        _fail(form.channel, _("Choose text message or email"))
    address_field = _address_field(form, channel)
    address = (address_field.data or "").strip() if address_field is not None else ""
    if address_field is not None and not address:
        _fail(address_field, _("Enter your mobile phone number") if channel == "sms" else
              _("Enter your email address"))
    elif address_field is not None and channel is not None:
        try:  # the service's own check now, so that every problem shows at once
            subscriptions.normalise_address(runtime(), channel, address)
        except ValidationFailed:
            _fail(address_field, _address_message(channel))
    language = form.language.data if form.language.data in LANGUAGES else None
    if language is None:
        _fail(form.language, _("Choose the language of your alerts"))
    area: dict[str, Any] | None = None
    if form.area_kind.data == "regions":
        codes = [c for c in form.regions.data or [] if c]
        if not codes:
            _fail(form.regions, _("Choose at least one district"))
        area = {"regions": codes}
    elif form.area_kind.data == "circle":
        lat = _number(form.lat, _("Enter the latitude of the place"), _("Enter the latitude as a number, like 44.81"))
        lon = _number(form.lon, _("Enter the longitude of the place"),
                      _("Enter the longitude as a number, like 20.46"))
        radius = _number(form.radius_km, _("Enter the distance from the place, in kilometres"),
                         _("Enter the distance as a number of kilometres, like 5"))
        area = {"circle": {"lat": lat, "lon": lon, "radius_km": radius}}
    else:
        _fail(form.area_kind, _("Choose districts, or a place and a distance"))
    if ui.form_errors(form):
        return None
    body = {"channel": channel, "address": address, "language": language, "area": area}
    try:
        checked = SubscriptionIn.model_validate(body)
    except PydanticError as exc:
        for error in exc.errors():
            _place_problem(form, ".".join(str(part) for part in error["loc"]))
        return None
    return {"channel": checked.channel, "address": checked.address, "language": checked.language,
            "area": checked.area.model_dump(exclude_none=True)}


def _circle_preview(form: SubscribeForm) -> tuple[geo.Area | None, tuple[float, float] | None]:
    """The circle typed so far (for the map after a failed submit), and its centre."""
    try:
        lat, lon = (float((f.data or "").strip().replace(",", ".")) for f in (form.lat, form.lon))
    except ValueError:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    try:
        radius = float((form.radius_km.data or "").strip().replace(",", "."))
        return geo.parse_area({"circle": {"lat": lat, "lon": lon, "radius_km": radius}}, runtime().regions), (lat, lon)
    except (ValueError, geo.AreaError):
        return None, (lat, lon)


def _render_subscribe(form: SubscribeForm) -> Response:
    circle, point = _circle_preview(form)
    return ui.page("web/citizen/subscribe.html", form=form, circle=circle, point=point,
                   max_radius=f"{geo.MAX_RADIUS_KM:g}")


def _address_limit_key() -> str:
    """The per-address rate limit's key, as the API's (``api/subscriptions.address_limit_key``) but from the form:
    an HMAC of the normalised address, never the address."""
    channel = request.form.get("channel")
    raw = request.form.get("phone" if channel == "sms" else "email") if channel in CHANNELS else None
    if channel is None or not raw:
        return "addr:unparsed"
    rt = runtime()
    try:
        raw = subscriptions.normalise_address(rt, channel, raw)
    except DomainError:
        pass
    return "addr:" + rt.keyed_hash("ratelimit", f"{channel}|{raw.strip().lower()}")


@bp.get("/subscribe")
def subscribe_form() -> Response:
    return _render_subscribe(SubscribeForm(language=current_language()))


@bp.post("/subscribe")
@rate_limited(RateLimit(lambda s: s.ratelimit.subscribe_per_address, key=_address_limit_key),
              RateLimit(lambda s: s.ratelimit.subscribe_per_ip))
def subscribe() -> ResponseReturnValue:
    form = SubscribeForm()
    form.validate_on_submit()  # the CSRF token (also checked app-wide); the fields are checked by _body
    body = _body(form)
    if body is None:
        return _render_subscribe(form)
    try:
        sub_id = subscriptions.request_subscription(runtime(), body["channel"], body["address"], body["language"],
                                                    body["area"])
    except ValidationFailed as exc:
        for error in exc.errors:
            _place_problem(form, str(error.get("field", "")))
        return _render_subscribe(form)
    return redirect(url_for("citizen.confirm", sub_id=sub_id), code=303)


# --- the code ----------------------------------------------------------------------------------------------------
class ConfirmForm(FlaskForm):
    code = StringField(_l("Confirmation code"),
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "maxlength": "12"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []


def _render_confirm(form: ConfirmForm, sub_id: str, state: subscriptions.Confirmation) -> Response:
    settings = runtime().settings.subscriptions
    return ui.page("web/citizen/confirm.html", form=form, sub_id=sub_id, state=state,
                   ttl_minutes=settings.code_ttl_minutes)


def _state(sub_id: str) -> subscriptions.Confirmation | None:
    try:
        return subscriptions.confirmation(runtime(), sub_id)
    except NotFound:
        return None


@bp.get("/subscribe/<sub_id>/confirm")
def confirm_form(sub_id: str) -> ResponseReturnValue:
    state = _state(sub_id)
    if state is None:
        return ui.http_error_page(404)
    return _render_confirm(ConfirmForm(), sub_id, state)  # a confirmed one says so (and links to what is next)


@bp.post("/subscribe/<sub_id>/confirm")
def confirm(sub_id: str) -> ResponseReturnValue:
    form = ConfirmForm()
    form.validate_on_submit()  # the CSRF token
    state = _state(sub_id)
    if state is None:
        return ui.http_error_page(404)
    typed = re.sub(r"[\s\-]", "", form.code.data or "")  # "123 456" and "123-456" are the code too
    if not typed:
        _fail(form.code, _("Enter the 6-digit code we sent you"))
        return _render_confirm(form, sub_id, state)
    try:
        code = ConfirmIn.model_validate({"code": typed}).code
    except PydanticError:
        _fail(form.code, _("Enter the code as 6 digits, like 123456"))
        return _render_confirm(form, sub_id, state)
    try:
        result = subscriptions.confirm_or_attempts_left(runtime(), sub_id, code)
    except (TooManyRequests, Conflict):
        return _render_confirm(form, sub_id, _state(sub_id) or state)  # locked, expired or ended: the page says
    if isinstance(result, int):
        state = subscriptions.Confirmation("locked" if result <= 0 else "waiting", state.channel, result)
        if result > 0:
            _fail(form.code, ngettext("This is not the code we sent. You can try %(num)d more time.",
                                      "This is not the code we sent. You can try %(num)d more times.", result))
        return _render_confirm(form, sub_id, state)
    return redirect(url_for("citizen.subscribed"), code=303)


@bp.get("/subscribe/done")
def subscribed() -> Response:
    return ui.page("web/citizen/done.html")
