"""The alert pages' forms: the request (area, message), the supervisor's decision (checklist, reach, reason), the
fatigue override, an update, a decision on an update, resolve and renew.

A form parses what was typed and builds what the JSON API would receive; the API's own input models
(``schemas.AlertIn``, ``ApproveIn``, ``ReasonIn``, ``ResolveIn``, ``UpdateIn``) validate it, so a page and the API
obey one set of rules, and their errors (and the services' ``ValidationFailed`` field lists) land on the field
they are about (``place_errors``).

CSRF: every POST of the site is checked by ``CSRFProtect`` (the token a page's form carries as ``csrf_token``);
these forms do not check it a second time, so several prefixed forms can share a page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import BooleanField, Field, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.widgets import CheckboxInput, ListWidget

from ..schemas import AlertIn, ResolveIn

AREA_KINDS = ("regions", "circle", "polygon")
OUTCOMES: tuple[str, ...] = get_args(ResolveIn.model_fields["outcome"].annotation)
REASON_MIN, REASON_MAX = 3, 2000  # ApproveIn / ReasonIn
TEXT_MAX = 1000  # AlertMessageIn / UpdateIn
_SPLIT = re.compile(r"[,;\s]+")  # between a vertex's latitude and longitude (as map.js writes and reads them)


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes, one per choice (rendered by the ``choices(..., checkboxes=True)`` macro)."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _Form(FlaskForm):
    """A page form: its own problems (not about one field) in ``problems``, for the error summary."""

    class Meta:
        csrf = False  # CSRFProtect checks every POST (see the module's docstring)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []

    def add_error(self, field: Field | None, message: str) -> None:
        if field is None:
            self.problems.append(message)
        elif not field.errors:  # the first error of a field is the one shown
            field.errors = [*field.errors, message]

    @property
    def has_errors(self) -> bool:
        return bool(self.problems) or any(f.errors for f in self)


def _pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]


def place_errors(form: _Form, errors: Iterable[Mapping[str, str]], where: Mapping[str, str],
                 fallback: str | None = None) -> None:
    """Put field errors (``{"field": "area.circle.lat", "message": ...}``, from a service's ``ValidationFailed``
    or a pydantic model) on the form's fields: ``where`` maps a dotted prefix to a field name (the longest
    matching prefix wins); an error no prefix matches goes on ``fallback`` or, without one, into the summary."""
    prefixes = sorted(where, key=len, reverse=True)
    for error in errors:
        path = str(error.get("field", ""))
        name = next((where[p] for p in prefixes if path == p or path.startswith((p + ".", p + "["))), fallback)
        field = form[name] if name and name in form else None
        form.add_error(field, str(error.get("message", "")))


# --- requesting an alert -------------------------------------------------------------------------------
def _number(form: _Form, field: Field, missing: str, example: str) -> float | None:
    text = (field.data or "").strip().replace(",", ".")
    if not text:
        form.add_error(field, missing)
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        form.add_error(field, _("Enter a number, like %(example)s", example=example))
        return None
    return value


# where a service's or the API model's error about a requested alert lands (dotted prefix -> field)
REQUEST_ERRORS = {"area.circle.lat": "lat", "area.circle.lon": "lon", "area.circle.radius_km": "radius_km",
                  "area.circle": "lat", "area.regions": "regions", "area.polygon": "polygon", "message": "text"}


class AlertRequestForm(_Form):
    area_kind = RadioField(_l("How do you want to give the area?"),
                           choices=[SelectChoice("regions", _l("Districts")),
                                    SelectChoice("circle", _l("A circle around a point")),
                                    SelectChoice("polygon", _l("An area drawn by its corners"))],
                           validate_choice=False)
    regions = MultiCheckboxField(_l("Districts"), choices=[], validate_choice=False)
    lat = StringField(_l("Latitude of the centre"), render_kw={"inputmode": "decimal", "spellcheck": "false",
                                                                "autocomplete": "off"})
    lon = StringField(_l("Longitude of the centre"), render_kw={"inputmode": "decimal", "spellcheck": "false",
                                                                 "autocomplete": "off"})
    radius_km = StringField(_l("Radius in kilometres"), render_kw={"inputmode": "decimal", "spellcheck": "false",
                                                                    "autocomplete": "off"})
    polygon = TextAreaField(_l("Corners of the area"), render_kw={"spellcheck": "false", "autocomplete": "off"})
    text = TextAreaField(_l("Your own message text (optional)"))

    def area_field(self) -> str:
        """The field an error about the area as a whole goes on."""
        return {"regions": "regions", "circle": "lat", "polygon": "polygon"}.get(self.area_kind.data or "",
                                                                                 "area_kind")

    def _area(self) -> dict[str, Any] | None:
        kind = self.area_kind.data
        if kind not in AREA_KINDS:
            self.add_error(self.area_kind, _("Choose how you want to give the area"))
            return None
        if kind == "regions":
            codes = [c for c in (self.regions.data or []) if c]
            if not codes:
                self.add_error(self.regions, _("Choose at least one district"))
                return None
            return {"regions": codes}
        if kind == "circle":
            lat = _number(self, self.lat, _("Enter the latitude of the centre"), "44.81")
            lon = _number(self, self.lon, _("Enter the longitude of the centre"), "20.46")
            radius = _number(self, self.radius_km, _("Enter the radius in kilometres"), "10")
            if lat is not None and not -90 <= lat <= 90:
                self.add_error(self.lat, _("The latitude must be between -90 and 90"))
            if lon is not None and not -180 <= lon <= 180:
                self.add_error(self.lon, _("The longitude must be between -180 and 180"))
            if radius is not None and not 0 < radius <= 500:
                self.add_error(self.radius_km, _("The radius must be more than 0 and at most 500 km"))
            if self.has_errors or lat is None or lon is None or radius is None:
                return None
            return {"circle": {"lat": lat, "lon": lon, "radius_km": radius}}
        return self._polygon()

    def _polygon(self) -> dict[str, Any] | None:
        vertices: list[list[float]] = []
        for number, line in enumerate((self.polygon.data or "").splitlines(), start=1):
            parts = [p for p in _SPLIT.split(line.strip()) if p]
            if not parts:
                continue
            try:
                lat, lon = (float(p) for p in parts) if len(parts) == 2 else (float("nan"), float("nan"))
            except ValueError:
                lat = lon = float("nan")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                self.add_error(self.polygon, _("Line %(number)s is not a latitude and a longitude, like "
                                               "44.81, 20.46", number=number))
                return None
            vertices.append([lon, lat])
        if vertices and vertices[0] == vertices[-1]:
            vertices.pop()
        if len(vertices) < 3:
            self.add_error(self.polygon, _("Give at least 3 corners, one per line"))
            return None
        ring = [*vertices, vertices[0]]
        return {"polygon": {"type": "Polygon", "coordinates": [ring]}}

    def parse(self) -> tuple[dict[str, Any], str | None] | None:
        """The API's area object and message text, checked by ``schemas.AlertIn``; None (errors on the fields)
        when something is missing or wrong. The area's geometry is checked by the service (``place_errors``)."""
        area = self._area()
        text = self.text.data or ""
        if len(text.strip()) > TEXT_MAX:
            self.add_error(self.text, _("The message text must be %(max)s characters or fewer", max=TEXT_MAX))
        if area is None or self.has_errors:
            return None
        try:
            body = AlertIn.model_validate({"area": area, "message": {"text": text}})
        except ValidationError as exc:
            place_errors(self, _pydantic_errors(exc), REQUEST_ERRORS, self.area_field())
            return None
        return body.area.model_dump(exclude_none=True), body.message.text

    def hidden_values(self) -> list[tuple[str, str]]:
        """(name, value) of every answer, for the hidden fields of the "check your answers" step."""
        out: list[tuple[str, str]] = [("area_kind", self.area_kind.data or "")]
        out += [("regions", code) for code in (self.regions.data or [])]
        out += [(name, self[name].data or "") for name in ("lat", "lon", "radius_km", "polygon", "text")]
        return out


