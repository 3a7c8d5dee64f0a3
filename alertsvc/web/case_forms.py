"""The console's case form (intake and edit facts) and what it builds, so the page and the JSON API obey one set
of rules.

- The form's values become the body ``POST /api/v1/cases`` would receive, validated by ``CaseIn.model_validate``;
  the criteria check builds the same facts as ``CaseFactsIn`` (every field optional); an edit becomes the
  ``CasePatch`` of what differs from the stored case.
- Pydantic's errors (by ``loc``) and a service's ``ValidationFailed`` (by dotted field) land on the form field they
  are about, in words an operator on a call can act on.
- Where the child was last seen: coordinates (typed, or picked on the map, which types them), or a district of the
  catalogue. The API stores coordinates, so a district alone stands for its *representative point*
  (``shapely``'s ``representative_point``: a point guaranteed inside the district, near its middle; a centroid may
  fall outside a concave district). Coordinates outside the district chosen with them are refused: one of the two
  is wrong. On the edit page, changing the district while leaving the stored coordinates as they were moves the
  point to the new district's representative point.
- Date and time last seen are typed separately, in Europe/Belgrade, and become an aware datetime.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Generic, TypeVar, get_args
from zoneinfo import ZoneInfo

import shapely
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2

import geo

from ..errors import ValidationFailed
from ..schemas import CaseCloseIn, CaseFactsIn, CaseIn, CasePatch

BELGRADE = ZoneInfo("Europe/Belgrade")
SECTIONS = ("child", "last_seen", "circumstances", "police", "reporter")
BOOLEAN_FACTS = ("circumstances.abduction_suspected", "circumstances.abduction_witnessed",
                 "circumstances.imminent_danger", "circumstances.medical_or_disability", "police.confirmed")
TEXT_FACTS = ("child.name", "child.description", "last_seen.place", "circumstances.suspect",
              "circumstances.vehicle", "circumstances.plate", "police.reference", "reporter.name", "reporter.phone")

# Every fact of a case, in the page's order, with its label (the case page, "What changed", the audit trail).
FACT_LABELS: dict[str, Any] = {
    "child.age": _l("Age"),
    "child.name": _l("Name"),
    "child.sex": _l("Sex"),
    "child.description": _l("Description"),
    "last_seen.at": _l("Last seen at"),
    "last_seen.lat": _l("Latitude"),
    "last_seen.lon": _l("Longitude"),
    "last_seen.place": _l("Place"),
    "circumstances.abduction_suspected": _l("Abduction suspected"),
    "circumstances.abduction_witnessed": _l("Abduction witnessed"),
    "circumstances.imminent_danger": _l("In imminent danger"),
    "circumstances.medical_or_disability": _l("Medical condition or disability"),
    "circumstances.suspect": _l("Suspect"),
    "circumstances.vehicle": _l("Vehicle"),
    "circumstances.plate": _l("Number plate"),
    "police.confirmed": _l("Police have verified the report"),
    "police.reference": _l("Police reference"),
    "reporter.name": _l("Reporter's name"),
    "reporter.phone": _l("Reporter's phone"),
}
FACTS = tuple(FACT_LABELS)

TRI_STATE = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No")), SelectChoice("", _l("Not known"))]
SEXES = [SelectChoice("f", _l("Female")), SelectChoice("m", _l("Male")), SelectChoice("x", _l("Other")),
         SelectChoice("", _l("Not known"))]
OUTCOMES: tuple[str, ...] = get_args(CaseCloseIn.model_fields["outcome"].annotation)  # what the API accepts
OUTCOME_LABELS: dict[str, Any] = {"found": _l("The child was found"), "withdrawn": _l("The report was withdrawn"),
                                  "other": _l("Other")}
NO_TRACK = {"autocomplete": "off", "spellcheck": "false"}  # the browser must not offer one child's data for another


def _tri_state(label: Any) -> RadioField:
    return RadioField(label, choices=TRI_STATE, default="", validate_choice=False)


class CaseForm(FlaskForm):
    """The facts of ``CaseIn``, one field per fact, named ``<section>_<key>``, in the page's (and the error
    summary's) order: in each section the required fields first. No WTForms validators: ``CaseIn`` decides."""
    child_age = StringField(_l("Age in years"), render_kw={**NO_TRACK, "inputmode": "numeric"})
    child_name = StringField(_l("Full name"), render_kw=NO_TRACK)
    child_sex = RadioField(_l("Sex"), choices=SEXES, default="", validate_choice=False)
    child_description = TextAreaField(_l("Description"), render_kw=NO_TRACK)
    last_seen_date = StringField(_l("Date"), render_kw=NO_TRACK)
    last_seen_time = StringField(_l("Time"), render_kw=NO_TRACK)
    last_seen_district = SelectField(_l("District"), choices=[], validate_choice=False)
    last_seen_lat = StringField(_l("Latitude"), render_kw={**NO_TRACK, "inputmode": "decimal"})
    last_seen_lon = StringField(_l("Longitude"), render_kw={**NO_TRACK, "inputmode": "decimal"})
    last_seen_place = StringField(_l("Place"), render_kw=NO_TRACK)
    circumstances_abduction_suspected = _tri_state(_l("Is an abduction suspected?"))
    circumstances_abduction_witnessed = _tri_state(_l("Did someone see the abduction?"))
    circumstances_imminent_danger = _tri_state(_l("Is the child in imminent danger?"))
    circumstances_medical_or_disability = _tri_state(_l("Does the child have a medical condition or disability?"))
    circumstances_suspect = TextAreaField(_l("Suspect"), render_kw=NO_TRACK)
    circumstances_vehicle = StringField(_l("Vehicle"), render_kw=NO_TRACK)
    circumstances_plate = StringField(_l("Number plate"), render_kw=NO_TRACK)
    police_confirmed = _tri_state(_l("Have the police verified the report?"))
    police_reference = StringField(_l("Police reference"), render_kw=NO_TRACK)
    reporter_name = StringField(_l("Name of the person reporting"), render_kw=NO_TRACK)
    reporter_phone = StringField(_l("Their phone number"), render_kw={**NO_TRACK, "inputmode": "tel"})
    revision = HiddenField()  # the edit page: the case's revision the form was filled from

    problems: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems = []


