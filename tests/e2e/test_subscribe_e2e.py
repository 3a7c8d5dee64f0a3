"""subscribe -> confirm -> unsubscribe over real transports: aiosmtpd on loopback, and the real twilio client
against Prism serving Twilio's published OpenAPI spec."""

from __future__ import annotations

import re

from channel_servers import Inbox
from sqlmodel import Session
from twilio.request_validator import RequestValidator

from alertsvc.app import create_app
from alertsvc.models import Subscription
from alertsvc.unsubscribe import unsubscribe_url

AUTH_TOKEN = "e2e-twilio-auth-token"
SID = "AC" + "0123456789abcdef" * 2


def test_email_subscription_over_real_smtp(settings, clock, engine, smtp_server):
    inbox = Inbox()
    controller = smtp_server(inbox)
    app = create_app(settings.with_overrides({"channels.email.enabled": True, "channels.email.host": "127.0.0.1",
                                              "channels.email.port": controller.port}), clock=clock, engine=engine)
    client = app.test_client()
    r = client.post("/api/v1/subscriptions", json={"channel": "email", "address": "vesna@example.org",
                                                   "language": "sr-Cyrl", "area": {"regions": ["RS-00"]}})
    assert r.status_code == 202
    assert len(inbox.received) == 1
    mail = inbox.received[0].email
    assert mail["To"] == "vesna@example.org"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert client.post(f"/api/v1/subscriptions/{r.json['id']}/confirm", json={"code": code}).json == {"status": "active"}
    rt = app.extensions["alertsvc"]
    path = unsubscribe_url(rt, r.json["id"]).removeprefix(rt.settings.server.base_url)
    page = client.get(path)
    assert page.status_code == 200 and "Одјави ме" in page.get_data(as_text=True)
    one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert one_click.status_code == 200
    with Session(engine) as s:
        sub = s.get(Subscription, r.json["id"])
        assert sub.status == "unsubscribed" and sub.address is None


def test_sms_subscription_over_twilio_mock(settings, clock, engine, twilio_proxy):
    app = create_app(settings.with_overrides({
        "channels.sms.enabled": True, "channels.sms.account_sid": SID, "channels.sms.auth_token": AUTH_TOKEN,
        "channels.sms.from_number": "+15005550006", "channels.sms.api_base": twilio_proxy.url,
    }), clock=clock, engine=engine)
    client = app.test_client()
    r = client.post("/api/v1/subscriptions", json={"channel": "sms", "address": "064 123 4567", "language": "sr-Latn",
                                                   "area": {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 3}}})
    assert r.status_code == 202
    [form] = twilio_proxy.forms
    assert form["To"] == "+381641234567" and form["From"] == "+15005550006"
    code = re.search(r"\b(\d{6})\b", form["Body"]).group(1)
    assert client.post(f"/api/v1/subscriptions/{r.json['id']}/confirm", json={"code": code}).status_code == 200
    stop = {"From": "+381641234567", "To": "+15005550006", "Body": "ODJAVA", "MessageSid": "SM" + "1" * 32}
    url = "http://alertsvc.test/webhooks/twilio/sms"
    sig = RequestValidator(AUTH_TOKEN).compute_signature(url, stop)
    assert client.post("/webhooks/twilio/sms", data=stop, headers={"X-Twilio-Signature": sig}).status_code == 200
    with Session(engine) as s:
        assert s.get(Subscription, r.json["id"]).status == "unsubscribed"