# --- the supervisor's decision ---------------------------------------------------------------------------
def checklist_field_name(item_id: str) -> str:
    return f"checklist_{item_id}"


class DecisionForm(_Form):
    """Approve (every checklist item, the reach confirmed, a reason) or reject (a reason). The checklist's fields
    are added per profile (``decision_form``); ``seen`` carries the decision state the screen showed."""
    reach_confirmed = BooleanField()
    reason = TextAreaField(_l("Reason for your decision"))
    seen = HiddenField()

    checklist_ids: Sequence[tuple[str, str]] = ()  # (item id, text)

    def _reason(self) -> str | None:
        reason = (self.reason.data or "").strip()
        if len(reason) < REASON_MIN:
            self.add_error(self.reason, _("Give the reason for your decision (at least %(min)s characters)",
                                          min=REASON_MIN))
            return None
        if len(reason) > REASON_MAX:
            self.add_error(self.reason, _("The reason must be %(max)s characters or fewer", max=REASON_MAX))
            return None
        return reason

    def checklist(self) -> dict[str, bool]:
        return {item_id: bool(self[checklist_field_name(item_id)].data) for item_id, _text in self.checklist_ids}

    def parse_approval(self) -> tuple[str, dict[str, bool], dict[str, str] | None] | None:
        """(reason, checklist, seen) when every item is ticked, the reach confirmed and a reason given."""
        for item_id, text in self.checklist_ids:
            field = self[checklist_field_name(item_id)]
            if not field.data:
                self.add_error(field, _("Tick to confirm: %(item)s", item=text))
        if not self.reach_confirmed.data:
            self.add_error(self.reach_confirmed, _("Tick to confirm how many people this will reach"))
        reason = self._reason()
        seen = self.seen_state()
        if reason is None or self.has_errors:
            return None
        return reason, self.checklist(), seen

    def parse_rejection(self) -> str | None:
        return self._reason()

    def seen_state(self) -> dict[str, str] | None:
        """The decision state the page showed (None when the form did not carry one)."""
        try:
            value = json.loads(self.seen.data or "null")
        except ValueError:
            return None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in value.items()):
            return None
        return value