class CloseForm(FlaskForm):
    outcome = RadioField(_l("How did the case end?"), choices=[SelectChoice(o, OUTCOME_LABELS.get(o, o))
                                                                for o in OUTCOMES],
                         validate_choice=False)
    note = TextAreaField(_l("Note (optional)"))
    problems: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems = []


def field_name(fact: str) -> str:
    """The form field of a dotted fact: ``child.age`` -> ``child_age``."""
    return fact.replace(".", "_")


# --- districts ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class District:
    code: str
    name: str
    lat: float  # its representative point
    lon: float


@lru_cache(maxsize=8)
def _points(catalogue: geo.RegionCatalogue) -> dict[str, tuple[float, float]]:
    points: dict[str, tuple[float, float]] = {}
    for region in catalogue:
        p = region.geometry.representative_point()
        points[region.code] = (round(p.y, 5), round(p.x, 5))
    return points


def district_point(catalogue: geo.RegionCatalogue, code: str) -> tuple[float, float]:
    """(lat, lon) of the district's representative point, to 5 decimals (about a metre)."""
    return _points(catalogue)[code]


def district_name(catalogue: geo.RegionCatalogue, code: str | None, language: str) -> str:
    region = catalogue.get(code) if code else None
    if region is None:
        return code or ""
    return region.names.get(language, region.name)


# Serbian alphabetical order (Latin and Cyrillic): Č, Ć after C, Đ after D, Š after S, Ž after Z...
_ALPHABET = {ch: i for i, ch in enumerate("abcčćdđefghijklmnopqrsštuvwxyzž")}
_ALPHABET.update({ch: i for i, ch in enumerate("абвгдђежзијклљмнњопрстћуфхцчџш")})


def _alphabetical(name: str) -> tuple[int, ...]:
    return tuple(_ALPHABET.get(ch, 100 + ord(ch)) for ch in name.casefold())


def districts(catalogue: geo.RegionCatalogue, language: str) -> list[District]:
    """The catalogue's districts by name in ``language`` (Serbian alphabetical order), each with its
    representative point."""
    points = _points(catalogue)
    found = [District(r.code, r.names.get(language, r.name), *points[r.code]) for r in catalogue]
    return sorted(found, key=lambda d: _alphabetical(d.name))


def district_choices(catalogue: geo.RegionCatalogue, language: str) -> list[SelectChoice]:
    """Options for the last-seen district: each carries its point (``data-lat``, ``data-lon``) for intake.js."""
    return [SelectChoice("", _("Choose a district"))] + [
        SelectChoice(d.code, d.name, {"data-lat": f"{d.lat:.5f}", "data-lon": f"{d.lon:.5f}"})
        for d in districts(catalogue, language)]


# --- reading the form ---------------------------------------------------------------------------------------
_AGE = re.compile(r"(\d{1,3})\Z")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_LOCAL_DATE = re.compile(r"(\d{1,2})\s*\.\s*(\d{1,2})\s*\.\s*(\d{4})\.?\Z")  # 23.11.2026 (how Serbia writes it)
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\Z")


