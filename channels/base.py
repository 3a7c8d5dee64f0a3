"""The channel contract: what is sent, what comes back, and how sending fails.

A channel turns one :class:`Message` into one provider hand-over and answers with a
:class:`Receipt` (the provider's id for what it accepted) or raises a
:class:`ChannelError`. Channels do I/O only in ``send()``; everything they need is
passed to their constructor (or built by ``from_options`` from a config section).

Exception tree::

    Exception
    ├── ChannelError                 a send did not end in a Receipt; .retry_safe, .code
    │   ├── TemporaryFailure         retry_safe = True
    │   │                            the provider certainly did NOT accept the message:
    │   │                            connection refused, 429, "try later" (SMTP 4xx) ...
    │   └── PermanentFailure         retry_safe = False
    │                                rejected (invalid number, SMTP 5xx, auth error,
    │                                bad configuration) OR AMBIGUOUS (code "ambiguous")
    └── ValueError
        └── ChannelConfigError       from_options()/constructor got a bad config section

Ambiguity rule: when the request may have reached the provider and we cannot tell
whether it was accepted (a read timeout after the request was sent, the connection
dropping while the SMTP DATA was being transferred, a gateway timeout), the channel
raises ``PermanentFailure(code="ambiguous")``. Retrying such a send could deliver
the same alert twice, so it is never marked retry-safe; the caller may decide to
reconcile it later (for SMS, a status callback carrying the reference may still
arrive).

Error messages and codes never contain personal data (addresses, message text);
callers may log ``str(exc)`` and ``exc.code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

__all__ = [
    "AMBIGUOUS",
    "Channel",
    "ChannelConfigError",
    "ChannelError",
    "ChannelName",
    "Message",
    "Options",
    "PermanentFailure",
    "Receipt",
    "TemporaryFailure",
]

AMBIGUOUS = "ambiguous"
"""``ChannelError.code`` of a send whose outcome at the provider is unknown."""


class ChannelName(StrEnum):
    """The channels a citizen subscribes on and an alert goes out by, valued as the API's strings.

    The one list of them: ``list(ChannelName)`` is ``["sms", "email"]`` in this order."""

    SMS = "sms"
    EMAIL = "email"


@dataclass(frozen=True)
class Message:
    """One message for one recipient over one channel.

    ``text`` is the SMS body or the text/plain part of an email. ``reference`` is the
    caller's id for this send (e.g. the delivery id); channels pass it to the
    provider where they can, so it must never be personal data.
    """

    channel: str  # a ChannelName value: "sms" | "email"
    address: str  # E.164 phone number or email address
    kind: str  # "confirmation" | "alert" | "update" | "closing"
    text: str
    subject: str | None = None
    html: str | None = None
    unsubscribe_url: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the provider accepted: its id for the message and the status we record."""

    provider_id: str | None
    status: str = "sent"


class ChannelError(Exception):
    """A send that did not end in a :class:`Receipt`.

    ``retry_safe`` tells whether sending the same message again cannot produce a
    duplicate; ``code`` is a short machine-readable reason such as ``"smtp:550"``,
    ``"twilio:21211"``, ``"http:429"``, ``"connect"`` or ``"ambiguous"``.
    """

    retry_safe: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, code={self.code!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # keep ``code`` when the error crosses a process boundary (pickle)
        return (_rebuild_error, (type(self), str(self), self.code))


def _rebuild_error(cls: type[ChannelError], message: str, code: str | None) -> ChannelError:
    return cls(message, code=code)


class TemporaryFailure(ChannelError):
    """The provider certainly did not accept the message; sending again is safe."""

    retry_safe: ClassVar[bool] = True


class PermanentFailure(ChannelError):
    """Do not retry: the provider refused the message, the channel is misconfigured,
    or the outcome is ambiguous (``code == "ambiguous"``: the provider may have
    accepted the message, so a retry could send it twice)."""

    retry_safe: ClassVar[bool] = False


class ChannelConfigError(ValueError):
    """A channel's configuration section is missing a key or has a bad value."""


@runtime_checkable
class Channel(Protocol):
    """One transport. ``send`` is the only method that does I/O."""

    name: str

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Build the channel from its configuration section (raise :class:`ChannelConfigError`)."""
        ...

    def send(self, message: Message) -> Receipt:
        """Hand ``message`` to the provider; raise a :class:`ChannelError` if that fails."""
        ...

    def close(self) -> None:
        """Release connections held between sends (no-op where there are none)."""
        ...


_ALIASES = {"timeout": "timeout_seconds"}  # key -> alternative spelling also accepted
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class Options:
    """Typed, strict reading of one config section for ``from_options``.

    Values may be typed already or strings (from environment overrides); secrets
    may be objects with ``get_secret_value()`` (pydantic ``SecretStr``). Call
    :meth:`finish` at the end: unknown keys are an error, so a typo does not pass
    silently. ``enabled`` is accepted and ignored: whether a channel is used at all is
    the application's decision, not the channel's.
    """

    IGNORED: ClassVar[frozenset[str]] = frozenset({"enabled"})

    def __init__(self, section: str, options: Mapping[str, Any]) -> None:
        self._section = section
        self._options = dict(options)
        self._seen: set[str] = set()

    def _raw(self, key: str) -> Any:
        self._seen.add(key)
        value = self._options.get(key)
        if value is None and key in _ALIASES:
            self._seen.add(_ALIASES[key])
            value = self._options.get(_ALIASES[key])
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        return value

    def _error(self, key: str, problem: str) -> ChannelConfigError:
        return ChannelConfigError(f"channels.{self._section}.{key}: {problem}")

    def text(self, key: str, default: str | None = None) -> str | None:
        """An optional string (empty string counts as unset)."""
        value = self._raw(key)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            raise self._error(key, "must be a string")
        return value

    def required_text(self, key: str) -> str:
        """A string that must be present and non-empty."""
        value = self.text(key)
        if value is None:
            raise self._error(key, "is required")
        return value

    def flag(self, key: str, default: bool) -> bool:
        """A boolean; accepts bools and the usual strings (true/false, 1/0, yes/no, on/off)."""
        value = self._raw(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self._error(key, "must be a boolean")

    def number(self, key: str, default: float) -> float:
        """A positive number."""
        value = self._raw(key)
        if value is None or value == "":
            return default
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise self._error(key, "must be a number") from exc
        if not number > 0:
            raise self._error(key, "must be greater than 0")
        return number

    def integer(self, key: str, default: int) -> int:
        """A positive integer (e.g. a port)."""
        value = self._raw(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise self._error(key, "must be an integer")
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise self._error(key, "must be an integer") from exc
        if number <= 0:
            raise self._error(key, "must be greater than 0")
        return number

    def finish(self) -> None:
        """Raise :class:`ChannelConfigError` naming any key that was not read."""
        unknown = sorted(set(self._options) - self._seen - self.IGNORED)
        if unknown:
            raise ChannelConfigError(f"channels.{self._section}: unknown option(s): {', '.join(unknown)}")
