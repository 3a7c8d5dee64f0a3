"""alertsvc.cap renders CAP 1.2 as the spec spells it: date-times, references, polygons, circles, escaping, and
ValueError for anything the spec forbids."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cap_samples import (
    ALERT_ID,
    ALERT_SENT,
    BELGRADE,
    BELGRADE_RING,
    CAP,
    CET,
    SENDER,
    UPDATE_ID,
    UPDATE_SENT,
    alert,
    cancel,
    cancel_info,
    info,
    update,
)

from alertsvc.cap import (
    CapArea,
    CapInfo,
    CapMessage,
    format_cap_datetime,
    format_circle,
    format_polygon,
    format_references,
    render_cap,
)

ROOT = Path(__file__).resolve().parents[2]


def parse(doc: bytes) -> ET.Element:
    return ET.fromstring(doc)


def parse_polygon(text: str) -> list[tuple[float, float]]:
    pairs = text.split()
    assert " ".join(pairs) == text, "pairs are separated by single spaces"
    return [(float(lat), float(lon)) for lat, lon in (p.split(",") for p in pairs)]


def parse_circle(text: str) -> tuple[float, float, float]:
    center, radius = text.split(" ")
    lat, lon = center.split(",")
    return float(lat), float(lon), float(radius)


# --- date-times -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (datetime(2026, 11, 23, 14, 5, tzinfo=CET), "2026-11-23T14:05:00+01:00"),
    (datetime(2026, 7, 1, 9, 0, 59, tzinfo=timezone(timedelta(hours=2))), "2026-07-01T09:00:59+02:00"),
    (datetime(2026, 11, 23, 14, 5, 7, 999_999, tzinfo=CET), "2026-11-23T14:05:07+01:00"),  # no fractions
    (datetime(2026, 11, 23, 13, 5, tzinfo=UTC), "2026-11-23T13:05:00-00:00"),  # CAP: UTC is "-00:00"
    (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-9, minutes=-30))), "2026-01-02T03:04:05-09:30"),
    (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=45))), "2026-01-02T03:04:05+05:45"),
])
def test_datetime_format(value, expected):
    assert format_cap_datetime(value) == expected


def test_sent_and_expires_use_the_cap_datetime_format():
    root = parse(render_cap(alert(("en",), sent=datetime(2026, 11, 23, 14, 5, 0, 250_000, tzinfo=CET))))
    assert root.findtext(f"{CAP}sent") == "2026-11-23T14:05:00+01:00"
    assert root.findtext(f"{CAP}info/{CAP}expires") == "2026-11-24T14:05:00+01:00"


@pytest.mark.parametrize("bad", [datetime(2026, 11, 23, 14, 5),  # naive
                                 datetime(2026, 11, 23, 14, 5, tzinfo=timezone(timedelta(seconds=4772)))])
def test_datetime_without_a_minute_offset_is_rejected(bad):
    with pytest.raises(ValueError):
        format_cap_datetime(bad)
    with pytest.raises(ValueError):
        alert(sent=bad)
    with pytest.raises(ValueError):
        info("en", expires=bad)
    with pytest.raises(ValueError):
        dataclasses.replace(update(), references=((SENDER, ALERT_ID, bad),))


# --- references ---------------------------------------------------------------------------------------------

def test_references_are_space_separated_sender_identifier_sent_triples():
    refs = ((SENDER, ALERT_ID, ALERT_SENT), (SENDER, UPDATE_ID, UPDATE_SENT))
    expected = (f"{SENDER},{ALERT_ID},2026-11-23T14:05:00+01:00 "
                f"{SENDER},{UPDATE_ID},2026-11-23T16:30:00+01:00")
    assert format_references(refs) == expected
    assert parse(render_cap(cancel())).findtext(f"{CAP}references") == expected
    # Parse back: each triple is sender,identifier,sent.
    triples = [tuple(t.split(",")) for t in expected.split(" ")]
    assert triples == [(s, i, format_cap_datetime(t)) for s, i, t in refs]


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
def test_update_and_cancel_must_reference_earlier_messages(msg_type):
    source = update() if msg_type == "Update" else cancel()
    with pytest.raises(ValueError, match="reference"):
        dataclasses.replace(source, references=())


def test_a_message_cannot_reference_itself():
    with pytest.raises(ValueError, match="itself"):
        dataclasses.replace(update(), references=((SENDER, UPDATE_ID, ALERT_SENT),))


# --- identifiers --------------------------------------------------------------------------------------------

INVALID_TOKENS = ["", "   ", "RS 42", "RS,42", "RS<42", "RS&42", "RS\t42", "RS\n42", "RS\u00a042", "RS\x0042"]


@pytest.mark.parametrize("bad", INVALID_TOKENS)
def test_invalid_identifier_raises(bad):
    with pytest.raises(ValueError):
        alert(identifier=bad)


@pytest.mark.parametrize("bad", INVALID_TOKENS)
def test_invalid_sender_raises(bad):
    with pytest.raises(ValueError):
        alert(sender=bad)


@pytest.mark.parametrize("bad", INVALID_TOKENS)
def test_invalid_referenced_identifier_or_sender_raises(bad):
    with pytest.raises(ValueError):
        dataclasses.replace(update(), references=((SENDER, bad, ALERT_SENT),))
    with pytest.raises(ValueError):
        dataclasses.replace(update(), references=((bad, ALERT_ID, ALERT_SENT),))


@pytest.mark.parametrize("good", ["RS-ALERTSVC-2026-000042", "urn:oid:2.49.0.1.688.0.2026.42", "a/b_c.d:e;f@g"])
def test_valid_identifiers_are_kept_verbatim(good):
    root = parse(render_cap(alert(identifier=good, sender=good)))
    assert root.findtext(f"{CAP}identifier") == good
    assert root.findtext(f"{CAP}sender") == good


# --- areas ----------------------------------------------------------------------------------------------------

def test_polygon_string_is_lat_lon_pairs_closed():
    text = format_polygon(BELGRADE_RING)
    assert text == "44.9,20.3 44.9,20.6 44.7,20.6 44.7,20.3 44.9,20.3"
    points = parse_polygon(text)
    assert points == list(BELGRADE_RING)
    assert len(points) >= 4 and points[0] == points[-1]


def test_circle_string_is_center_space_radius_km():
    text = format_circle((44.8176, 20.4633, 15.0))
    assert text == "44.8176,20.4633 15.0"
    assert parse_circle(text) == (44.8176, 20.4633, 15.0)


def test_rendered_area_parses_back_to_the_input():
    area = CapArea("Zapadna Srbija", polygons=(BELGRADE_RING, ((43.1, 19.9), (43.9, 19.9), (43.5, 20.7),
                                                                (43.1, 19.9))),
                   circles=((44.8176, 20.4633, 15.0), (-33.5, -70.25, 0.125)),
                   geocodes=(("ISO3166-2", "RS-00"), ("NUTS3", "RS110")))
    root = parse(render_cap(alert(("en",), areas=(area,))))
    el = root.find(f"{CAP}info/{CAP}area")
    assert el.findtext(f"{CAP}areaDesc") == "Zapadna Srbija"
    assert [tuple(parse_polygon(p.text)) for p in el.findall(f"{CAP}polygon")] == list(area.polygons)
    assert [parse_circle(c.text) for c in el.findall(f"{CAP}circle")] == list(area.circles)
    assert [(g.findtext(f"{CAP}valueName"), g.findtext(f"{CAP}value")) for g in el.findall(f"{CAP}geocode")] == \
        list(area.geocodes)
    # Children in XSD order: areaDesc, polygon*, circle*, geocode*.
    assert [c.tag.removeprefix(CAP) for c in el] == ["areaDesc", "polygon", "polygon", "circle", "circle",
                                                     "geocode", "geocode"]


def test_coordinates_never_use_exponent_notation():
    ring = ((0.000001, -0.0000001), (1e-5, 179.999999), (-89.5, 1e-6), (0.000001, -0.0000001))
    text = format_polygon(ring)
    assert "e" not in text.lower()
    assert text == "0.000001,0.0 0.00001,179.999999 -89.5,0.000001 0.000001,0.0"
    assert format_circle((45.0, 20.0, 0.0005)) == "45.0,20.0 0.0005"


@pytest.mark.parametrize("ring", [
    ((44.9, 20.3), (44.9, 20.6), (44.9, 20.3)),  # 3 points
    ((44.9, 20.3), (44.9, 20.6), (44.7, 20.6), (44.7, 20.3)),  # not closed
    ((91.0, 20.3), (44.9, 20.6), (44.7, 20.6), (91.0, 20.3)),  # latitude out of range
    ((44.9, 200.0), (44.9, 20.6), (44.7, 20.6), (44.9, 200.0)),  # longitude out of range
    ((44.9, float("nan")), (44.9, 20.6), (44.7, 20.6), (44.9, float("nan"))),
    ((44.9,), (44.9, 20.6), (44.7, 20.6), (44.9,)),
])
def test_invalid_polygon_raises(ring):
    with pytest.raises(ValueError):
        CapArea("x", polygons=(ring,))


@pytest.mark.parametrize("circle", [(44.8, 20.4, 0.0), (44.8, 20.4, -1.0), (44.8, 20.4, float("inf")),
                                    (95.0, 20.4, 1.0), (44.8, 20.4)])
def test_invalid_circle_raises(circle):
    with pytest.raises(ValueError):
        CapArea("x", circles=(circle,))


def test_area_needs_a_description():
    with pytest.raises(ValueError):
        CapArea("  ", circles=((44.8, 20.4, 1.0),))


# --- escaping ---------------------------------------------------------------------------------------------------

NASTY = 'Ана & "Марко" <script>alert(\'x\')</script> ]]> đžćčš ĐŽĆČŠ 🚸 a > b'


def test_special_characters_are_escaped_and_round_trip():
    inf = info("sr-Cyrl", event=NASTY, headline=NASTY, description=NASTY + "\nдруги ред\n\tувучено",
               instruction=NASTY, contact=NASTY, parameters=((NASTY, NASTY),))
    area = CapArea(NASTY, circles=((44.8, 20.4, 1.0),), geocodes=(("ISO3166-2", NASTY),))
    msg = alert(infos=(inf,), areas=(area,), note=NASTY)
    doc = render_cap(msg)
    # Escaped in the bytes: no raw markup from the text, the rest is plain UTF-8 (no numeric references needed).
    assert b"<script>" not in doc
    assert b"&lt;script&gt;" in doc and b"&amp;" in doc
    assert "Ана".encode() in doc and "🚸".encode() in doc
    assert doc.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = parse(doc)
    i = root.find(f"{CAP}info")
    for tag in ("event", "headline", "instruction", "contact"):
        assert i.findtext(f"{CAP}{tag}") == NASTY, tag
    assert i.findtext(f"{CAP}description") == NASTY + "\nдруги ред\n\tувучено"
    assert i.findtext(f"{CAP}parameter/{CAP}valueName") == NASTY
    assert i.findtext(f"{CAP}parameter/{CAP}value") == NASTY
    assert i.findtext(f"{CAP}area/{CAP}areaDesc") == NASTY
    assert i.findtext(f"{CAP}area/{CAP}geocode/{CAP}value") == NASTY
    assert root.findtext(f"{CAP}note") == NASTY


def test_carriage_returns_are_normalised_so_text_round_trips():
    doc = render_cap(alert(("en",), infos=(info("en", description="line 1\r\nline 2\rline 3"),)))
    assert parse(doc).findtext(f"{CAP}info/{CAP}description") == "line 1\nline 2\nline 3"


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\ufffe", "\ud800"])
def test_characters_xml_cannot_carry_are_rejected(bad):
    with pytest.raises(ValueError):
        info("en", description=f"a{bad}b")
    with pytest.raises(ValueError):
        CapArea(f"a{bad}b")


# --- structure and other validation --------------------------------------------------------------------------------

def test_alert_header_in_spec_order():
    root = parse(render_cap(update()))
    assert root.tag == f"{CAP}alert"
    assert [c.tag.removeprefix(CAP) for c in root] == ["identifier", "sender", "sent", "status", "msgType",
                                                       "scope", "note", "references", "info", "info", "info"]
    assert root.findtext(f"{CAP}status") == "Actual"
    assert root.findtext(f"{CAP}scope") == "Public"


def test_info_in_spec_order():
    inf = info("sr-Latn", onset=ALERT_SENT, response_types=("Monitor", "Assess"))
    root = parse(render_cap(alert(infos=(inf,))))
    assert [c.tag.removeprefix(CAP) for c in root.find(f"{CAP}info")] == [
        "language", "category", "event", "responseType", "responseType", "urgency", "severity", "certainty",
        "onset", "expires", "headline", "description", "instruction", "web", "contact", "parameter", "area"]


def test_one_info_per_language():
    with pytest.raises(ValueError, match="language"):
        alert(infos=(info("en"), info("sr-Latn"), info("en")))
    with pytest.raises(ValueError):
        dataclasses.replace(info("en"), language="sr_Latn")


def test_cancel_still_needs_an_info_block():
    with pytest.raises(ValueError, match="info"):
        dataclasses.replace(cancel(), infos=())
    root = parse(render_cap(cancel(("en",))))
    assert root.findtext(f"{CAP}info/{CAP}headline") == "The child has been found – alert cancelled"
    assert root.find(f"{CAP}info/{CAP}instruction") is None  # empty text: element left out


@pytest.mark.parametrize(("field", "value"), [("status", "Real"), ("msg_type", "Ack"), ("scope", "Private"),
                                              ("scope", "public")])
def test_unknown_message_codes_raise(field, value):
    with pytest.raises(ValueError):
        alert(**{field: value})


@pytest.mark.parametrize(("field", "value"), [("category", "Police"), ("urgency", "Now"), ("severity", "severe"),
                                              ("certainty", "Sure"), ("response_types", ("Run",)),
                                              ("web", "alertsvc.example.rs/a/1"), ("web", "javascript:alert(1)"),
                                              ("event", ""), ("expires", "2026-11-24")])
def test_invalid_info_fields_raise(field, value):
    with pytest.raises(ValueError):
        info("en", **{field: value})


def test_expires_before_onset_raises():
    with pytest.raises(ValueError):
        info("en", onset=ALERT_SENT, expires=ALERT_SENT - timedelta(minutes=1))


def test_values_are_frozen_and_hashable():
    area = CapArea("x", polygons=[list(BELGRADE_RING)], circles=[[44.8, 20.4, 1.0]], geocodes=[["a", "b"]])
    assert area.polygons == (BELGRADE_RING,) and area.circles == ((44.8, 20.4, 1.0),)
    assert area.geocodes == (("a", "b"),)
    hash(area), hash(alert()), hash(cancel_info("en"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        alert().identifier = "other"  # type: ignore[misc]


def test_cap_message_is_keyword_only():
    with pytest.raises(TypeError):
        CapMessage(ALERT_ID, SENDER, ALERT_SENT)  # type: ignore[misc]


def test_render_is_deterministic():
    assert render_cap(alert()) == render_cap(alert())
    assert isinstance(render_cap(alert()), bytes)
    assert CapArea(BELGRADE.description, BELGRADE.polygons, BELGRADE.circles, BELGRADE.geocodes) == BELGRADE
    assert isinstance(info("en"), CapInfo)


def test_the_module_is_pure():
    code = ("import sys, alertsvc.cap\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'flask', 'werkzeug', 'sqlalchemy', 'sqlmodel', 'psycopg', 'alembic', 'lxml'})\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