def parse_date(text: str) -> date:
    """``2026-11-23`` (what a date input sends) or ``23.11.2026``; ValueError otherwise."""
    m = _ISO_DATE.match(text)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _LOCAL_DATE.match(text)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    raise ValueError(text)


def parse_time(text: str) -> time:
    """``14:30``, ``14.30`` or ``14:30:15``; ValueError otherwise."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(text)
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def parse_coordinate(text: str) -> float:
    """A decimal degree: a decimal comma and a trailing degree sign are accepted; ValueError otherwise."""
    value = float(text.strip().rstrip("°").replace(",", ".").replace("\u2212", "-"))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


@dataclass
class Reading:
    """The form as the API's body: ``body`` has the sections of ``CaseIn`` with the values given (Python types;
    blank fields left out), ``errors`` what could not be read (field name -> message), ``district_point`` whether
    the coordinates are the chosen district's representative point."""
    body: dict[str, dict[str, Any]]
    errors: dict[str, str] = field(default_factory=dict)
    district_point: bool = False


def read_form(form: CaseForm, catalogue: geo.RegionCatalogue, *, language: str = "",
              stored_point: tuple[float, float] | None = None) -> Reading:
    """Read every fact of ``form`` (district names in ``language``). ``stored_point``: the case's stored
    (lat, lon), on the edit page."""
    reading = Reading({section: {} for section in SECTIONS})
    body, errors = reading.body, reading.errors

    def value(fact: str) -> str:
        return str(form[field_name(fact)].data or "")

    age = value("child.age").strip()
    if age:
        m = _AGE.match(age)
        if m:
            body["child"]["age"] = int(m.group(1))
        else:
            errors["child_age"] = _("Enter the age as a whole number of years, like 9")
    if value("child.sex"):
        body["child"]["sex"] = value("child.sex")  # anything but f, m or x: CaseIn refuses it
    for fact in TEXT_FACTS:
        if value(fact).strip():
            section, key = fact.split(".")
            body[section][key] = value(fact)
    for fact in BOOLEAN_FACTS:
        section, key = fact.split(".")
        given = value(fact)
        if given:
            body[section][key] = {"yes": True, "no": False}.get(given, given)  # another value: CaseIn refuses it

    at = _read_when(value("last_seen.date").strip(), value("last_seen.time").strip(), errors)
    if at is not None:
        body["last_seen"]["at"] = at
    _read_where(form, catalogue, language, stored_point, reading)
    return reading


def _read_when(date_text: str, time_text: str, errors: dict[str, str]) -> datetime | None:
    day = moment = None
    if date_text:
        try:
            day = parse_date(date_text)
        except ValueError:
            errors["last_seen_date"] = _("Enter a real date, like 23.11.2026")
    if time_text:
        try:
            moment = parse_time(time_text)
        except ValueError:
            errors["last_seen_time"] = _("Enter the time as hours and minutes, like 14:30")
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment, tzinfo=BELGRADE)


def _read_where(form: CaseForm, catalogue: geo.RegionCatalogue, language: str,
                stored_point: tuple[float, float] | None, reading: Reading) -> None:
    errors = reading.errors
    lat_text = str(form.last_seen_lat.data or "").strip()
    lon_text = str(form.last_seen_lon.data or "").strip()
    point: tuple[float, float] | None = None
    if lat_text or lon_text:
        lat = lon = None
        for text, name in ((lat_text, "last_seen_lat"), (lon_text, "last_seen_lon")):
            if not text:
                errors[name] = (_("Enter the latitude too, or clear the longitude") if name == "last_seen_lat"
                                else _("Enter the longitude too, or clear the latitude"))
                continue
            try:
                number = parse_coordinate(text)
            except ValueError:
                errors[name] = (_("Enter the latitude as a decimal number, like 44.8125") if name == "last_seen_lat"
                                else _("Enter the longitude as a decimal number, like 20.4612"))
                continue
            if name == "last_seen_lat":
                lat = number
            else:
                lon = number
        if lat is not None and lon is not None:
            point = (lat, lon)
    code = str(form.last_seen_district.data or "")
    if code and code not in catalogue:
        errors["last_seen_district"] = _("Choose a district from the list")
        code = ""
    if code and point is not None and abs(point[0]) <= 90 and abs(point[1]) <= 180:
        inside = catalogue.regions_intersecting(shapely.Point(point[1], point[0]))
        if code not in inside:
            if stored_point is not None and point == stored_point:
                point = None  # the district was changed and the stored coordinates left: the district decides
            else:
                where = ", ".join(district_name(catalogue, c, language) for c in inside)
                errors["last_seen_district"] = (
                    _("The coordinates are in %(districts)s, not in this district. Clear the coordinates to use "
                      "the district, or choose the district they are in.", districts=where) if where else
                    _("The coordinates are outside every district. Check them, or clear them to use the district."))
    if point is None and code and "last_seen_district" not in errors:
        point = district_point(catalogue, code)
        reading.district_point = True
    if point is not None:
        reading.body["last_seen"]["lat"], reading.body["last_seen"]["lon"] = point


