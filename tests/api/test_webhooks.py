from __future__ import annotations

import re

import pytest
from sqlmodel import Session
from twilio.request_validator import RequestValidator

from alertsvc.models import Subscription

TOKEN = "twilio-test-auth-token"
URL = "http://alertsvc.test/webhooks/twilio/sms"


@pytest.fixture
def settings(settings):
    return settings.with_overrides({"channels.sms.auth_token": TOKEN})


def _active_sms(api, outbox, number="+381641234567"):
    r = api.client.post("/api/v1/subscriptions", json={"channel": "sms", "address": number, "language": "sr-Latn",
                                                        "area": {"regions": ["RS-00"]}})
    code = re.search(r"\b(\d{6})\b", outbox.sent[-1].text).group(1)
    api.client.post(f"/api/v1/subscriptions/{r.json['id']}/confirm", json={"code": code})
    return r.json["id"]


def _post(api, form, signature=None):
    sig = signature if signature is not None else RequestValidator(TOKEN).compute_signature(URL, form)
    return api.client.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": sig})


@pytest.mark.parametrize("word", ["STOP", "stop", "Odjava", "ODJAVA", "одјава"])
def test_stop_words_unsubscribe_the_number(api, outbox, rt, word):
    first = _active_sms(api, outbox)
    second = _active_sms(api, outbox)
    other = _active_sms(api, outbox, "+381647654321")
    r = _post(api, {"From": "+381641234567", "To": "+15005550006", "Body": word, "MessageSid": "SM" + "0" * 32})
    assert r.status_code == 200 and r.mimetype == "text/xml"
    with Session(rt.engine) as s:
        assert s.get(Subscription, first).status == "unsubscribed"
        assert s.get(Subscription, second).status == "unsubscribed"
        assert s.get(Subscription, other).status == "active"


def test_bad_signature_is_refused_and_changes_nothing(api, outbox, rt):
    sub = _active_sms(api, outbox)
    r = _post(api, {"From": "+381641234567", "Body": "STOP"}, signature="bm90LWEtc2lnbmF0dXJl")
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert _post(api, {"From": "+381641234567", "Body": "STOP"}, signature="").status_code == 403
    with Session(rt.engine) as s:
        assert s.get(Subscription, sub).status == "active"


def test_start_points_to_subscribing_again(api, outbox):
    r = _post(api, {"From": "+381641234567", "Body": "START"})
    assert r.status_code == 200 and "http://alertsvc.test/" in r.get_data(as_text=True)
