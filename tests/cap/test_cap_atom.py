"""The Atom index (RFC 4287) of CAP documents: well-formed, in the Atom namespace, with the expected entries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest

from alertsvc.cap import AtomEntry, render_atom_index

A = "{http://www.w3.org/2005/Atom}"
CET = timezone(timedelta(hours=1))
UPDATED = datetime(2026, 11, 23, 19, 45, 12, 123456, tzinfo=CET)

ENTRIES = (
    AtomEntry(id="urn:alertsvc:cap:RS-ALERTSVC-2026-000042-C", title="Dete je pronađeno – Ana (7)",
              updated=datetime(2026, 11, 23, 19, 45, 12, tzinfo=CET),
              cap_url="https://alertsvc.example.rs/cap/RS-ALERTSVC-2026-000042-C.xml",
              summary="Упозорење је повучено"),
    AtomEntry(id="urn:alertsvc:cap:RS-ALERTSVC-2026-000042", title='Nestala Ana (7) <Beograd> & "okolina"',
              updated=datetime(2026, 11, 23, 13, 5, tzinfo=UTC),
              cap_url="https://alertsvc.example.rs/cap?id=42&lang=sr-Latn"),
)


def render(entries=ENTRIES, **overrides) -> bytes:
    fields = dict(feed_id="urn:alertsvc:cap:index", title="alertsvc – CAP upozorenja",
                  self_url="https://alertsvc.example.rs/cap/index.atom", updated=UPDATED, entries=entries)
    fields.update(overrides)
    return render_atom_index(**fields)


def test_feed_is_well_formed_atom_with_the_expected_entries():
    doc = render()
    assert doc.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    feed = ET.fromstring(doc)
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}id") == "urn:alertsvc:cap:index"
    assert feed.findtext(f"{A}title") == "alertsvc – CAP upozorenja"
    assert feed.findtext(f"{A}updated") == "2026-11-23T19:45:12+01:00"
    assert feed.findtext(f"{A}author/{A}name") == "alertsvc"  # RFC 4287 wants an author on feed or entries
    [self_link] = [link for link in feed.findall(f"{A}link") if link.get("rel") == "self"]
    assert self_link.get("href") == "https://alertsvc.example.rs/cap/index.atom"
    assert self_link.get("type") == "application/atom+xml"

    entries = feed.findall(f"{A}entry")
    assert len(entries) == len(ENTRIES)
    for el, entry in zip(entries, ENTRIES, strict=True):
        assert el.findtext(f"{A}id") == entry.id
        assert el.findtext(f"{A}title") == entry.title
        [link] = el.findall(f"{A}link")
        assert link.attrib == {"rel": "alternate", "type": "application/cap+xml", "href": entry.cap_url}
        assert el.findtext(f"{A}summary") == entry.summary  # None when absent
    assert [e.findtext(f"{A}updated") for e in entries] == ["2026-11-23T19:45:12+01:00",
                                                             "2026-11-23T13:05:00+00:00"]  # RFC 3339 UTC


def test_every_element_is_in_the_atom_namespace():
    for el in ET.fromstring(render()).iter():
        assert el.tag.startswith(A), el.tag


def test_special_characters_are_escaped_in_text_and_attributes():
    doc = render()
    assert b"&lt;Beograd&gt; &amp;" in doc
    assert b'href="https://alertsvc.example.rs/cap?id=42&amp;lang=sr-Latn"' in doc
    assert "Упозорење".encode() in doc


def test_empty_feed_is_valid():
    feed = ET.fromstring(render(entries=()))
    assert feed.findall(f"{A}entry") == []
    assert feed.findtext(f"{A}id") == "urn:alertsvc:cap:index"


def test_author_can_be_named():
    assert ET.fromstring(render(author="MUP Srbije")).findtext(f"{A}author/{A}name") == "MUP Srbije"


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        render(updated=datetime(2026, 11, 23, 19, 45))
    with pytest.raises(ValueError):
        AtomEntry(id="x", title="t", updated=datetime(2026, 11, 23), cap_url="https://e/x.xml")


@pytest.mark.parametrize("field", ["feed_id", "self_url"])
def test_empty_feed_fields_are_rejected(field):
    with pytest.raises(ValueError):
        render(**{field: ""})


def test_entries_must_be_atom_entries():
    with pytest.raises(ValueError):
        render(entries=({"id": "x"},))
