"""No personal data in logs: submit distinctive values everywhere and look for them in every log record."""

from __future__ import annotations

import logging

from alertsvc.log import JsonFormatter

from ..helpers import case_payload

SECRETS = {
    "child.name": "Zlatoslava Kvrgović",
    "child.description": "Nosi tirkiznu kabanicu sa žirafama",
    "reporter.name": "Budimir Ščepanović",
    "reporter.phone": "+381 65 4433221",
    "circumstances.suspect": "Čovek sa ožiljkom Xyzzy",
    "circumstances.plate": "KG-777-QQ",
    "last_seen.place": "Ulica Plavih Jorgovana 13",
}


def test_logs_hold_no_personal_data(api, clock, caplog):
    body = case_payload(clock.now())
    for dotted, value in SECRETS.items():
        section, key = dotted.split(".")
        body[section][key] = value
    body["last_seen"]["lat"], body["last_seen"]["lon"] = 44.123456, 20.654321
    with caplog.at_level(logging.DEBUG):
        op = api.as_operator()
        created = op.post("/api/v1/cases", json=body)
        assert created.status_code == 201
        case_id = created.json["id"]
        op.patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Zlatoslava Druga"}})
        op.post("/api/v1/cases", json={**body, "child": {**body["child"], "age": "Zlatoslava"}})  # 422
        op.post("/api/v1/auth/token", json={"username": "Zlatoslava", "password": "+381 65 4433221"})  # 401
    formatter = JsonFormatter()
    text = "\n".join(formatter.format(r) + " " + r.getMessage() for r in caplog.records)
    assert "request" in text  # the requests were logged
    for needle in [*SECRETS.values(), "Zlatoslava", "4433221", "44.123456", "20.654321"]:
        assert needle not in text, needle


def test_formatter_drops_unknown_extra_keys():
    record = logging.LogRecord("alertsvc.x", logging.INFO, __file__, 1, "case.opened", None, None)
    record.case_id = "c-1"
    record.phone = "+381 65 4433221"
    out = JsonFormatter().format(record)
    assert "c-1" in out and "4433221" not in out