# --- validating: pydantic's rules, the form's words ------------------------------------------------------
M = TypeVar("M", bound=BaseModel)


@dataclass
class Built(Generic[M]):
    """A validated model, or the errors by form field (``""``: about no one field), never both."""
    model: M | None
    errors: dict[str, str]
    district_point: bool = False


WHERE_FIELDS = {"last_seen_district", "last_seen_lat", "last_seen_lon"}
MISSING: dict[str, Any] = {
    "child_age": _l("Enter the child's age"),
    "last_seen_date": _l("Enter the date the child was last seen"),
    "last_seen_time": _l("Enter the time the child was last seen"),
    "last_seen_district": _l("Choose the district where the child was last seen, or enter the coordinates"),
}


def _target(loc: tuple[str, ...], form: CaseForm) -> str:
    """The form field a pydantic ``loc`` (or a service's dotted field) is about."""
    if loc[:2] == ("last_seen", "at"):
        if not str(form.last_seen_date.data or "").strip():
            return "last_seen_date"
        return "last_seen_time" if not str(form.last_seen_time.data or "").strip() else "last_seen_date"
    if loc[:2] in (("last_seen", "lat"), ("last_seen", "lon")) or loc == ("last_seen",):
        typed = str(form.last_seen_lat.data or "").strip() or str(form.last_seen_lon.data or "").strip()
        return "_".join(loc[:2]) if typed and len(loc) > 1 else "last_seen_district"
    name = "_".join(loc[:2])
    return name if name in form else ""


