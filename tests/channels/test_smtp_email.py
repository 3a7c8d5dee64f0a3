"""SmtpEmailChannel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import logging
import ssl
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from channel_servers import Inbox, SmtpFactory, TlsFiles, free_port

from channels import Message, PermanentFailure, Receipt, TemporaryFailure
from channels.smtp_email import REFERENCE_HEADER, SmtpEmailChannel

SENDER = "uzbuna@alerts.example.rs"
ALERT = Message(
    channel="email",
    address="marija@example.rs",
    kind="alert",
    subject="Узбуна: нестала девојчица (9), Нови Сад",
    text="Нестала је Ана, 9 година. Последњи пут виђена код Железничке станице.",
    html="<p>Нестала је <b>Ана</b>, 9 година.</p>",
    unsubscribe_url="https://alerts.example.rs/unsubscribe/tok123",
    reference="delivery-42",
)
FIXED_NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def channel_for(port: int, **kwargs: object) -> SmtpEmailChannel:
    return SmtpEmailChannel(
        host="127.0.0.1",
        port=port,
        sender=SENDER,
        timeout=10,
        clock=lambda: FIXED_NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_alert_arrives_with_both_parts_and_all_headers(smtp_server: SmtpFactory) -> None:
    inbox = Inbox()
    server = smtp_server(inbox)
    channel = channel_for(server.port)
    receipt = channel.send(ALERT)
    channel.close()

    [got] = inbox.received
    assert got.mail_from == SENDER and got.rcpt_tos == [ALERT.address]
    email = got.email
    assert receipt == Receipt(provider_id=email["Message-ID"])
    assert email["Message-ID"].startswith("<") and email["Message-ID"].endswith("@alerts.example.rs>")
    assert email["Subject"] == ALERT.subject  # Cyrillic round-trips (RFC 2047 on the wire)
    assert b"=?utf-8?" in got.data.split(b"\r\n\r\n")[0].lower()  # RFC 2047 subject
    assert got.data.isascii()  # 7-bit clean: no 8BITMIME needed
    assert email["From"] == SENDER and email["To"] == ALERT.address
    assert email["Date"] == "Mon, 23 Nov 2026 14:05:00 +0000"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["List-Unsubscribe"] == "<https://alerts.example.rs/unsubscribe/tok123>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email[REFERENCE_HEADER] == "delivery-42"
    assert email.get_content_type() == "multipart/alternative"
    plain = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() == ALERT.text
    assert html.get_content().strip() == ALERT.html
    assert plain.get_content_charset() == "utf-8"


def test_plain_message_without_html_or_unsubscribe(smtp_server: SmtpFactory) -> None:
    inbox = Inbox()
    server = smtp_server(inbox)
    channel = channel_for(server.port)
    channel.send(Message("email", "a@example.rs", "confirmation", "Vaš kod: 123456", subject="Potvrda"))
    channel.close()
    email = inbox.received[0].email
    assert email.get_content_type() == "text/plain"
    assert email.get_content().strip() == "Vaš kod: 123456"
    assert "List-Unsubscribe" not in email and REFERENCE_HEADER not in email


def test_one_connection_is_reused_and_safe_across_threads(smtp_server: SmtpFactory) -> None:
    inbox = Inbox()
    server = smtp_server(inbox)
    channel = channel_for(server.port)
    messages = [Message("email", f"user{i}@example.rs", "alert", f"text {i}", subject="s") for i in range(20)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        receipts = list(pool.map(channel.send, messages))
    channel.close()
    assert len({r.provider_id for r in receipts}) == 20
    assert sorted(r.rcpt_tos[0] for r in inbox.received) == sorted(m.address for m in messages)
    assert len({r.session_id for r in inbox.received}) == 1


def test_reconnects_when_the_kept_connection_went_away(smtp_server: SmtpFactory) -> None:
    first, second = Inbox(), Inbox()
    server = smtp_server(first)
    port = server.port
    channel = channel_for(port)
    channel.send(ALERT)
    server.stop()  # the server goes away with our connection still open
    smtp_server(second, port=port)
    channel.send(ALERT)
    channel.close()
    assert len(first.received) == 1 and len(second.received) == 1


def test_recipient_refused_550_is_permanent(smtp_server: SmtpFactory) -> None:
    server = smtp_server(Inbox(rcpt_reply="550 5.1.1 No such user here"))
    channel = channel_for(server.port)
    with pytest.raises(PermanentFailure) as info:
        channel.send(ALERT)
    assert info.value.code == "smtp:550" and not info.value.retry_safe
    assert ALERT.address not in str(info.value)
    # the connection is still usable after the refusal
    with pytest.raises(PermanentFailure):
        channel.send(ALERT)
    channel.close()


def test_data_deferred_451_is_temporary(smtp_server: SmtpFactory) -> None:
    server = smtp_server(Inbox(data_reply="451 4.3.0 Try again later"))
    channel = channel_for(server.port)
    with pytest.raises(TemporaryFailure) as info:
        channel.send(ALERT)
    assert info.value.code == "smtp:451" and info.value.retry_safe
    channel.close()


def test_data_rejected_554_is_permanent(smtp_server: SmtpFactory) -> None:
    server = smtp_server(Inbox(data_reply="554 5.7.1 Message rejected"))
    with pytest.raises(PermanentFailure) as info:
        channel_for(server.port).send(ALERT)
    assert info.value.code == "smtp:554"


def test_no_server_listening_is_temporary() -> None:
    channel = channel_for(free_port())
    with pytest.raises(TemporaryFailure) as info:
        channel.send(ALERT)
    assert info.value.code == "connect"
    assert isinstance(info.value.__cause__, OSError)


def test_starttls_with_trusted_certificate(smtp_server: SmtpFactory, tls_files: TlsFiles) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    inbox = Inbox()
    server = smtp_server(inbox, tls_context=context, require_starttls=True)

    plain = channel_for(server.port)  # without STARTTLS the server refuses MAIL FROM
    with pytest.raises(PermanentFailure) as info:
        plain.send(ALERT)
    assert info.value.code == "smtp:530"
    plain.close()

    untrusting = channel_for(server.port, starttls=True)  # system CAs do not know our cert
    with pytest.raises(PermanentFailure) as info:
        untrusting.send(ALERT)
    assert info.value.code == "tls"

    trusting = channel_for(server.port, starttls=True, ca_file=str(tls_files.cert))
    trusting.send(ALERT)
    trusting.close()
    unverified = channel_for(server.port, starttls=True, tls_verify=False)
    unverified.send(ALERT)
    unverified.close()
    assert len(inbox.received) == 2


class Users:
    """aiosmtpd authenticator with one test user."""

    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        def text(value: str | bytes) -> str:
            return value.decode() if isinstance(value, bytes) else value

        ok = isinstance(auth_data, LoginPassword) and (
            text(auth_data.login),
            text(auth_data.password),
        ) == ("alerts", "correct horse")
        # handled=False: let aiosmtpd answer "535 5.7.8" itself
        return AuthResult(success=ok, handled=False)


def test_auth_over_starttls(smtp_server: SmtpFactory, tls_files: TlsFiles) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    inbox = Inbox()
    server = smtp_server(
        inbox, tls_context=context, require_starttls=True, authenticator=Users(),
        auth_required=True, auth_require_tls=True,
    )  # fmt: skip
    tls = {"starttls": True, "ca_file": str(tls_files.cert)}

    good = channel_for(server.port, username="alerts", password="correct horse", **tls)
    good.send(ALERT)
    good.close()
    assert len(inbox.received) == 1

    wrong = channel_for(server.port, username="alerts", password="wrong", **tls)
    with pytest.raises(PermanentFailure) as info:
        wrong.send(ALERT)
    assert info.value.code == "auth"

    anonymous = channel_for(server.port, **tls)  # AUTH required: MAIL FROM refused
    with pytest.raises(PermanentFailure) as info:
        anonymous.send(ALERT)
    assert info.value.code == "smtp:530"
    anonymous.close()


def test_auth_not_offered_without_tls_is_permanent(smtp_server: SmtpFactory, tls_files: TlsFiles) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    server = smtp_server(Inbox(), tls_context=context, authenticator=Users(), auth_require_tls=True)
    channel = channel_for(server.port, username="alerts", password="correct horse")  # no STARTTLS
    with pytest.raises(PermanentFailure) as info:
        channel.send(ALERT)
    assert info.value.code == "auth"


def test_logs_carry_ids_never_addresses_or_text(
    smtp_server: SmtpFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_server(Inbox())
    channel = channel_for(server.port)
    channel.send(ALERT)
    channel.close()
    records = [r for r in caplog.records if r.name.startswith("channels")]
    assert [r.getMessage() for r in records] == ["channel.sent"]
    assert records[0].reference == "delivery-42"  # type: ignore[attr-defined]
    client_side = [r for r in caplog.records if r.name != "mail.log"]  # mail.log: the test server
    for record in client_side:
        dump = repr(record.__dict__)
        for personal in (ALERT.address, ALERT.text, ALERT.subject or "", "Ана"):
            assert personal not in dump


class HangUpAfterData:
    """Receives the whole message, then drops the connection instead of answering."""

    def __init__(self) -> None:
        self.got_data = False

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.got_data = True
        server.transport.close()
        return "250 never sent"


def test_connection_lost_during_data_is_ambiguous_not_retry_safe(smtp_server: SmtpFactory) -> None:
    handler = HangUpAfterData()
    server = smtp_server(handler)
    channel = channel_for(server.port)
    with pytest.raises(PermanentFailure) as info:
        channel.send(ALERT)
    assert handler.got_data  # the server had the whole message: it may have been accepted
    assert info.value.code == "ambiguous" and info.value.retry_safe is False
    # the next send opens a fresh connection
    with pytest.raises(PermanentFailure):
        channel.send(ALERT)
    channel.close()


def test_internationalised_address_uses_smtputf8(smtp_server: SmtpFactory) -> None:
    inbox = Inbox()
    server = smtp_server(inbox)  # aiosmtpd's Controller offers SMTPUTF8
    channel = channel_for(server.port)
    channel.send(Message("email", "марија@пример.срб", "alert", "Текст", subject="Узбуна"))
    channel.close()
    [got] = inbox.received
    assert got.rcpt_tos == ["марија@пример.срб"]
    assert got.email["To"] == "марија@пример.срб"


def test_internationalised_address_without_smtputf8_is_permanent(smtp_server: SmtpFactory) -> None:
    server = smtp_server(Inbox(), enable_SMTPUTF8=False)
    channel = channel_for(server.port)
    with pytest.raises(PermanentFailure) as info:
        channel.send(Message("email", "марија@пример.срб", "alert", "Текст"))
    assert info.value.code == "smtputf8"
    channel.close()


def test_sends_wait_for_the_rate_limit(smtp_server: SmtpFactory) -> None:
    from channels.ratelimit import TokenBucket

    slept: list[float] = []
    bucket = TokenBucket(rate=4, burst=2, clock=lambda: 0.0, sleep=slept.append)
    inbox = Inbox()
    server = smtp_server(inbox)
    channel = channel_for(server.port, rate_limiter=bucket)
    for _ in range(4):
        channel.send(ALERT)
    channel.close()
    assert slept == [0.25, 0.5] and len(inbox.received) == 4
