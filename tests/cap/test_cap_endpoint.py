"""The served CAP documents of a real alert's life validate against the official OASIS CAP 1.2 XSD."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from tests.helpers import approval_body

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}


def _doc(api, alert_id):
    r = api.client.get(f"/cap/{alert_id}.xml")
    assert r.status_code == 200 and r.mimetype == "application/cap+xml"
    return r.data


def test_alert_update_cancel_validate_and_reference(api, rt, factories, validate_cap):
    case_id = factories.case()
    alert = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                                   json={"area": {"regions": ["RS-00", "RS-10"]}}).json
    assert api.client.get(f"/cap/{alert['id']}.xml").status_code == 404  # not published before approval
    api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    first = _doc(api, alert["id"])
    assert validate_cap(first) == []
    root = ET.fromstring(first)
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert [i.findtext("cap:language", namespaces=NS) for i in root.findall("cap:info", NS)] == ["sr-Latn", "sr-Cyrl", "en"]
    geocodes = [g.findtext("cap:value", namespaces=NS) for g in root.iter(f"{{{NS['cap']}}}geocode")]
    assert set(geocodes) == {"RS-00", "RS-10"}
    first_id = root.findtext("cap:identifier", namespaces=NS)

    api.send_update(alert["id"], "Viđena u Smederevu")
    update = ET.fromstring(_doc(api, alert["id"]))
    assert validate_cap(_doc(api, alert["id"])) == []
    assert update.findtext("cap:msgType", namespaces=NS) == "Update"
    assert first_id in update.findtext("cap:references", namespaces=NS)

    api.as_operator().post(f"/api/v1/alerts/{alert['id']}/resolve", json={"outcome": "found"})
    cancel_doc = _doc(api, alert["id"])
    assert validate_cap(cancel_doc) == []
    cancel = ET.fromstring(cancel_doc)
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"
    refs = cancel.findtext("cap:references", namespaces=NS)
    assert first_id in refs and update.findtext("cap:identifier", namespaces=NS) in refs


def test_circle_alert_and_atom_index(api, rt, factories, validate_cap):
    case_id = factories.case()
    alert = api.as_operator().post(f"/api/v1/cases/{case_id}/alerts",
                                   json={"area": {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 7}}}).json
    api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    doc = _doc(api, alert["id"])
    assert validate_cap(doc) == []
    assert ET.fromstring(doc).find(".//cap:circle", NS).text == "44.81,20.46 7.0"
    feed = api.client.get("/cap/index.atom")
    assert feed.status_code == 200
    entries = ET.fromstring(feed.data).findall("atom:entry", NS)
    assert [e.find("atom:link", NS).get("href") for e in entries] == [f"http://alertsvc.test/cap/{alert['id']}.xml"]
