"""TwilioSmsChannel with the real twilio client against Prism (Twilio's own OpenAPI
spec, validating every request), plus small real servers for the failures Prism
cannot produce (Twilio error codes, 429/503/5xx, timeouts, refused connections)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from channel_servers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TWILIO_SPEC,
    CannedHttp,
    Prism,
    SilentTcp,
    free_port,
)
from twilio.request_validator import RequestValidator

from channels import Message, PermanentFailure, Receipt, TemporaryFailure
from channels.ratelimit import TokenBucket
from channels.twilio_sms import (
    CALLBACK_STATUS,
    RECIPIENT_OPTED_OUT,
    TwilioSmsChannel,
    status_from_callback,
    valid_signature,
)

SID_PATTERN = re.compile(r"^SM[0-9a-fA-F]{32}$")
ALERT = Message(
    channel="sms",
    address="+381641234567",
    kind="alert",
    text="NESTALO DETE: Ana (9), Novi Sad. Info: 192. Odjava: https://a.example.rs/u/tok",
    reference="delivery-42",
)
VALID = "The request passed the validation rules"
INVALID = "Request did not pass the validation rules"
REQUEST_DONE = ('Responding with "', "Request terminated")  # the last line Prism logs per request


def sms_channel(api_base: str, **kwargs: object) -> TwilioSmsChannel:
    options: dict[str, object] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": "+15005550006",
        "api_base": api_base,
        "timeout": 10.0,
    }
    options.update(kwargs)
    return TwilioSmsChannel(**options)  # type: ignore[arg-type]


def send_and_read_log(
    prism: Prism, channel: TwilioSmsChannel, message: Message
) -> tuple[Receipt | Exception, str]:
    """Send through Prism; return the receipt (or the error) and Prism's log of the request."""
    offset = prism.log_offset()
    outcome: Receipt | Exception
    try:
        outcome = channel.send(message)
    except Exception as exc:  # returned to the test to assert on
        outcome = exc
    log = prism.log_since(offset, until=REQUEST_DONE)
    return outcome, log


# --- against Prism ----------------------------------------------------------------------------


def test_sms_is_accepted_and_prism_validated_the_request(prism: Prism) -> None:
    channel = sms_channel(prism.base_url)
    receipt, log = send_and_read_log(prism, channel, ALERT)
    channel.close()
    assert isinstance(receipt, Receipt), receipt
    assert receipt.provider_id is not None and SID_PATTERN.match(receipt.provider_id)
    assert f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json" in log
    assert VALID in log and INVALID not in log and "[VALIDATOR] ✖" not in log


def test_messaging_service_and_status_callback_with_reference_are_valid(prism: Prism) -> None:
    channel = sms_channel(
        prism.base_url,
        from_number=None,
        messaging_service_sid="MG" + "a1" * 16,
        status_callback="https://alerts.example.rs/webhooks/twilio/status?v=1",
    )
    receipt, log = send_and_read_log(prism, channel, ALERT)
    assert isinstance(receipt, Receipt) and SID_PATTERN.match(receipt.provider_id or "")
    assert VALID in log and INVALID not in log


@pytest.mark.parametrize(
    ("override", "violation"),
    [
        ({"account_sid": "AC-not-a-sid"}, "accountsid must match pattern"),
        ({"messaging_service_sid": "MG123"}, "MessagingServiceSid must match pattern"),
        ({"status_callback": "not a url"}, 'StatusCallback must match format "uri"'),
    ],
)
def test_requests_prism_finds_invalid_become_permanent_failures(
    prism: Prism, override: dict[str, str], violation: str
) -> None:
    """Proof that Prism validates what the real client sends: the same channel with
    one bad setting gets a 422 from Prism (not a made-up 201) and a PermanentFailure."""
    channel = sms_channel(prism.base_url, **override)
    error, log = send_and_read_log(prism, channel, ALERT)
    assert isinstance(error, PermanentFailure), error
    assert error.code == "http:422" and not error.retry_safe
    assert INVALID in log and violation in log


@pytest.mark.parametrize(
    ("address", "text", "code"),
    [
        ("", "text", "invalid-address"),
        ("0641234567", "text", "invalid-address"),
        ("+381641234567", " ", "empty-text"),
    ],
)
def test_unsendable_messages_are_refused_before_any_request(
    canned_http: CannedHttp, address: str, text: str, code: str
) -> None:
    # Twilio's schema only requires To (Body and MediaUrl are both optional), and Prism
    # takes an empty To as a string, so the channel checks these itself.
    with pytest.raises(PermanentFailure) as info:
        sms_channel(canned_http.base_url).send(Message("sms", address, "alert", text))
    assert info.value.code == code
    assert canned_http.requests == []


