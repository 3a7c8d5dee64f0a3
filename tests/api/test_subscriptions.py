from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from alertsvc.models import AuditEvent, Subscription

PROBLEM = "application/problem+json"
SMS = {"channel": "sms", "address": "+381 64 1234567", "language": "sr-Latn",
       "area": {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 5}}}
EMAIL = {"channel": "email", "address": "Ana.Test@Example.org", "language": "en", "area": {"regions": ["RS-00"]}}


def _code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.text).group(1)


def _subscribe(api, outbox, body):
    r = api.client.post("/api/v1/subscriptions", json=body)
    assert r.status_code == 202, r.json
    return r.json["id"], _code(outbox.sent[-1])


@pytest.mark.parametrize("body", [SMS, EMAIL])
def test_subscribe_confirm_unsubscribe(api, outbox, rt, body):
    r = api.client.post("/api/v1/subscriptions", json=body)
    assert r.status_code == 202 and r.json["status"] == "pending"
    sub_id = r.json["id"]
    sent = outbox.sent[-1]
    assert sent.kind == "confirmation" and sent.channel == body["channel"]
    assert sent.address == ("+381641234567" if body["channel"] == "sms" else "Ana.Test@example.org")
    confirmed = api.client.post(f"/api/v1/subscriptions/{sub_id}/confirm", json={"code": _code(sent)})
    assert confirmed.status_code == 200 and confirmed.json == {"status": "active"}
    from alertsvc.unsubscribe import unsubscribe_token

    token = unsubscribe_token(rt, sub_id)
    out = api.client.post("/api/v1/subscriptions/unsubscribe", json={"token": token})
    assert out.status_code == 200 and out.json == {"status": "unsubscribed"}
    with Session(rt.engine) as s:
        sub = s.get(Subscription, sub_id)
        assert sub.status == "unsubscribed"
        assert sub.address is None and sub.address_key is None and sub.area is None and sub.lat is None


def test_code_is_stored_hashed(api, outbox, rt):
    sub_id, code = _subscribe(api, outbox, SMS)
    with Session(rt.engine) as s:
        sub = s.get(Subscription, sub_id)
        assert sub.code_hash and code not in sub.code_hash


def test_wrong_codes_lock_the_subscription(api, outbox, rt):
    sub_id, code = _subscribe(api, outbox, SMS)
    wrong = "000000" if code != "000000" else "111111"
    for left in range(4, -1, -1):
        r = api.client.post(f"/api/v1/subscriptions/{sub_id}/confirm", json={"code": wrong})
        assert r.status_code == 422 and f"{left} attempts left" in r.json["errors"][0]["message"]
    locked = api.client.post(f"/api/v1/subscriptions/{sub_id}/confirm", json={"code": code})
    assert locked.status_code == 429 and locked.mimetype == PROBLEM
    with Session(rt.engine) as s:
        assert s.get(Subscription, sub_id).status == "pending"


def test_code_expires(api, outbox, clock):
    sub_id, code = _subscribe(api, outbox, SMS)
    clock.advance(minutes=31)
    r = api.client.post(f"/api/v1/subscriptions/{sub_id}/confirm", json={"code": code})
    assert r.status_code == 409 and r.mimetype == PROBLEM


def test_answer_does_not_reveal_an_existing_subscription(api, outbox):
    sub_id, code = _subscribe(api, outbox, SMS)
    api.client.post(f"/api/v1/subscriptions/{sub_id}/confirm", json={"code": code})
    again = api.client.post("/api/v1/subscriptions", json=SMS)
    fresh = api.client.post("/api/v1/subscriptions", json={**SMS, "address": "+381 64 7654321"})
    assert again.status_code == fresh.status_code == 202
    assert set(again.json) == set(fresh.json) == {"id", "status"}
    assert again.json["status"] == fresh.json["status"] == "pending"