def _message(name: str, err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return str(MISSING.get(name, _("Enter this")))
    if name == "child_age":
        return _("Enter an age between 0 and 120")
    if name == "last_seen_lat" and kind in ("greater_than_equal", "less_than_equal"):
        return _("Enter a latitude between -90 and 90 (Serbia lies between about 42 and 46)")
    if name == "last_seen_lon" and kind in ("greater_than_equal", "less_than_equal"):
        return _("Enter a longitude between -180 and 180 (Serbia lies between about 19 and 23)")
    if name == "reporter_phone":
        return _("Enter a phone number of digits, spaces and + ( ) . / - only, like +381 64 123 4567")
    if kind == "string_too_long":
        return _("Use %(n)s characters or fewer", n=ctx.get("max_length", ""))
    if kind == "literal_error":
        return _("Choose one of the options")
    if kind == "bool_type":
        return _("Choose yes, no or not known")
    return str(err.get("msg", _("Check this")))


def pydantic_errors(exc: ValidationError, form: CaseForm) -> dict[str, str]:
    found: dict[str, str] = {}
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        name = _target(loc, form)
        found.setdefault(name, _message(name, err))
    return found


SERVICE_MESSAGES = {"lies in the future": _l("The date and time last seen cannot be in the future")}


def service_errors(exc: ValidationFailed, form: CaseForm) -> dict[str, str]:
    """A service's field errors (``{"field": "last_seen.at", "message": ...}``) by form field."""
    found: dict[str, str] = {}
    for err in exc.errors:
        name = _target(tuple(err.get("field", "").split(".")), form)
        message = err.get("message", "")
        found.setdefault(name, str(SERVICE_MESSAGES.get(message, message)))
    return found


def _build(model: type[M], form: CaseForm, catalogue: geo.RegionCatalogue, language: str,
           stored_point: tuple[float, float] | None = None) -> Built[M]:
    reading = read_form(form, catalogue, language=language, stored_point=stored_point)
    errors = dict(reading.errors)
    built: M | None = None
    try:
        built = model.model_validate(reading.body)
    except ValidationError as exc:
        found = pydantic_errors(exc, form)
        if WHERE_FIELDS & errors.keys():  # a point half typed or in the wrong district: said already
            found = {k: v for k, v in found.items() if k not in WHERE_FIELDS}
        for name, message in found.items():
            errors.setdefault(name, message)
        if found.get("last_seen_date") == str(MISSING["last_seen_date"]) and not str(form.last_seen_time.data or
                                                                                      "").strip():
            errors.setdefault("last_seen_time", str(MISSING["last_seen_time"]))  # both blank: say so for both
    if errors:
        return Built(None, errors, reading.district_point)
    return Built(built, {}, reading.district_point)


def case_in(form: CaseForm, catalogue: geo.RegionCatalogue, language: str,
            stored_point: tuple[float, float] | None = None) -> Built[CaseIn]:
    """The form as ``POST /cases`` would take it (every required fact given)."""
    return _build(CaseIn, form, catalogue, language, stored_point)


def case_facts(form: CaseForm, catalogue: geo.RegionCatalogue, language: str) -> Built[CaseFactsIn]:
    """The form as ``POST /criteria/evaluate`` would take it (any fact may be missing)."""
    return _build(CaseFactsIn, form, catalogue, language)


def show_errors(form: Any, errors: Mapping[str, str]) -> None:
    """Put each message on its field (the first stays), the rest on ``form.problems``."""
    for name, message in errors.items():
        if name and name in form:
            if not form[name].errors:
                form[name].errors = [message]
        elif message not in form.problems:
            form.problems.append(message)


# --- prefilling and comparing (edit facts) ------------------------------------------------------------------
def stored_at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def form_data(sections: Mapping[str, Mapping[str, Any] | None], catalogue: geo.RegionCatalogue) -> dict[str, str]:
    """The stored facts as the edit form's values (booleans as yes/no, the time in Europe/Belgrade, the district
    containing the coordinates)."""
    data: dict[str, str] = {}
    for fact in FACTS:
        section, key = fact.split(".")
        got = (sections.get(section) or {}).get(key)
        if got is None or fact == "last_seen.at":
            continue
        if isinstance(got, bool):
            data[field_name(fact)] = "yes" if got else "no"
        else:
            data[field_name(fact)] = str(got)  # floats as repr: read back exactly
    at = stored_at((sections.get("last_seen") or {}).get("at"))
    if at is not None:
        local = at.astimezone(BELGRADE)
        data["last_seen_date"] = local.date().isoformat()
        data["last_seen_time"] = local.strftime("%H:%M:%S" if local.second else "%H:%M")
    point = stored_point_of(sections)
    if point is not None:
        inside = catalogue.regions_intersecting(shapely.Point(point[1], point[0]))
        data["last_seen_district"] = inside[0] if inside else ""
    return data


def stored_point_of(sections: Mapping[str, Mapping[str, Any] | None]) -> tuple[float, float] | None:
    last_seen = sections.get("last_seen") or {}
    lat, lon = last_seen.get("lat"), last_seen.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        return (float(lat), float(lon))
    return None


@dataclass(frozen=True)
class Change:
    fact: str  # dotted: child.age
    old: Any  # as stored (JSON values; None: not given)
    new: Any  # as it will be stored


def _same(fact: str, old: Any, new: Any) -> bool:
    if fact == "last_seen.at":
        a, b = stored_at(old), stored_at(new)
        if a is not None and b is not None:
            return a.replace(microsecond=0) == b.replace(microsecond=0)
    return bool(old == new)


def changes(sections: Mapping[str, Mapping[str, Any] | None], new: CaseIn) -> list[Change]:
    """The facts of ``new`` that differ from the stored ``sections`` (given, changed or removed), page order."""
    dumped = new.model_dump(mode="json", exclude_none=True)
    out: list[Change] = []
    for fact in FACTS:
        section, key = fact.split(".")
        old = (sections.get(section) or {}).get(key)
        value = dumped.get(section, {}).get(key)
        if not _same(fact, old, value):
            out.append(Change(fact, old, value))
    return out


def patch_of(found: list[Change], new: CaseIn) -> CasePatch:
    """The ``CasePatch`` of ``found``: the new value of each changed fact, None for one removed."""
    body: dict[str, dict[str, Any]] = {}
    for change in found:
        section, key = change.fact.split(".")
        body.setdefault(section, {})[key] = getattr(getattr(new, section), key)
    return CasePatch.model_validate(body)


def close_in(form: CloseForm) -> Built[CaseCloseIn]:
    body = {"outcome": form.outcome.data or None, "note": form.note.data or None}
    if body["outcome"] is None:
        return Built(None, {"outcome": _("Choose how the case ended")})
    try:
        return Built(CaseCloseIn.model_validate(body), {})
    except ValidationError as exc:
        found: dict[str, str] = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            message = (_("Choose how the case ended") if name == "outcome" else
                       _("Use %(n)s characters or fewer", n=2000) if err["type"] == "string_too_long" else
                       str(err["msg"]))
            found.setdefault(name, message)
        return Built(None, found)
