"""CAP 1.2 (OASIS Common Alerting Protocol) documents and their Atom index, rendered from plain values.

Pure rendering: no database, no Flask. Everything comes in as frozen dataclasses that validate themselves on
construction (``ValueError`` on anything the CAP 1.2 spec or its XSD forbids), and the XML is built with
``xml.etree.ElementTree`` so every text value is escaped by the serializer, never by hand.

Spec points this module follows (OASIS CAP v1.2, 1 July 2010):

* ``identifier`` and ``sender`` MUST NOT include spaces, commas or the restricted characters ``<`` and ``&``.
* Date-times are ``YYYY-MM-DDThh:mm:ss`` plus an explicit ``+hh:mm``/``-hh:mm`` offset: no fractional seconds,
  no ``Z``, and UTC is written ``-00:00`` ("The timezone for UTC MUST be represented as '-00:00'").
* ``references`` is a whitespace-separated list of ``sender,identifier,sent`` triples; ``Update`` and
  ``Cancel`` messages identify the messages they update or cancel there.
* ``polygon`` is a whitespace-delimited list of WGS 84 ``lat,lon`` pairs, at least 4, first == last;
  ``circle`` is ``lat,lon radius`` with the radius in kilometres.
* Element order follows the CAP 1.2 XSD sequence exactly.

The Atom index (RFC 4287) lists one entry per CAP document, linked with ``rel="alternate"`` and
``type="application/cap+xml"``. Its timestamps are RFC 3339 date-times, where ``-00:00`` would mean "offset
unknown", so UTC is written ``+00:00`` there.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

__all__ = [
    "ATOM_NS",
    "CAP_MIME_TYPE",
    "CAP_NS",
    "AtomEntry",
    "CapArea",
    "CapInfo",
    "CapMessage",
    "format_cap_datetime",
    "format_circle",
    "format_polygon",
    "format_references",
    "render_atom_index",
    "render_cap",
]

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME_TYPE = "application/cap+xml"
ATOM_MIME_TYPE = "application/atom+xml"

# Code values from the CAP 1.2 data dictionary (identical to the XSD enumerations).
STATUSES = frozenset({"Actual", "Exercise", "System", "Test", "Draft"})
# CAP also defines "Ack" and "Error"; this service only ever issues, updates and cancels alerts.
MSG_TYPES = frozenset({"Alert", "Update", "Cancel"})
# "Restricted" needs <restriction> and "Private" needs <addresses>, which this model does not carry.
SCOPES = frozenset({"Public"})
CATEGORIES = frozenset({"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
                        "Infra", "CBRNE", "Other"})
RESPONSE_TYPES = frozenset({"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess",
                            "AllClear", "None"})
URGENCIES = frozenset({"Immediate", "Expected", "Future", "Past", "Unknown"})
SEVERITIES = frozenset({"Extreme", "Severe", "Moderate", "Minor", "Unknown"})
CERTAINTIES = frozenset({"Observed", "Likely", "Possible", "Unlikely", "Unknown"})

# CAP 1.2, DateTime Data Type: "Alphabetic timezone designators such as 'Z' MUST NOT be used. The timezone for
# UTC MUST be represented as '-00:00'." (The XSD itself accepts both signs.)
CAP_UTC_OFFSET = "-00:00"
# RFC 3339 (Atom): "-00:00" means "UTC, local offset unknown"; a plain UTC timestamp is "+00:00" (or "Z").
ATOM_UTC_OFFSET = "+00:00"

# Decimal places for coordinates and radii: 1e-6 degree is about 0.1 m, far below any alert area's accuracy.
COORD_DECIMALS = 6

_ID_FORBIDDEN = re.compile(r"[\s,<&]")
# xs:language (RFC 3066 style tags such as "sr-Latn", "sr-Cyrl", "en").
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")
# Characters XML 1.0 cannot carry at all, escaped or not.
_NON_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --------------------------------------------------------------------------------------------- validation

def _check_text(value: object, what: str, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"{what} must not be empty")
    bad = _NON_XML_CHAR.search(value)
    if bad:
        raise ValueError(f"{what} contains a character XML cannot carry: {bad.group()!r}")
    return value


def _check_token(value: object, what: str) -> str:
    """identifier / sender: no spaces, commas or restricted characters (< and &)."""
    value = _check_text(value, what)
    bad = _ID_FORBIDDEN.search(value)
    if bad:
        raise ValueError(f"{what} must not contain spaces, commas, '<' or '&': {value!r}")
    return value


def _check_code(value: object, allowed: frozenset[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _check_datetime(value: object, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{what} must be timezone-aware: {value!r}")
    if offset % timedelta(minutes=1):
        raise ValueError(f"{what} has a UTC offset with seconds, which CAP cannot express: {offset}")
    return value


def _check_number(value: object, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be within [{low}, {high}], got {value!r}")
    return float(value)


def _check_point(point: object, what: str) -> tuple[float, float]:
    if not isinstance(point, (tuple, list)) or len(point) != 2:
        raise ValueError(f"{what} must be a (lat, lon) pair, got {point!r}")
    return (_check_number(point[0], f"{what} latitude", -90.0, 90.0),
            _check_number(point[1], f"{what} longitude", -180.0, 180.0))


def _check_pairs(pairs: object, what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for i, pair in enumerate(_as_tuple(pairs, what)):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{what}[{i}] must be a (valueName, value) pair, got {pair!r}")
        out.append((_check_text(pair[0], f"{what}[{i}] valueName"), _check_text(pair[1], f"{what}[{i}] value")))
    return tuple(out)


def _as_tuple(value: object, what: str) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{what} must be a tuple, got {type(value).__name__}")
    return tuple(value)


def _freeze(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


# ------------------------------------------------------------------------------------------------ formats

def format_cap_datetime(value: datetime) -> str:
    """``2026-11-23T14:05:00+01:00``: whole seconds, explicit offset, UTC as ``-00:00`` (CAP 1.2 DateTime)."""
    value = _check_datetime(value, "datetime")
    return _format_datetime(value, utc=CAP_UTC_OFFSET)


def _format_rfc3339(value: datetime) -> str:
    value = _check_datetime(value, "datetime")
    return _format_datetime(value, utc=ATOM_UTC_OFFSET)


def _format_datetime(value: datetime, *, utc: str) -> str:
    offset = value.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        zone = utc
    else:
        sign = "+" if minutes > 0 else "-"
        zone = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return value.replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds") + zone


def _format_number(value: float) -> str:
    text = f"{value:.{COORD_DECIMALS}f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    return "0.0" if text == "-0.0" else text


def _format_point(point: tuple[float, float]) -> str:
    return f"{_format_number(point[0])},{_format_number(point[1])}"


def format_polygon(ring: Sequence[tuple[float, float]]) -> str:
    """``lat,lon lat,lon ...`` for a closed ring of at least 4 (lat, lon) points."""
    return " ".join(_format_point(p) for p in _check_ring(ring, "polygon"))


def format_circle(circle: tuple[float, float, float]) -> str:
    """``lat,lon radius_km``."""
    lat, lon, radius = _check_circle(circle, "circle")
    return f"{_format_point((lat, lon))} {_format_number(radius)}"


def format_references(references: Sequence[tuple[str, str, datetime]]) -> str:
    """Space-separated ``sender,identifier,sent`` triples."""
    return " ".join(f"{s},{i},{format_cap_datetime(t)}" for s, i, t in _check_references(references))


def _check_ring(ring: object, what: str) -> tuple[tuple[float, float], ...]:
    points = tuple(_check_point(p, f"{what} point {i}") for i, p in enumerate(_as_tuple(ring, what)))
    if len(points) < 4:
        raise ValueError(f"{what} needs at least 4 points (first == last), got {len(points)}")
    if points[0] != points[-1]:
        raise ValueError(f"{what} must be closed: first point {points[0]} != last point {points[-1]}")
    return points


def _check_circle(circle: object, what: str) -> tuple[float, float, float]:
    if not isinstance(circle, (tuple, list)) or len(circle) != 3:
        raise ValueError(f"{what} must be (lat, lon, radius_km), got {circle!r}")
    lat, lon = _check_point(circle[:2], what)
    radius = _check_number(circle[2], f"{what} radius_km", 0.0, 20_037.5)  # half the Earth's circumference
    if radius <= 0:
        raise ValueError(f"{what} radius_km must be positive, got {circle[2]!r}")
    return lat, lon, radius


def _check_references(references: object) -> tuple[tuple[str, str, datetime], ...]:
    out = []
    for n, ref in enumerate(_as_tuple(references, "references")):
        if not isinstance(ref, (tuple, list)) or len(ref) != 3:
            raise ValueError(f"references[{n}] must be (sender, identifier, sent), got {ref!r}")
        out.append((_check_token(ref[0], f"references[{n}] sender"),
                    _check_token(ref[1], f"references[{n}] identifier"),
                    _check_datetime(ref[2], f"references[{n}] sent")))
    return tuple(out)


def _check_url(value: object, what: str) -> str:
    value = _check_text(value, what)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(f"{what} must be a full absolute http(s) URI, got {value!r}")
    return value


# ------------------------------------------------------------------------------------------------- models

@dataclass(frozen=True)
class CapArea:
    """One <area>: a description plus any number of polygons, circles and geocodes."""

    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # rings of (lat, lon), closed
    circles: tuple[tuple[float, float, float], ...] = ()  # (lat, lon, radius_km)
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value), e.g. ("ISO3166-2", "RS-00")

    def __post_init__(self) -> None:
        _check_text(self.description, "area description")
        _freeze(self, "polygons", tuple(_check_ring(r, f"polygon {i}")
                                        for i, r in enumerate(_as_tuple(self.polygons, "polygons"))))
        _freeze(self, "circles", tuple(_check_circle(c, f"circle {i}")
                                       for i, c in enumerate(_as_tuple(self.circles, "circles"))))
        _freeze(self, "geocodes", _check_pairs(self.geocodes, "geocodes"))


@dataclass(frozen=True)
class CapInfo:
    """One <info> block: the alert text in one language."""

    language: str  # "sr-Latn", "sr-Cyrl", "en"
    event: str
    headline: str
    description: str
    instruction: str
    web: str | None
    contact: str | None
    category: str = "Rescue"
    urgency: str = "Immediate"
    severity: str = "Severe"
    certainty: str = "Likely"
    response_types: tuple[str, ...] = ("Monitor",)
    expires: datetime | None = None
    onset: datetime | None = None
    parameters: tuple[tuple[str, str], ...] = ()  # (valueName, value)

    def __post_init__(self) -> None:
        language = _check_text(self.language, "language")
        if not _LANGUAGE.match(language):
            raise ValueError(f"language must be a language tag such as 'sr-Latn', got {language!r}")
        _check_text(self.event, "event")
        for name in ("headline", "description", "instruction"):
            _check_text(getattr(self, name), name, required=False)
        if self.web is not None:
            _check_url(self.web, "web")
        if self.contact is not None:
            _check_text(self.contact, "contact", required=False)
        _check_code(self.category, CATEGORIES, "category")
        _check_code(self.urgency, URGENCIES, "urgency")
        _check_code(self.severity, SEVERITIES, "severity")
        _check_code(self.certainty, CERTAINTIES, "certainty")
        response_types = _as_tuple(self.response_types, "response_types")
        for rt in response_types:
            _check_code(rt, RESPONSE_TYPES, "response type")
        _freeze(self, "response_types", response_types)
        for name in ("onset", "expires"):
            if getattr(self, name) is not None:
                _check_datetime(getattr(self, name), name)
        if self.onset is not None and self.expires is not None and self.expires < self.onset:
            raise ValueError(f"expires ({self.expires}) is before onset ({self.onset})")
        _freeze(self, "parameters", _check_pairs(self.parameters, "parameters"))


@dataclass(frozen=True, kw_only=True)
class CapMessage:
    """One CAP <alert>. Keyword-only: ``msg_type`` has no default but follows fields that do."""

    identifier: str
    sender: str
    sent: datetime  # timezone-aware
    status: str = "Actual"
    msg_type: str  # "Alert" | "Update" | "Cancel"
    scope: str = "Public"
    references: tuple[tuple[str, str, datetime], ...] = ()  # (sender, identifier, sent) of earlier messages
    note: str | None = None
    infos: tuple[CapInfo, ...]  # one per language
    areas: tuple[CapArea, ...]  # attached to every info block

    def __post_init__(self) -> None:
        _check_token(self.identifier, "identifier")
        _check_token(self.sender, "sender")
        _check_datetime(self.sent, "sent")
        _check_code(self.status, STATUSES, "status")
        _check_code(self.msg_type, MSG_TYPES, "msg_type")
        _check_code(self.scope, SCOPES, "scope")
        references = _check_references(self.references)
        if self.msg_type in ("Update", "Cancel") and not references:
            raise ValueError(f"an {self.msg_type} message must reference the message(s) it "
                             f"{'updates' if self.msg_type == 'Update' else 'cancels'}")
        if any((s, i) == (self.sender, self.identifier) for s, i, _ in references):
            raise ValueError("a message cannot reference itself")
        _freeze(self, "references", references)
        if self.note is not None:
            _check_text(self.note, "note", required=False)
        infos = _as_tuple(self.infos, "infos")
        if not infos:
            raise ValueError("a CAP message needs at least one info block (Cancel messages too)")
        for info in infos:
            if not isinstance(info, CapInfo):
                raise ValueError(f"infos must hold CapInfo values, got {type(info).__name__}")
        languages = [info.language.lower() for info in infos]
        duplicates = sorted({lang for lang in languages if languages.count(lang) > 1})
        if duplicates:
            raise ValueError(f"one info block per language: {duplicates} repeated")
        _freeze(self, "infos", infos)
        areas = _as_tuple(self.areas, "areas")
        for area in areas:
            if not isinstance(area, CapArea):
                raise ValueError(f"areas must hold CapArea values, got {type(area).__name__}")
        _freeze(self, "areas", areas)


@dataclass(frozen=True)
class AtomEntry:
    """One entry of the Atom index, pointing at one CAP document."""

    id: str
    title: str
    updated: datetime
    cap_url: str
    summary: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.id, "entry id")
        _check_text(self.title, "entry title", required=False)
        _check_datetime(self.updated, "entry updated")
        _check_text(self.cap_url, "entry cap_url")
        if self.summary is not None:
            _check_text(self.summary, "entry summary", required=False)


# ---------------------------------------------------------------------------------------------- rendering

def _clean(text: str) -> str:
    # XML parsers turn CR LF and lone CR into LF anyway; do it here so the output round-trips exactly.
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Elements are built with local names and the root carries the default namespace as an ``xmlns`` attribute, so
# the output is ``<alert xmlns="urn:...">`` / ``<feed xmlns="http://www.w3.org/2005/Atom">`` without touching
# ElementTree's global prefix registry (``default_namespace=`` refuses the Atom links' unprefixed attributes).

def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = _clean(text)
    return el


def _value_pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    el = _add(parent, tag)
    _add(el, "valueName", name)
    _add(el, "value", value)


def _render_area(parent: ET.Element, area: CapArea) -> None:
    el = _add(parent, "area")
    _add(el, "areaDesc", area.description)
    for ring in area.polygons:
        _add(el, "polygon", format_polygon(ring))
    for circle in area.circles:
        _add(el, "circle", format_circle(circle))
    for name, value in area.geocodes:
        _value_pair(el, "geocode", name, value)


def _render_info(parent: ET.Element, info: CapInfo, areas: Sequence[CapArea]) -> None:
    # Order is the XSD's: language, category, event, responseType*, urgency, severity, certainty, (audience,
    # eventCode*, effective), onset, expires, (senderName), headline, description, instruction, web, contact,
    # parameter*, (resource*), area*.
    el = _add(parent, "info")
    _add(el, "language", info.language)
    _add(el, "category", info.category)
    _add(el, "event", info.event)
    for rt in info.response_types:
        _add(el, "responseType", rt)
    _add(el, "urgency", info.urgency)
    _add(el, "severity", info.severity)
    _add(el, "certainty", info.certainty)
    if info.onset is not None:
        _add(el, "onset", format_cap_datetime(info.onset))
    if info.expires is not None:
        _add(el, "expires", format_cap_datetime(info.expires))
    for tag, text in (("headline", info.headline), ("description", info.description),
                      ("instruction", info.instruction), ("web", info.web), ("contact", info.contact)):
        if text:
            _add(el, tag, text)
    for name, value in info.parameters:
        _value_pair(el, "parameter", name, value)
    for area in areas:
        _render_area(el, area)


def _root(tag: str, namespace: str) -> ET.Element:
    return ET.Element(tag, {"xmlns": namespace})


def _serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render_cap(msg: CapMessage) -> bytes:
    """The CAP 1.2 <alert> document for ``msg`` as UTF-8 XML bytes."""
    if not isinstance(msg, CapMessage):
        raise ValueError(f"render_cap needs a CapMessage, got {type(msg).__name__}")
    root = _root("alert", CAP_NS)
    # Order is the XSD's: identifier, sender, sent, status, msgType, (source), scope, (restriction,
    # addresses, code*), note, references, (incidents), info*.
    _add(root, "identifier", msg.identifier)
    _add(root, "sender", msg.sender)
    _add(root, "sent", format_cap_datetime(msg.sent))
    _add(root, "status", msg.status)
    _add(root, "msgType", msg.msg_type)
    _add(root, "scope", msg.scope)
    if msg.note:
        _add(root, "note", msg.note)
    if msg.references:
        _add(root, "references", format_references(msg.references))
    for info in msg.infos:
        _render_info(root, info, msg.areas)
    return _serialize(root)


def render_atom_index(*, feed_id: str, title: str, self_url: str, updated: datetime,
                      entries: Sequence[AtomEntry], author: str = "alertsvc") -> bytes:
    """An Atom 1.0 feed (RFC 4287) listing CAP documents, newest first as given, as UTF-8 XML bytes.

    ``author`` fills the feed-level atom:author that RFC 4287 requires when entries carry none.
    """
    _check_text(feed_id, "feed_id")
    _check_text(title, "title", required=False)
    _check_text(self_url, "self_url")
    _check_text(author, "author")
    updated_text = _format_rfc3339(updated)
    entries = _as_tuple(entries, "entries")
    for entry in entries:
        if not isinstance(entry, AtomEntry):
            raise ValueError(f"entries must hold AtomEntry values, got {type(entry).__name__}")

    feed = _root("feed", ATOM_NS)
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    _add(feed, "updated", updated_text)
    _add(_add(feed, "author"), "name", author)
    link = _add(feed, "link")
    link.set("rel", "self")
    link.set("type", ATOM_MIME_TYPE)
    link.set("href", self_url)
    for entry in entries:
        el = _add(feed, "entry")
        _add(el, "id", entry.id)
        _add(el, "title", entry.title)
        _add(el, "updated", _format_rfc3339(entry.updated))
        alt = _add(el, "link")
        alt.set("rel", "alternate")
        alt.set("type", CAP_MIME_TYPE)
        alt.set("href", entry.cap_url)
        if entry.summary is not None:
            _add(el, "summary", entry.summary)
    return _serialize(feed)
