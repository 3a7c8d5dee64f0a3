"""Public subscription endpoints: subscribe (rate limited), confirm, unsubscribe."""

from __future__ import annotations

from flask import request

from ..context import RateLimit, runtime
from ..errors import DomainError
from ..inputs import load_json
from ..log import get_logger
from ..messages import CHANNELS
from ..schemas import ConfirmIn, SubscriptionCreated, SubscriptionIn, SubscriptionStatusOut, UnsubscribeIn
from ..services import subscriptions
from ..unsubscribe import subscription_for_token
from .blueprint import bp
from .registry import endpoint

log = get_logger("alertsvc.api.subscriptions")


def address_limit_key() -> str:
    """Rate-limit key for the per-address limit: an HMAC of the normalised address (never the address)."""
    try:
        data = load_json(request.get_data(cache=True) or b"{}")  # never deeper than the body parser allows
        channel, raw = data.get("channel"), data.get("address")
        if channel in CHANNELS and isinstance(raw, str):
            rt = runtime()
            try:
                raw = subscriptions.normalise_address(rt, channel, raw)
            except DomainError:
                pass
            return "addr:" + rt.keyed_hash("ratelimit", f"{channel}|{raw.strip().lower()}")
    except (ValueError, AttributeError):
        pass
    return "addr:unparsed"


@endpoint(bp, "/subscriptions", "POST", summary="Subscribe to alerts for an area (double opt-in)",
          tag="subscriptions", body=SubscriptionIn, responses={202: SubscriptionCreated}, errors=(429,),
          limits=(RateLimit(lambda s: s.ratelimit.subscribe_per_address, key=address_limit_key),
                  RateLimit(lambda s: s.ratelimit.subscribe_per_ip)))
def subscribe(body: SubscriptionIn) -> tuple[SubscriptionCreated, int]:
    """A confirmation code goes out over the channel. The answer is the same whether or not the address
    was already subscribed."""
    sub_id = subscriptions.request_subscription(runtime(), body.channel, body.address, body.language,
                                                body.area.model_dump(exclude_none=True))
    return SubscriptionCreated(id=sub_id, status="pending"), 202


@endpoint(bp, "/subscriptions/<sub_id>/confirm", "POST", summary="Confirm a subscription with its 6-digit code",
          tag="subscriptions", body=ConfirmIn, responses={200: SubscriptionStatusOut}, errors=(409, 429))
def confirm(sub_id: str, body: ConfirmIn) -> SubscriptionStatusOut:
    sub = subscriptions.confirm(runtime(), sub_id, body.code)
    return SubscriptionStatusOut(status=sub.status)


@endpoint(bp, "/subscriptions/unsubscribe", "POST", summary="Unsubscribe with the token from any message",
          tag="subscriptions", body=UnsubscribeIn, responses={200: SubscriptionStatusOut}, errors=(404,))
def unsubscribe(body: UnsubscribeIn) -> SubscriptionStatusOut:
    rt = runtime()
    subscriptions.unsubscribe(rt, subscription_for_token(rt, body.token), "api")
    return SubscriptionStatusOut(status="unsubscribed")
