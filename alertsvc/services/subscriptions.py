"""Citizens' subscriptions: double opt-in with a short code, unsubscribe by signed token or SMS STOP.

Addresses are normalised (E.164 for SMS, validated email) and looked up by an HMAC (``address_key``) so
that STOP can find a number's subscriptions. On unsubscribe the address, its key and the area are deleted;
the row stays only to be counted. The API never reveals whether an address is already subscribed.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType
from sqlmodel import Session

import geo
from channels import ChannelName

from .. import audit, store
from ..dispatch.immediate import send_confirmation
from ..errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from ..log import get_logger
from ..models import Subscription, SubscriptionStatus
from ..runtime import Runtime
from ..store import subscriptions as subscription_rows
from ..unsubscribe import subscription_for_token
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


def subscribe(rt: Runtime, new: NewSubscription) -> tuple[str, str]:
    """Store a pending subscription; return its id and the 6-digit code to send (never stored in clear)."""
    now = rt.clock.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with store.write(rt) as s:
        [seq] = subscription_rows.next_numbers(s, 1)
        address_no = subscription_rows.address_numbers(
            s, [(new.channel, new.address_key)]).get((new.channel, new.address_key), seq)
        sub = Subscription(seq=seq, address_no=address_no, channel=ChannelName(new.channel), address=new.address,
                           address_key=new.address_key,
                           dedupe_key=dedupe_key(rt, new.channel, new.address, new.area), language=new.language,
                           area=new.area.to_json(), status=SubscriptionStatus.PENDING, created_at=now,
                           code_expires_at=now + timedelta(minutes=rt.settings.subscriptions.code_ttl_minutes),
                           **area_columns(new.area))
        sub.code_hash = _code_hash(rt, sub.id, code)
        subscription_rows.add(s, sub)
        audit.record(s, CITIZEN, "subscription.requested", object_type="subscription", object_id=sub.id, now=now,
                     details={"channel": new.channel, "language": new.language, "area_kind": new.area.kind})
        return sub.id, code


def request_subscription(rt: Runtime, channel: str, raw_address: str, language: str, area: dict[str, Any]) -> str:
    """A subscription asked for (``POST /api/v1/subscriptions`` and the subscribe page alike): validate
    (``ValidationFailed`` with every field problem), store the pending subscription, send its code. The new
    subscription's id."""
    new = prepare(rt, channel, raw_address, language, area)
    sub_id, code = subscribe(rt, new)
    send_confirmation(rt, sub_id, code)
    return sub_id


def confirm(rt: Runtime, sub_id: str, code: str) -> Subscription:
    result = _confirm(rt, sub_id, code)
    if isinstance(result, int):  # the wrong attempt is committed before the error is raised
        raise _WrongCode(result)
    return result


def _confirm(rt: Runtime, sub_id: str, code: str) -> Subscription | int:
    now = rt.clock.now()
    max_attempts = rt.settings.subscriptions.code_max_attempts
    with store.write(rt) as s:
        sub = subscription_rows.get_subscription(s, sub_id, lock=True)
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
        existing = subscription_rows.active_with_dedupe_key(s, sub.dedupe_key)
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


def confirm_or_attempts_left(rt: Runtime, sub_id: str, code: str) -> Subscription | int:
    """``confirm`` for the confirmation page: the subscription, or after a wrong code (counted) how many attempts
    are left. ``NotFound``, ``Conflict`` (expired, no longer pending) and ``TooManyRequests`` (locked) as
    ``confirm``."""
    return _confirm(rt, sub_id, code)


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page shows before a code is typed: ``state`` is ``waiting`` (a code may be entered),
    ``active`` (already confirmed), ``locked`` (too many wrong codes), ``expired`` or ``ended`` (unsubscribed)."""
    state: str
    channel: str
    attempts_left: int


def confirmation(rt: Runtime, sub_id: str) -> Confirmation:
    """The confirmation state of a subscription, for the confirmation page; ``NotFound`` for an unknown id."""
    with store.read(rt) as s:
        sub = get(s, sub_id)
        left = max(0, rt.settings.subscriptions.code_max_attempts - sub.code_attempts)
        if sub.status == SubscriptionStatus.ACTIVE:
            state = "active"
        elif sub.status != SubscriptionStatus.PENDING or sub.code_hash is None:
            state = "ended"
        elif left == 0:
            state = "locked"
        elif sub.code_expires_at is not None and sub.code_expires_at <= rt.clock.now():
            state = "expired"
        else:
            state = "waiting"
        return Confirmation(state, str(sub.channel), left)


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
    with store.write(rt) as s:
        sub = subscription_rows.get_subscription(s, sub_id, lock=True)
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
    with store.write(rt) as s:
        subs = subscription_rows.lock_sms_of_address(s, key)
        for sub in subs:
            _forget(sub, now)
            s.add(sub)
            audit.record(s, CITIZEN, "subscription.unsubscribed", object_type="subscription", object_id=sub.id,
                         now=now, details={"how": how})
        return len(subs)


def get(s: Session, sub_id: str) -> Subscription:
    sub = subscription_rows.get_subscription(s, sub_id)
    if sub is None:
        raise NotFound(f"no subscription with id {sub_id}")
    return sub


@dataclass(frozen=True)
class UnsubscribePage:
    """What the unsubscribe page shows: the subscriber's language (None: ask the browser) and whether the
    subscription has already ended (or never existed)."""
    language: str | None
    already: bool


def unsubscribe_page(rt: Runtime, token: str) -> tuple[str, UnsubscribePage]:
    """The subscription id of a signed token (``NotFound`` for a forged one) and what its page shows."""
    sub_id = subscription_for_token(rt, token)
    with store.read(rt) as s:
        sub = subscription_rows.get_subscription(s, sub_id)
        return sub_id, UnsubscribePage(sub.language if sub is not None else None,
                                       sub is None or sub.status == SubscriptionStatus.UNSUBSCRIBED)