def test_logs_carry_ids_never_numbers_or_text(prism: Prism, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    channel = sms_channel(prism.base_url)
    channel.send(ALERT)
    records = [r for r in caplog.records if r.name.startswith("channels")]
    assert [r.getMessage() for r in records] == ["channel.sent"]
    assert records[0].reference == "delivery-42"  # type: ignore[attr-defined]
    for record in caplog.records:  # ours and the twilio client's
        dump = repr(record.__dict__) + record.getMessage()
        assert ALERT.address not in dump and ALERT.text not in dump and "Ana (9)" not in dump


def test_callback_table_covers_every_status_in_the_spec() -> None:
    spec = json.loads(TWILIO_SPEC.read_text())
    statuses = spec["components"]["schemas"]["message_enum_status"]["enum"]
    assert set(statuses) == set(CALLBACK_STATUS)


# --- Twilio error answers (a real HTTP server giving Twilio's error bodies) ----------------------


def twilio_error(code: int, status: int) -> dict[str, object]:
    return {"code": code, "message": f"error {code} for +381641234567", "more_info": "", "status": status}


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (400, twilio_error(21211, 400), PermanentFailure, "twilio:21211"),
        (400, twilio_error(21610, 400), PermanentFailure, RECIPIENT_OPTED_OUT),
        (400, twilio_error(21614, 400), PermanentFailure, "twilio:21614"),
        (400, twilio_error(21408, 400), PermanentFailure, "twilio:21408"),
        (401, twilio_error(20003, 401), PermanentFailure, "twilio:20003"),
        (400, twilio_error(29999, 400), PermanentFailure, "twilio:29999"),  # unknown code: permanent
        (429, twilio_error(20429, 429), TemporaryFailure, "twilio:20429"),
        (429, {}, TemporaryFailure, "http:429"),
        (503, {}, TemporaryFailure, "http:503"),
        (500, {}, PermanentFailure, "ambiguous"),  # may have been created before the error
        (504, {}, PermanentFailure, "ambiguous"),
    ],
)
def test_twilio_error_answers_are_mapped(
    canned_http: CannedHttp, status: int, body: dict[str, object], kind: type, code: str
) -> None:
    canned_http.answer(status, body)
    channel = sms_channel(canned_http.base_url)
    with pytest.raises(kind) as info:
        channel.send(ALERT)
    assert info.value.code == code
    assert info.value.retry_safe is (kind is TemporaryFailure)
    assert ALERT.address not in str(info.value)  # Twilio's message text is not passed on
    [(path, form)] = canned_http.requests
    assert path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert parse_qs(form)["To"] == [ALERT.address]


def test_status_callback_carries_the_reference(canned_http: CannedHttp) -> None:
    canned_http.answer(201, {"sid": "SM" + "b" * 32, "status": "queued"})
    channel = sms_channel(canned_http.base_url, status_callback="https://a.example.rs/cb?x=1")
    assert channel.send(ALERT) == Receipt("SM" + "b" * 32)
    form = parse_qs(canned_http.requests[0][1])
    assert form["StatusCallback"] == ["https://a.example.rs/cb?x=1&reference=delivery-42"]
    assert form["Body"] == [ALERT.text] and form["From"] == ["+15005550006"]


# --- transport failures -----------------------------------------------------------------------


def test_connection_refused_is_temporary() -> None:
    channel = sms_channel(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TemporaryFailure) as info:
        channel.send(ALERT)
    assert info.value.code == "connect" and info.value.retry_safe


def test_read_timeout_after_sending_is_ambiguous(silent_tcp: Callable[[bool], SilentTcp]) -> None:
    server = silent_tcp(False)
    channel = sms_channel(server.base_url, timeout=0.5)
    with pytest.raises(PermanentFailure) as info:
        channel.send(ALERT)
    assert server.got_request.is_set()
    assert info.value.code == "ambiguous" and info.value.retry_safe is False


def test_connection_dropped_after_sending_is_ambiguous(silent_tcp: Callable[[bool], SilentTcp]) -> None:
    server = silent_tcp(True)
    channel = sms_channel(server.base_url)
    with pytest.raises(PermanentFailure) as info:
        channel.send(ALERT)
    assert server.got_request.is_set()
    assert info.value.code == "ambiguous"


# --- rate limit ------------------------------------------------------------------------------


def test_sends_wait_for_the_rate_limit(canned_http: CannedHttp) -> None:
    slept: list[float] = []
    bucket = TokenBucket(rate=2, burst=1, clock=lambda: 0.0, sleep=slept.append)
    channel = sms_channel(canned_http.base_url, rate_limiter=bucket)
    for _ in range(3):
        canned_http.answer(201, {"sid": "SM" + "c" * 32})
        channel.send(ALERT)
    assert slept == [0.5, 1.0]  # the clock stands still, so each send queues behind the last
    assert len(canned_http.requests) == 3


# --- callbacks and signatures -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "queued"}, ("SM1", None)),
        ({"MessageSid": "SM1", "MessageStatus": "sending"}, ("SM1", None)),
        ({"MessageSid": "SM1", "MessageStatus": "sent"}, ("SM1", "sent")),
        ({"MessageSid": "SM1", "MessageStatus": "delivered"}, ("SM1", "delivered")),
        ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30005"}, ("SM1", "failed")),
        ({"MessageSid": "SM1", "MessageStatus": "failed"}, ("SM1", "failed")),
        ({"SmsSid": "SM2", "SmsStatus": "delivered"}, ("SM2", "delivered")),
        ({"MessageSid": "SM1", "MessageStatus": "something-new"}, ("SM1", None)),
        ({}, (None, None)),
    ],
)
def test_status_from_callback(form: dict[str, str], expected: tuple[str | None, str | None]) -> None:
    assert status_from_callback(form) == expected


def test_valid_signature() -> None:
    url = "https://alerts.example.rs/webhooks/twilio/status?reference=delivery-42"
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": "+381641234567"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    assert valid_signature(AUTH_TOKEN, url, params, signature)
    assert not valid_signature("another-token", url, params, signature)
    assert not valid_signature(AUTH_TOKEN, url, {**params, "MessageStatus": "failed"}, signature)
    assert not valid_signature(AUTH_TOKEN, url.replace("42", "43"), params, signature)
    assert not valid_signature(AUTH_TOKEN, url, params, None)
    assert not valid_signature(AUTH_TOKEN, url, params, "")
