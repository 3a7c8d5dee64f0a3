"""TwilioSmsChannel: SMS through the real ``twilio`` client (Programmable Messaging).

``api_base`` points the client at another server (a Prism mock of Twilio's OpenAPI
spec in tests, a regional or proxy endpoint elsewhere) by setting the ``base_url`` of
the client's ``api`` domain, the attribute every ``api.twilio.com`` URL is built from
(``twilio.base.domain.Domain.absolute_url``).

Errors are mapped by the data tables below (as GOV.UK Notify maps provider codes):
the Twilio error code decides first, then the HTTP status. Transport failures are
mapped by when they happened: before the request could reach Twilio (connection
refused, DNS, connect timeout, TLS handshake) is temporary; after it (read timeout,
connection dropped while waiting for the answer) is ambiguous, hence permanent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError  # also covers NameResolutionError

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

try:  # twilio >= 9.9 answers RFC 9457 problem documents with this class
    from twilio.base.exceptions import TwilioServiceException
except ImportError:  # pragma: no cover - older twilio 9.x
    TwilioServiceException = TwilioRestException

__all__ = [
    "CALLBACK_STATUS",
    "DEFAULT_API_BASE",
    "PERMANENT_ERROR_CODES",
    "RECIPIENT_OPTED_OUT",
    "REFERENCE_PARAM",
    "TEMPORARY_ERROR_CODES",
    "TwilioSmsChannel",
    "status_from_callback",
    "valid_signature",
]

_log = logging.getLogger(__name__)

DEFAULT_API_BASE: Final = "https://api.twilio.com"
REFERENCE_PARAM: Final = "reference"
"""Query parameter added to ``status_callback`` carrying :attr:`Message.reference`."""

TEMPORARY_ERROR_CODES: Mapping[int, str] = MappingProxyType(
    {
        20429: "too many requests",
        20503: "service unavailable",
        30001: "queue overflow",
    }
)
"""Twilio error codes after which sending again is safe (nothing was accepted)."""

PERMANENT_ERROR_CODES: Mapping[int, str] = MappingProxyType(
    {
        20003: "authentication failed",
        20404: "resource not found (account or service)",
        21211: "invalid 'To' number",
        21408: "sending to this region is not enabled",
        21602: "message body is required",
        21606: "'From' number cannot send SMS",
        21608: "trial account: 'To' is not verified",
        21610: "recipient has replied STOP (unsubscribed)",
        21612: "'To' cannot be reached from this 'From'",
        21614: "'To' is not a mobile number",
        21617: "message body exceeds 1600 characters",
        21659: "'From' is not a Twilio number",
        30007: "message filtered as spam",
    }
)
"""Twilio error codes that will not change on retry."""

TEMPORARY_HTTP_STATUSES: Final = frozenset({429, 503})
"""HTTP statuses that say the request was not processed. Other 5xx (500, 502, 504)
may come after Twilio created the message, so they are ambiguous."""

RECIPIENT_OPTED_OUT: Final = "twilio:21610"
"""``ChannelError.code`` when the recipient has unsubscribed at the carrier (STOP)."""

CALLBACK_STATUS: Mapping[str, str | None] = MappingProxyType(
    {
        "accepted": None,
        "scheduled": None,
        "queued": None,
        "sending": None,
        "sent": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "partially_delivered": "sent",  # not all parts confirmed: not yet "delivered"
        "undelivered": "failed",
        "failed": "failed",
        "canceled": "failed",
        "receiving": None,  # inbound states: nothing to record for an outbound send
        "received": None,
    }
)
"""Twilio ``MessageStatus`` -> our delivery status (None: no change to record)."""

_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")

# Twilio's ClientBase falls back to os.environ when given an empty mapping (for
# TWILIO_EDGE / TWILIO_REGION, which would rewrite our host); a non-empty mapping
# without those keys keeps the process environment out of the channel.
_NO_ENVIRONMENT: Final = MappingProxyType({"ALERTSVC_CHANNELS": "twilio"})


def _with_reference(url: str, reference: str | None) -> str:
    if not reference:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != REFERENCE_PARAM]
    query.append((REFERENCE_PARAM, reference))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _from_rest_error(exc: TwilioRestException | TwilioServiceException) -> ChannelError:
    """Map an error answer from Twilio (any HTTP status >= 300) to our error."""
    status = int(exc.status)
    code = exc.code if isinstance(exc.code, int) and exc.code != status else None
    if code is not None and code in TEMPORARY_ERROR_CODES:
        return TemporaryFailure(
            f"Twilio deferred the message: {TEMPORARY_ERROR_CODES[code]} (HTTP {status})",
            code=f"twilio:{code}",
        )
    if code is not None and code in PERMANENT_ERROR_CODES:
        return PermanentFailure(
            f"Twilio refused the message: {PERMANENT_ERROR_CODES[code]} (HTTP {status})",
            code=f"twilio:{code}",
        )
    if status in TEMPORARY_HTTP_STATUSES:
        return TemporaryFailure(f"Twilio deferred the message (HTTP {status})", code=f"http:{status}")
    if status >= 500:
        return PermanentFailure(
            f"Twilio answered HTTP {status}; the message may have been accepted", code=AMBIGUOUS
        )
    detail = f"error {code}, " if code is not None else ""
    return PermanentFailure(
        f"Twilio refused the message ({detail}HTTP {status})",
        code=f"twilio:{code}" if code is not None else f"http:{status}",
    )


def _sent_nothing(exc: requests.ConnectionError) -> bool:
    """True when a requests ConnectionError happened before the request was sent:
    DNS failure, refused connection, connect timeout or TLS handshake failure."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (NewConnectionError, ConnectionRefusedError)):
            return True
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        todo.extend(arg for arg in item.args if isinstance(arg, BaseException))
    return False