def decision_form(checklist: Sequence[tuple[str, str]], people: int, **kwargs: Any) -> DecisionForm:
    """The decision form for the active profile's checklist ((id, text) pairs) and a reach of ``people``."""
    attrs: dict[str, Any] = {checklist_field_name(item_id): BooleanField(text) for item_id, text in checklist}
    attrs["checklist_ids"] = tuple(checklist)
    cls = type("ProfileDecisionForm", (DecisionForm,), attrs)
    form: DecisionForm = cls(prefix="decision", **kwargs)
    form.reach_confirmed.label.text = ngettext("I understand this will reach %(num)d person",
                                               "I understand this will reach %(num)d people", people)
    return form


class ReasonForm(_Form):
    """A reason alone: the fatigue override, a decision on an update."""
    reason = TextAreaField(_l("Reason"))

    def parse(self) -> str | None:
        reason = (self.reason.data or "").strip()
        if len(reason) < REASON_MIN:
            self.add_error(self.reason, _("Give the reason (at least %(min)s characters)", min=REASON_MIN))
            return None
        if len(reason) > REASON_MAX:
            self.add_error(self.reason, _("The reason must be %(max)s characters or fewer", max=REASON_MAX))
            return None
        return reason


class OverrideForm(ReasonForm):
    reason = TextAreaField(_l("Why the alert must go out although the budget is used up"))


class UpdateDecisionForm(ReasonForm):
    reason = TextAreaField(_l("Reason for your decision on this update"))


# --- the live alert --------------------------------------------------------------------------------------
class UpdateForm(_Form):
    text = TextAreaField(_l("What the update says"))
    facts = BooleanField(_l("Also publish the case's facts as they are now"))

    def parse(self) -> tuple[str, bool] | None:
        text = (self.text.data or "").strip()
        if not text:
            self.add_error(self.text, _("Enter what the update says"))
            return None
        if len(text) > TEXT_MAX:
            self.add_error(self.text, _("The update must be %(max)s characters or fewer", max=TEXT_MAX))
            return None
        return text, bool(self.facts.data)


class ResolveForm(_Form):
    outcome = RadioField(_l("Outcome"), choices=[SelectChoice("found", _l("The child was found")),
                                                 SelectChoice("withdrawn", _l("The alert is withdrawn")),
                                                 SelectChoice("other", _l("Other"))], validate_choice=False)
    note = TextAreaField(_l("Note (optional)"))

    def parse(self) -> tuple[str, str | None] | None:
        if self.outcome.data not in OUTCOMES:
            self.add_error(self.outcome, _("Choose the outcome"))
        note = (self.note.data or "").strip()
        if len(note) > TEXT_MAX:
            self.add_error(self.note, _("The note must be %(max)s characters or fewer", max=TEXT_MAX))
        if self.has_errors:
            return None
        try:
            body = ResolveIn.model_validate({"outcome": self.outcome.data, "note": note})
        except ValidationError as exc:
            place_errors(self, _pydantic_errors(exc), {"outcome": "outcome", "note": "note"})
            return None
        return body.outcome, body.note


class RenewForm(_Form):
    """Renew: nothing to type (the CSRF token is the form)."""
