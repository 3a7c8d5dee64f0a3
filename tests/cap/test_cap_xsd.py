"""Rendered CAP documents validate against the official OASIS CAP 1.2 XSD, and the XSD check can fail."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from cap_samples import (
    ALERT_ID,
    ALERT_SENT,
    BELGRADE,
    CANCEL_SENT,
    LANGUAGES,
    SENDER,
    UPDATE_ID,
    UPDATE_SENT,
    alert,
    cancel,
    cancel_info,
    info,
    update,
)
from lxml import etree

from alertsvc.cap import CAP_NS, CapArea, CapMessage, format_cap_datetime, render_cap

NS = {"cap": CAP_NS}


def parse(doc: bytes) -> etree._Element:
    return etree.fromstring(doc, etree.XMLParser(resolve_entities=False, no_network=True))


def test_alert_validates(validate_cap):
    doc = render_cap(alert(("sr-Latn",)))
    assert validate_cap(doc) == []
    root = parse(doc)
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.find("cap:references", NS) is None


def test_update_references_the_alert_and_validates(validate_cap):
    doc = render_cap(update())
    assert validate_cap(doc) == []
    root = parse(doc)
    assert root.findtext("cap:msgType", namespaces=NS) == "Update"
    assert root.findtext("cap:references", namespaces=NS) == f"{SENDER},{ALERT_ID},2026-11-23T14:05:00+01:00"
    assert root.findtext("cap:note", namespaces=NS) == "Područje prošireno na Novi Sad"


def test_cancel_references_alert_and_update_and_validates(validate_cap):
    doc = render_cap(cancel())
    assert validate_cap(doc) == []
    root = parse(doc)
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    refs = root.findtext("cap:references", namespaces=NS).split(" ")
    assert refs == [f"{SENDER},{ALERT_ID},{format_cap_datetime(ALERT_SENT)}",
                    f"{SENDER},{UPDATE_ID},{format_cap_datetime(UPDATE_SENT)}"]
    # A Cancel still carries an info block per language, with the caller's short text.
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == list(LANGUAGES)
    assert infos[0].findtext("cap:event", namespaces=NS) == "Dete je pronađeno"
    assert infos[2].findtext("cap:event", namespaces=NS) == "Alert cancelled"
    assert infos[0].findtext("cap:responseType", namespaces=NS) == "AllClear"
    assert root.findtext("cap:sent", namespaces=NS) == format_cap_datetime(CANCEL_SENT) == "2026-11-23T19:45:12+01:00"


def test_multi_language_alert_validates(validate_cap):
    doc = render_cap(alert(LANGUAGES))
    assert validate_cap(doc) == []
    infos = parse(doc).findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["sr-Latn", "sr-Cyrl", "en"]
    assert infos[1].findtext("cap:headline", namespaces=NS) == "Нестала девојчица Ана (7) у Београду"
    # Every info block carries the message's areas.
    for i in infos:
        assert [a.findtext("cap:areaDesc", namespaces=NS) for a in i.findall("cap:area", NS)] == \
            [BELGRADE.description]


def test_minimal_alert_without_optional_parts_validates(validate_cap):
    msg = CapMessage(identifier="x1", sender="s", sent=datetime(2026, 1, 1, tzinfo=UTC), msg_type="Alert",
                     infos=(info("en", web=None, contact=None, expires=None, headline="", description="",
                                 instruction="", parameters=(), response_types=()),),
                     areas=())
    doc = render_cap(msg)
    assert validate_cap(doc) == []
    root = parse(doc)
    assert root.findtext("cap:sent", namespaces=NS) == "2026-01-01T00:00:00-00:00"
    assert [c.tag.split("}")[1] for c in root.find("cap:info", NS)] == \
        ["language", "category", "event", "urgency", "severity", "certainty"]


def test_every_optional_info_field_validates(validate_cap):
    area = CapArea("Srbija", polygons=(((46.2, 18.8), (46.2, 23.0), (42.2, 23.0), (42.2, 18.8), (46.2, 18.8)),
                                       ((44.0, 20.0), (44.1, 20.0), (44.1, 20.1), (44.0, 20.0))),
                   circles=((44.0, 21.0, 5.0), (43.3, 21.9, 0.25)),
                   geocodes=(("ISO3166-1", "RS"), ("ISO3166-2", "RS-00")))
    msg = alert(("en",), infos=(info("en", onset=ALERT_SENT, response_types=("Monitor", "Assess"),
                                     parameters=(("a", "1"), ("b", "2"))),),
                areas=(area, BELGRADE), note="Exercise <drill> & test", status="Exercise")
    assert validate_cap(render_cap(msg)) == []


# --- the XSD check can fail --------------------------------------------------------------------------------

def test_schema_rejects_swapped_header_elements(validate_cap):
    root = parse(render_cap(alert()))
    identifier, sender = root.find("cap:identifier", NS), root.find("cap:sender", NS)
    root.remove(identifier)
    sender.addnext(identifier)  # now <sender> comes before <identifier>
    errors = validate_cap(root)
    assert errors, "a document with <sender> before <identifier> must not validate"
    assert any("sender" in e and "identifier" in e for e in errors), errors


def test_schema_rejects_info_element_order(validate_cap):
    root = parse(render_cap(alert(("en",))))
    inf = root.find("cap:info", NS)
    headline = inf.find("cap:headline", NS)
    inf.remove(headline)
    inf.find("cap:language", NS).addnext(headline)  # <headline> before <category>
    assert validate_cap(root) != []


@pytest.mark.parametrize("path", ["cap:msgType", "cap:sent", "cap:info/cap:event", "cap:info/cap:area/cap:areaDesc",
                                  "cap:info/cap:area/cap:geocode/cap:value"])
def test_schema_rejects_missing_required_element(validate_cap, path):
    root = parse(render_cap(alert(("sr-Latn",))))
    assert validate_cap(copy.deepcopy(root)) == []
    el = root.find(path, NS)
    el.getparent().remove(el)
    errors = validate_cap(root)
    assert errors, f"removing {path} must make the document invalid"
    assert any("Missing child element" in e or "not expected" in e for e in errors), errors


@pytest.mark.parametrize(("path", "bad"), [
    ("cap:sent", "2026-11-23T14:05:00Z"),  # no alphabetic zone designators
    ("cap:sent", "2026-11-23T14:05:00.5+01:00"),  # no fractional seconds
    ("cap:sent", "2026-11-23T14:05:00"),  # offset is mandatory
    ("cap:status", "Real"),
    ("cap:info/cap:urgency", "Urgent"),
])
def test_schema_rejects_bad_values(validate_cap, path, bad):
    root = parse(render_cap(alert(("en",))))
    root.find(path, NS).text = bad
    assert validate_cap(root) != []


def test_schema_rejects_a_foreign_namespace(validate_cap):
    doc = render_cap(alert(("en",))).replace(CAP_NS.encode(), b"urn:oasis:names:tc:emergency:cap:1.1")
    assert validate_cap(doc) != []


def test_cancel_info_alone_validates(validate_cap):
    msg = CapMessage(identifier="c-1", sender=SENDER, sent=CANCEL_SENT, msg_type="Cancel",
                     references=((SENDER, ALERT_ID, ALERT_SENT),), infos=(cancel_info("sr-Cyrl"),), areas=())
    assert validate_cap(render_cap(msg)) == []