def _from_transport_error(exc: Exception) -> ChannelError:
    if isinstance(exc, requests.ConnectionError) and _sent_nothing(exc):
        return TemporaryFailure(f"cannot reach Twilio ({type(exc).__name__})", code="connect")
    if isinstance(exc, requests.RequestException):
        return PermanentFailure(
            f"no answer from Twilio after sending ({type(exc).__name__}); the message may have been accepted",
            code=AMBIGUOUS,
        )
    return PermanentFailure(f"Twilio client failed ({type(exc).__name__})", code="client")


class TwilioSmsChannel:
    """SMS via Twilio; ``provider_id`` is the Message SID (``SM...``)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        status_callback: str | None = None,
        max_per_second: float = 10.0,
        timeout: float = 15.0,
        name: str = ChannelName.SMS.value,
        http_client: HttpClient | None = None,
        rate_limiter: TokenBucket | None = None,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ChannelConfigError("from_number or messaging_service_sid is required")
        self.name = name
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.api_base = api_base.rstrip("/")
        self._limiter = rate_limiter or TokenBucket(max_per_second)
        self._client = Client(
            account_sid,
            auth_token,
            http_client=http_client or TwilioHttpClient(timeout=timeout),
            environment=dict(_NO_ENVIRONMENT),
        )
        self._client.api.base_url = self.api_base

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Options: ``account_sid``, ``auth_token`` (required); ``from_number`` and/or
        ``messaging_service_sid`` (one required); ``api_base`` (Twilio's),
        ``status_callback`` (URL), ``max_per_second`` (10), ``timeout`` (or
        ``timeout_seconds``, 15 s), ``name`` ("sms"); ``enabled`` is ignored. When
        both senders are set, ``messaging_service_sid`` is used."""
        opts = Options(ChannelName.SMS.value, options)
        from_number = opts.text("from_number")
        messaging_service_sid = opts.text("messaging_service_sid")
        if not from_number and not messaging_service_sid:
            raise ChannelConfigError("channels.sms: from_number or messaging_service_sid is required")
        channel = cls(
            account_sid=opts.required_text("account_sid"),
            auth_token=opts.required_text("auth_token"),
            from_number=from_number,
            messaging_service_sid=messaging_service_sid,
            api_base=opts.text("api_base", DEFAULT_API_BASE) or DEFAULT_API_BASE,
            status_callback=opts.text("status_callback"),
            max_per_second=opts.number("max_per_second", 10.0),
            timeout=opts.number("timeout", 15.0),
            name=opts.text("name", ChannelName.SMS.value) or ChannelName.SMS.value,
        )
        opts.finish()
        return channel

    def send(self, message: Message) -> Receipt:
        """Create one Twilio Message, waiting for the rate limit first.

        A number that is not E.164 or an empty text is refused before any request
        (``PermanentFailure`` with code ``invalid-address`` / ``empty-text``)."""
        if not _E164.fullmatch(message.address):
            raise PermanentFailure("recipient is not an E.164 phone number", code="invalid-address")
        if not message.text.strip():
            raise PermanentFailure("SMS text is empty", code="empty-text")
        params: dict[str, Any] = {"to": message.address, "body": message.text}
        if self.messaging_service_sid:  # takes precedence: Twilio picks the sender
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if self.status_callback:
            params["status_callback"] = _with_reference(self.status_callback, message.reference)
        self._limiter.acquire()
        try:
            created = self._client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            error = _from_rest_error(exc)
            _log.warning(
                "channel.refused",
                extra={"channel": self.name, "reference": message.reference, "code": error.code},
            )
            raise error from exc
        except (requests.RequestException, TwilioException, ValueError) as exc:
            error = _from_transport_error(exc)
            _log.warning(
                "channel.failed",
                extra={"channel": self.name, "reference": message.reference, "code": error.code},
            )
            raise error from exc
        _log.info(
            "channel.sent",
            extra={"channel": self.name, "reference": message.reference, "provider_id": created.sid},
        )
        return Receipt(provider_id=created.sid)

    def close(self) -> None:
        """Close the HTTP session of the default client (kept-alive connections)."""
        session = getattr(self._client.http_client, "session", None)
        if session is not None:
            session.close()


def status_from_callback(form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(message_sid, status)`` from a Twilio status callback form.

    ``status`` is ``"sent"``, ``"delivered"``, ``"failed"`` or None (nothing to
    record, or a status this table does not know). Reads ``MessageSid`` /
    ``MessageStatus`` (falling back to the older ``SmsSid`` / ``SmsStatus``).
    """
    sid = form.get("MessageSid") or form.get("SmsSid") or None
    raw = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    return sid, CALLBACK_STATUS.get(raw)


def valid_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Whether ``signature`` (the ``X-Twilio-Signature`` header) signs ``url`` and the
    POST ``params`` with ``auth_token``; a missing signature is invalid."""
    if not signature:
        return False
    try:
        return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
    except (TypeError, ValueError):
        return False