@pytest.mark.parametrize(("patch", "field"), [
    ({"address": "+381 900 123456"}, "address"),        # premium rate
    ({"address": "1234"}, "address"),                   # short code
    ({"address": "+381 11 3234567"}, "address"),        # Belgrade landline: cannot receive SMS
    ({"address": "not a number"}, "address"),
    ({"channel": "email", "address": "no-at-sign"}, "address"),
    ({"channel": "fax"}, "channel"),
    ({"language": "de"}, "language"),
    ({"area": {"circle": {"lat": 95, "lon": 20, "radius_km": 5}}}, "area.circle.lat"),
    ({"area": {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": 0}}}, "area.circle.radius_km"),
    ({"area": {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": 501}}}, "area.circle.radius_km"),
    ({"area": {"regions": ["RS-99"]}}, "area.regions"),
    ({"area": {"regions": []}}, "area.regions"),
    ({"area": {}}, "area"),
    ({"area": {"circle": {"lat": 48.85, "lon": 2.35, "radius_km": 5}}}, "area"),  # Paris: outside the catalogue
    ({"area": {"polygon": {"type": "Polygon", "coordinates": []}}}, "area.polygon"),
])
def test_bad_subscriptions_are_422_and_store_nothing(api, outbox, rt, patch, field):
    r = api.client.post("/api/v1/subscriptions", json={**SMS, **patch})
    assert r.status_code == 422 and r.mimetype == PROBLEM, r.json
    fields = [e["field"] for e in r.json["errors"]]
    assert any(f == field or f.startswith(field + ".") or f.startswith(field + "[") for f in fields), fields
    assert outbox.sent == []
    with Session(rt.engine) as s:
        assert s.exec(select(Subscription)).all() == []


def test_subscribe_is_rate_limited_per_address(api, outbox):
    statuses = [api.client.post("/api/v1/subscriptions", json=SMS).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    # the same number written differently is the same address
    assert api.client.post("/api/v1/subscriptions", json={**SMS, "address": "064 123 4567"}).status_code == 429
    # another address from the same client is still accepted
    assert api.client.post("/api/v1/subscriptions", json={**SMS, "address": "+381 64 7654321"}).status_code == 202


def test_subscribe_is_rate_limited_per_ip(api, outbox):
    codes = [api.client.post("/api/v1/subscriptions", json={**SMS, "address": f"+381 64 12345{i:02d}"},
                             environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for i in range(11)]
    assert codes[:10] == [202] * 10 and codes[10] == 429
    other = api.client.post("/api/v1/subscriptions", json={**SMS, "address": "+381 64 7654399"},
                            environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 202


def test_audit_of_subscriptions_holds_no_address(api, outbox, rt):
    sub_id, code = _subscribe(api, outbox, SMS)
    api.client.post(f"/api/v1/subscriptions/{sub_id}/confirm", json={"code": code})
    with Session(rt.engine) as s:
        text = " ".join(str(e.details) + e.object_id for e in s.exec(select(AuditEvent)).all())
    assert "1234567" not in text and "44.8125" not in text


def test_bad_unsubscribe_token_is_404(api):
    r = api.client.post("/api/v1/subscriptions/unsubscribe", json={"token": "forged.token"})
    assert r.status_code == 404 and r.mimetype == PROBLEM


def test_tampered_unsubscribe_token_is_refused(api, outbox, rt):
    from alertsvc.unsubscribe import unsubscribe_token

    sub_id, _code = _subscribe(api, outbox, SMS)
    token = unsubscribe_token(rt, sub_id)
    assert len(token) == 34
    other = unsubscribe_token(rt, "00000000-0000-4000-8000-000000000000")
    forged = other[:22] + token[22:]  # someone else's id with this token's signature
    r = api.client.post("/api/v1/subscriptions/unsubscribe", json={"token": forged})
    assert r.status_code == 404
    with Session(rt.engine) as s:
        assert s.get(Subscription, sub_id).status == "pending"
