"""SMS only to numbers of the allowed countries (subscriptions.sms_allowed_countries): no SMS pumping to satellite
or far-away premium ranges through the public subscribe form or an imported list."""

from __future__ import annotations

import io

import pytest

from alertsvc.app import create_app
from alertsvc.services.importer import import_csv

AREA = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}}


def _subscribe(client, address: str):
    return client.post("/api/v1/subscriptions", json={"channel": "sms", "address": address,
                                                      "language": "sr-Latn", "area": AREA})


def test_serbian_mobile_is_accepted(api, outbox):
    r = _subscribe(api.client, "+381 64 1234567")
    assert r.status_code == 202, r.json
    assert len(outbox.sent) == 1


@pytest.mark.parametrize("address", [
    "+881 6 1234 5678",   # Iridium satellite: region "001"
    "+232 25 123456",     # Sierra Leone mobile
    "+44 7400 123456",    # United Kingdom mobile
])
def test_numbers_of_other_countries_are_refused(api, outbox, address):
    r = _subscribe(api.client, address)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    [error] = r.json["errors"]
    assert error["field"] == "address"
    assert "RS (+381)" in error["message"]  # says which countries are allowed
    assert outbox.sent == []  # no confirmation SMS went out


def test_allowed_countries_come_from_the_settings(settings, clock, engine, outbox):
    app = create_app(settings.with_overrides({"subscriptions.sms_allowed_countries": ["RS", "ME"]}),
                     clock=clock, engine=engine, channels={"sms": outbox, "email": outbox})
    client = app.test_client()
    assert _subscribe(client, "+382 67 622 901").status_code == 202  # Montenegrin mobile
    assert _subscribe(client, "+381 64 7654321").status_code == 202
    refused = _subscribe(client, "+44 7400 123456")
    assert refused.status_code == 422
    assert "RS (+381), ME (+382)" in refused.json["errors"][0]["message"]


def test_csv_import_refuses_numbers_of_other_countries(rt):
    csv = ("channel,address,language,lat,lon,radius_km\n"
           "sms,+381641234567,sr-Latn,44.81,20.46,5\n"
           "sms,+881612345678,sr-Latn,44.81,20.46,5\n"
           "sms,+447400123456,en,44.81,20.46,5\n")
    report = import_csv(rt, io.StringIO(csv))
    assert report.imported == 1 and report.rejected == 2
    assert [line for line, _ in report.errors] == [3, 4]
    assert all("RS (+381)" in message for _, message in report.errors)


def test_countries_from_the_environment_are_a_comma_list():
    from alertsvc.settings import ConfigError, load_settings

    s = load_settings(None, environ={"ALERTSVC_SUBSCRIPTIONS_SMS_ALLOWED_COUNTRIES": "rs, ME"})
    assert s.subscriptions.sms_allowed_countries == ("RS", "ME")
    with pytest.raises(ConfigError, match="subscriptions.sms_allowed_countries"):
        load_settings(None, environ={"ALERTSVC_SUBSCRIPTIONS_SMS_ALLOWED_COUNTRIES": "Serbia"})
