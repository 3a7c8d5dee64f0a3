"""SmtpEmailChannel: sends email with :mod:`smtplib`.

One SMTP connection is kept between sends and guarded by a lock (sends from many
threads are serialised on it). A kept connection the server has meanwhile closed is
noticed at ``MAIL FROM`` and replaced once, since nothing was handed over yet.

Error mapping (the transaction is run step by step so the stage is known):

=============================================  ===========================================
connect / TLS / EHLO / AUTH / MAIL / RCPT       nothing handed over yet
  connection refused, timeout, drop             TemporaryFailure ``connect`` / ``disconnected``
  4xx reply                                     TemporaryFailure ``smtp:4xx``
  5xx reply, AUTH refused (535)                 PermanentFailure ``smtp:5xx`` / ``auth``
  certificate not trusted                       PermanentFailure ``tls``
  STARTTLS/AUTH/SMTPUTF8 not offered            PermanentFailure ``starttls`` / ``auth`` / ``smtputf8``
DATA                                            the message is being handed over
  4xx / 5xx reply after the data                TemporaryFailure / PermanentFailure
  timeout or drop before the reply              PermanentFailure ``ambiguous`` (may be accepted)
=============================================  ===========================================
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid
from typing import Any, Self

from channels.base import (
    AMBIGUOUS,
    ChannelConfigError,
    ChannelError,
    ChannelName,
    Message,
    Options,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)
from channels.ratelimit import TokenBucket

__all__ = ["REFERENCE_HEADER", "SmtpEmailChannel"]

_log = logging.getLogger(__name__)

REFERENCE_HEADER = "X-Alertsvc-Reference"
"""Header carrying :attr:`Message.reference` (the caller's id, never personal data)."""


def _reply_error(stage: str, code: int, *, auth: bool = False) -> ChannelError:
    """Map an SMTP reply code to our error; ``stage`` names the SMTP step."""
    if 400 <= code < 500:
        return TemporaryFailure(f"SMTP {stage} deferred with {code}", code=f"smtp:{code}")
    if auth and code in (530, 534, 535, 538):
        return PermanentFailure(f"SMTP authentication refused ({code})", code="auth")
    return PermanentFailure(f"SMTP {stage} refused with {code}", code=f"smtp:{code}")


def _cte(body: str) -> str:
    return "7bit" if body.isascii() and all(len(line) <= 998 for line in body.splitlines()) else "base64"


def _needs_smtputf8(*addresses: str) -> bool:
    return not all(a.isascii() for a in addresses)


class SmtpEmailChannel:
    """Email over SMTP, with optional STARTTLS and AUTH; ``provider_id`` is the Message-ID."""

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        port: int = 25,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_verify: bool = True,
        ca_file: str | None = None,
        name: str = ChannelName.EMAIL.value,
        max_per_second: float | None = None,
        rate_limiter: TokenBucket | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if username is not None and password is None:
            raise ChannelConfigError("password is required when username is given")
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.tls_verify = tls_verify
        self.ca_file = ca_file
        self._clock = clock
        if rate_limiter is None and max_per_second is not None:
            rate_limiter = TokenBucket(max_per_second)
        self._limiter = rate_limiter
        self._lock = threading.Lock()
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Options: ``host``, ``sender`` (required); ``port`` (25), ``starttls`` (false),
        ``username``, ``password``, ``timeout`` (or ``timeout_seconds``, 30 s),
        ``tls_verify`` (true), ``ca_file`` (trust these CAs instead of the system's),
        ``max_per_second`` (unlimited when absent), ``name`` ("email");
        ``enabled`` is ignored."""
        opts = Options(ChannelName.EMAIL.value, options)
        channel = cls(
            host=opts.required_text("host"),
            sender=opts.required_text("sender"),
            port=opts.integer("port", 25),
            starttls=opts.flag("starttls", False),
            username=opts.text("username"),
            password=opts.text("password"),
            timeout=opts.number("timeout", 30.0),
            tls_verify=opts.flag("tls_verify", True),
            ca_file=opts.text("ca_file"),
            name=opts.text("name", ChannelName.EMAIL.value) or ChannelName.EMAIL.value,
            max_per_second=opts.number("max_per_second", 0.0) or None,
        )
        opts.finish()
        return channel

    # --- building the email ---------------------------------------------------------

    def build(self, message: Message) -> EmailMessage:
        """The email for ``message`` (pure: no I/O). Its ``Message-ID`` is the receipt id."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.address
        email["Subject"] = message.subject or ""
        email["Date"] = format_datetime(self._clock())
        domain = self.sender.rpartition("@")[2] or None
        email["Message-ID"] = make_msgid(domain=domain)
        email["Auto-Submitted"] = "auto-generated"
        if message.unsubscribe_url:
            email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if message.reference:
            email[REFERENCE_HEADER] = message.reference
        # non-ASCII bodies are base64-encoded so the message is 7-bit clean and
        # needs no 8BITMIME from the server
        email.set_content(message.text, cte=_cte(message.text))
        if message.html:
            email.add_alternative(message.html, subtype="html", cte=_cte(message.html))
        return email

    # --- connection -------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        if not self.tls_verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.ca_file)

    def _open(self) -> smtplib.SMTP:
        """Connect, STARTTLS and log in; every failure here is before any hand-over."""
        try:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPConnectError as exc:
            raise _reply_error("greeting", exc.smtp_code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(
                f"cannot connect to SMTP server ({type(exc).__name__})", code="connect"
            ) from exc
        try:
            conn.ehlo()
            if self.starttls:
                if not conn.has_extn("starttls"):
                    raise PermanentFailure("SMTP server does not offer STARTTLS", code="starttls")
                code, _ = conn.starttls(context=self._tls_context())
                if code != 220:
                    raise _reply_error("STARTTLS", code)
                conn.ehlo()
            if self.username is not None:
                if not conn.has_extn("auth"):
                    raise PermanentFailure("SMTP server does not offer AUTH", code="auth")
                conn.login(self.username, self._password or "")
        except ChannelError:
            _close_quietly(conn)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(conn)
            raise _reply_error("AUTH", exc.smtp_code, auth=True) from exc
        except smtplib.SMTPResponseException as exc:
            _close_quietly(conn)
            raise _reply_error("session setup", exc.smtp_code) from exc
        except ssl.SSLCertVerificationError as exc:
            _close_quietly(conn)
            raise PermanentFailure("SMTP server certificate not trusted", code="tls") from exc
        except (OSError, smtplib.SMTPException) as exc:
            _close_quietly(conn)
            raise TemporaryFailure(
                f"SMTP session setup failed ({type(exc).__name__})", code="disconnected"
            ) from exc
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            _close_quietly(self._conn)
            self._conn = None

    # --- sending ------------------------------------------------------------------------

    def _envelope(self, conn: smtplib.SMTP, message: Message, smtputf8: bool) -> None:
        """MAIL FROM and RCPT TO; raises ChannelError, or OSError/SMTPServerDisconnected."""
        options = ["SMTPUTF8", "BODY=8BITMIME"] if smtputf8 else []
        code, _ = conn.mail(self.sender, options)
        if code != 250:
            _rset_quietly(conn)
            raise _reply_error("MAIL FROM", code)
        code, _ = conn.rcpt(message.address)
        if code not in (250, 251):
            _rset_quietly(conn)
            raise _reply_error("RCPT TO", code)

    def send(self, message: Message) -> Receipt:
        """Send one email; see the module docstring for how failures are mapped."""
        email = self.build(message)
        smtputf8 = _needs_smtputf8(self.sender, message.address)
        payload = email.as_bytes(policy=SMTPUTF8 if smtputf8 else SMTP)
        if self._limiter is not None:
            self._limiter.acquire()
        with self._lock:
            for attempt in (1, 2):
                reused = self._conn is not None
                if self._conn is None:
                    self._conn = self._open()
                conn = self._conn
                if smtputf8 and not conn.has_extn("smtputf8"):
                    raise PermanentFailure("SMTP server does not offer SMTPUTF8", code="smtputf8")
                try:
                    self._envelope(conn, message, smtputf8)
                    break
                except ChannelError:
                    raise
                except (OSError, smtplib.SMTPServerDisconnected) as exc:
                    self._drop()
                    if reused and attempt == 1:
                        continue  # the kept connection had gone stale; nothing was handed over
                    raise TemporaryFailure(
                        f"SMTP connection lost before DATA ({type(exc).__name__})",
                        code="disconnected",
                    ) from exc
                except smtplib.SMTPResponseException as exc:
                    self._drop()
                    raise _reply_error("envelope", exc.smtp_code) from exc
            try:
                code, _ = conn.data(payload)
            except smtplib.SMTPDataError as exc:
                # DATA itself was refused (no 354): nothing was handed over
                raise _reply_error("DATA", exc.smtp_code) from exc
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                self._drop()
                raise PermanentFailure(
                    "SMTP connection lost during DATA; the message may have been accepted",
                    code=AMBIGUOUS,
                ) from exc
            except smtplib.SMTPResponseException as exc:
                self._drop()
                raise _reply_error("DATA", exc.smtp_code) from exc
            if code != 250:
                _rset_quietly(conn)
                raise _reply_error("DATA", code)
        message_id = email["Message-ID"]
        _log.info(
            "channel.sent",
            extra={"channel": self.name, "reference": message.reference, "provider_id": message_id},
        )
        return Receipt(provider_id=message_id)

    def close(self) -> None:
        """QUIT the kept connection, if any."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    self._conn.quit()
                self._conn = None


def _close_quietly(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()


def _rset_quietly(conn: smtplib.SMTP) -> None:
    """Reset the transaction after a refusal; a connection that fails that is closed
    (the next send notices and reconnects)."""
    try:
        conn.rset()
    except (OSError, smtplib.SMTPException):
        _close_quietly(conn)
