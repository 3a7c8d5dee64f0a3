"""Citizens' subscriptions: double opt-in with a short code, unsubscribe by signed token or SMS STOP.

Addresses are normalised (E.164 for SMS, validated email) and looked up by an HMAC (``address_key``) so
that STOP can find a number's subscriptions. On unsubscribe the address, its key and the area are deleted;
the row stays only to be counted. The API never reveals whether an address is already subscribed.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType
from sqlmodel import Session, select

import geo

from .. import audit
from ..db import next_subscription_numbers, transaction
from ..errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from ..log import get_logger
from ..models import Subscription, SubscriptionStatus
from ..runtime import Runtime
from .common import parse_area

log = get_logger("alertsvc.subscriptions")
SMS_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
CITIZEN = audit.Actor(None, "citizen", "public")


@dataclass(frozen=True)
class NewSubscription:
    channel: str
    address: str
    address_key: str
    language: str
    area: geo.Area


def _country_list(codes: tuple[str, ...]) -> str:
    """``RS (+381)`` / ``RS (+381), ME (+382)``: what a citizen can check against their number."""
    return ", ".join(f"{c} (+{phonenumbers.country_code_for_region(c)})" for c in codes)


def normalise_address(rt: Runtime, channel: str, raw: str) -> str:
    """E.164 for SMS (mobile numbers only), a normalised address for email; ValidationFailed otherwise."""
    if channel == "sms":
        try:
            number = phonenumbers.parse(raw, rt.settings.subscriptions.default_region)
        except phonenumbers.NumberParseException:
            raise ValidationFailed([{"field": "address", "message": "is not a phone number"}]) from None
        allowed = rt.settings.subscriptions.sms_allowed_countries
        # "001" for non-geographic numbers (satellite +881, +882...): never in the list. No SMS pumping.
        region = (phonenumbers.region_code_for_number(number)
                  or phonenumbers.region_code_for_country_code(number.country_code or 0))
        if region not in allowed:
            raise ValidationFailed([{"field": "address", "message": "SMS goes only to mobile numbers of "
                                     f"{_country_list(allowed)}"}])
        kind = phonenumbers.number_type(number)  # UNKNOWN for an invalid number
        if kind == PhoneNumberType.UNKNOWN:
            raise ValidationFailed([{"field": "address", "message": "is not a valid phone number"}])
        if kind not in SMS_TYPES:
            raise ValidationFailed([{"field": "address",
                                     "message": "must be a mobile number (no premium, shared-cost or short numbers)"}])
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationFailed([{"field": "address", "message": str(exc)}]) from None


def parse_subscription_area(rt: Runtime, data: dict[str, Any]) -> geo.Area:
    if "polygon" in data:
        raise ValidationFailed([{"field": "area.polygon",
                                 "message": "subscriptions take a circle or regions, not a polygon"}])
    return parse_area(rt.regions, data)


def area_columns(area: geo.Area) -> dict[str, Any]:
    if area.kind == "circle":
        assert area.circle is not None
        return {"lat": area.circle.lat, "lon": area.circle.lon, "radius_km": area.circle.radius_km, "regions": None}
    return {"lat": None, "lon": None, "radius_km": None, "regions": list(area.regions)}


def dedupe_key(rt: Runtime, channel: str, address: str, area: geo.Area) -> str:
    return rt.keyed_hash("dedupe", f"{channel}|{address}|{json.dumps(area.to_json(), sort_keys=True)}")


def _code_hash(rt: Runtime, sub_id: str, code: str) -> str:
    return rt.keyed_hash("code", f"{sub_id}|{code}")


def unsubscribe_token(rt: Runtime, sub_id: str) -> str:
    """Compact signed token (34 characters): the subscription's 16 uuid bytes and 9 bytes of an HMAC.
    Short on purpose: it goes into every SMS, where each character counts against the segment budget."""
    raw = uuid.UUID(sub_id).bytes
    mac = bytes.fromhex(rt.keyed_hash("unsubscribe", raw.hex()))[:9]
    return base64.urlsafe_b64encode(raw + mac).decode().rstrip("=")


def unsubscribe_url(rt: Runtime, sub_id: str) -> str:
    return f"{rt.settings.server.base_url}/unsubscribe/{unsubscribe_token(rt, sub_id)}"


def subscription_for_token(rt: Runtime, token: str) -> str:
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        data = b""
    if len(data) == 25:
        raw, mac = data[:16], data[16:]
        if hmac.compare_digest(mac, bytes.fromhex(rt.keyed_hash("unsubscribe", raw.hex()))[:9]):
            return str(uuid.UUID(bytes=raw))
    raise NotFound("This unsubscribe link is not valid.")


def prepare(rt: Runtime, channel: str, raw_address: str, language: str, area: dict[str, Any]) -> NewSubscription:
    """Validate everything first, collecting all field problems."""
    problems: list[dict[str, str]] = []
    address = parsed_area = None
    try:
        address = normalise_address(rt, channel, raw_address)
    except ValidationFailed as exc:
        problems += exc.errors
    try:
        parsed_area = parse_subscription_area(rt, area)
    except ValidationFailed as exc:
        problems += exc.errors
    if problems:
        raise ValidationFailed(problems)
    assert address is not None and parsed_area is not None
    return NewSubscription(channel, address, rt.keyed_hash("address", address), language, parsed_area)


LIVE_STATUSES = (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE)


ADDRESS_LOCK = 7261536  # PostgreSQL advisory lock: shared by each new subscription, exclusive for an import


def address_numbers(conn: sa.Connection, keys: list[tuple[str, str]], *,
                    bulk: bool = False) -> dict[tuple[str, str], int]:
    """The ``address_no`` already used by live subscriptions of these (channel, address_key) pairs.

    On PostgreSQL, locks held to the end of the transaction make sure that two subscriptions of one address
    created at the same moment still share a number (one message per address and alert): a single subscription
    locks its address (and the import lock, shared); an import batch takes the import lock exclusively."""
    if not keys:
        return {}
    if conn.dialect.name == "postgresql":
        if bulk:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADDRESS_LOCK})
        else:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": ADDRESS_LOCK})
            for channel, key in sorted(set(keys)):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"),
                             {"k": f"{channel}|{key}"})
    t = Subscription.__table__
    found: dict[tuple[str, str], int] = {}
    wanted = {k for _, k in keys}
    for channel, key, number in conn.execute(
            sa.select(t.c.channel, t.c.address_key, sa.func.min(t.c.address_no))
            .where(t.c.address_key.in_(wanted), t.c.status.in_([str(x) for x in LIVE_STATUSES]),
                   t.c.address_no.is_not(None))
            .group_by(t.c.channel, t.c.address_key)):
        found[(channel, key)] = number
    return found


def subscribe(rt: Runtime, new: NewSubscription) -> tuple[str, str]:
    """Store a pending subscription; return its id and the 6-digit code to send (never stored in clear)."""
    now = rt.clock.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction(rt.engine) as s:
        conn = s.connection()
        [seq] = next_subscription_numbers(conn, 1)
        address_no = address_numbers(conn, [(new.channel, new.address_key)]).get((new.channel, new.address_key), seq)
        sub = Subscription(seq=seq, address_no=address_no, channel=new.channel, address=new.address,
                           address_key=new.address_key,
                           dedupe_key=dedupe_key(rt, new.channel, new.address, new.area), language=new.language,
                           area=new.area.to_json(), status=SubscriptionStatus.PENDING, created_at=now,
                           code_expires_at=now + timedelta(minutes=rt.settings.subscriptions.code_ttl_minutes),
                           **area_columns(new.area))
        sub.code_hash = _code_hash(rt, sub.id, code)
        s.add(sub)
        s.flush()
        audit.record(s, CITIZEN, "subscription.requested", object_type="subscription", object_id=sub.id, now=now,
                     details={"channel": new.channel, "language": new.language, "area_kind": new.area.kind})
        return sub.id, code


def confirm(rt: Runtime, sub_id: str, code: str) -> Subscription:
    result = _confirm(rt, sub_id, code)
    if isinstance(result, int):  # the wrong attempt is committed before the error is raised
        raise _WrongCode(result)
    return result


def _confirm(rt: Runtime, sub_id: str, code: str) -> Subscription | int:
    now = rt.clock.now()
    max_attempts = rt.settings.subscriptions.code_max_attempts
    with transaction(rt.engine) as s:
        sub = s.exec(select(Subscription).where(Subscription.id == sub_id).with_for_update()).first()
        if sub is None:
            raise NotFound(f"no subscription with id {sub_id}")
        if sub.status == SubscriptionStatus.ACTIVE:
            return sub
        if sub.status != SubscriptionStatus.PENDING or sub.code_hash is None:
            raise Conflict("This subscription is no longer waiting for confirmation; subscribe again.")
        if sub.code_attempts >= max_attempts:
            raise TooManyRequests("Too many wrong codes; subscribe again to get a new one.")
        if sub.code_expires_at is not None and sub.code_expires_at <= now:
            raise Conflict("The confirmation code has expired; subscribe again to get a new one.")
        if not hmac.compare_digest(sub.code_hash, _code_hash(rt, sub.id, code)):
            sub.code_attempts += 1
            s.add(sub)
            left = max_attempts - sub.code_attempts
            audit.record(s, CITIZEN, "subscription.code_rejected", object_type="subscription", object_id=sub.id,
                         now=now, details={"attempts": sub.code_attempts})
            return left
        existing = s.exec(select(Subscription.id).where(Subscription.dedupe_key == sub.dedupe_key,
                                                          Subscription.status == SubscriptionStatus.ACTIVE)).first()
        if existing is not None:  # the same address and area already active: keep one, silently
            sub.dedupe_key = None
        sub.status = SubscriptionStatus.ACTIVE
        sub.confirmed_at = now
        sub.code_hash = None
        sub.code_expires_at = None
        s.add(sub)
        audit.record(s, CITIZEN, "subscription.confirmed", object_type="subscription", object_id=sub.id, now=now,
                     details={"channel": sub.channel})
        return sub


class _WrongCode(ValidationFailed):
    """A wrong code; the attempt was counted."""

    def __init__(self, left: int) -> None:
        super().__init__([{"field": "code", "message": f"is not the code we sent ({left} attempts left)"}])


def _forget(sub: Subscription, now: Any) -> None:
    sub.status = SubscriptionStatus.UNSUBSCRIBED
    sub.unsubscribed_at = now
    sub.address = sub.address_key = sub.dedupe_key = None
    sub.address_no = None
    sub.area = None
    sub.lat = sub.lon = sub.radius_km = None
    sub.regions = None
    sub.code_hash = None


def unsubscribe(rt: Runtime, sub_id: str, how: str) -> None:
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        sub = s.exec(select(Subscription).where(Subscription.id == sub_id).with_for_update()).first()
        if sub is None:
            raise NotFound("This unsubscribe link is not valid.")
        if sub.status == SubscriptionStatus.UNSUBSCRIBED:
            return
        _forget(sub, now)
        s.add(sub)
        audit.record(s, CITIZEN, "subscription.unsubscribed", object_type="subscription", object_id=sub.id,
                     now=now, details={"how": how})


def unsubscribe_number(rt: Runtime, e164: str, how: str) -> int:
    """SMS STOP: every subscription of that number is ended. Returns how many."""
    now = rt.clock.now()
    key = rt.keyed_hash("address", e164)
    with transaction(rt.engine) as s:
        subs = s.exec(select(Subscription).where(Subscription.address_key == key,
                                                 Subscription.channel == "sms").with_for_update()).all()
        for sub in subs:
            _forget(sub, now)
            s.add(sub)
            audit.record(s, CITIZEN, "subscription.unsubscribed", object_type="subscription", object_id=sub.id,
                         now=now, details={"how": how})
        return len(subs)


def get(s: Session, sub_id: str) -> Subscription:
    sub = s.get(Subscription, sub_id)
    if sub is None:
        raise NotFound(f"no subscription with id {sub_id}")
    return sub
