"""Unsubscribe links: a short signed token per subscription, and the URL that carries it.

Its own small module because both the services (the unsubscribe page, the API, previews) and the dispatch
worker (every message carries its subscriber's link) need it, and neither may import the other's package for it.
"""

from __future__ import annotations

import base64
import hmac
import uuid

from .errors import NotFound
from .runtime import Runtime


def unsubscribe_token(rt: Runtime, sub_id: str) -> str:
    """Compact signed token (34 characters): the subscription's 16 uuid bytes and 9 bytes of an HMAC.
    Short on purpose: it goes into every SMS, where each character counts against the segment budget."""
    raw = uuid.UUID(sub_id).bytes
    mac = bytes.fromhex(rt.keyed_hash("unsubscribe", raw.hex()))[:9]
    return base64.urlsafe_b64encode(raw + mac).decode().rstrip("=")


def unsubscribe_url(rt: Runtime, sub_id: str) -> str:
    return f"{rt.settings.server.base_url}/unsubscribe/{unsubscribe_token(rt, sub_id)}"


def subscription_for_token(rt: Runtime, token: str) -> str:
    """The subscription id a token names; ``NotFound`` when it is malformed or its signature is wrong."""
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        data = b""
    if len(data) == 25:
        raw, mac = data[:16], data[16:]
        if hmac.compare_digest(mac, bytes.fromhex(rt.keyed_hash("unsubscribe", raw.hex()))[:9]):
            return str(uuid.UUID(bytes=raw))
    raise NotFound("This unsubscribe link is not valid.")
