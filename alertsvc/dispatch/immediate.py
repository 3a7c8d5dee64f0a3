"""Messages sent at once, outside any transaction: the subscription confirmation code."""

from __future__ import annotations

from channels import ChannelError, Message

from .. import store
from ..log import get_logger
from ..models import DeliveryKind, Subscription
from ..runtime import Runtime

log = get_logger("alertsvc.dispatch")


def send_confirmation(rt: Runtime, sub_id: str, code: str) -> bool:
    """Send the 6-digit code. A failure is logged (ids only); the citizen can ask again."""
    with store.read(rt) as s:
        sub = store.get(s, Subscription, sub_id)
        if sub is None or sub.address is None:
            return False
        channel, address, language = sub.channel, sub.address, sub.language
    rendered = rt.renderer.confirmation(channel, language, code=code)
    message = Message(channel=channel, address=address, kind=DeliveryKind.CONFIRMATION, text=rendered.text,
                      subject=rendered.subject, html=rendered.html, reference=f"confirm-{sub_id}")
    try:
        rt.channel(channel).send(message)
    except ChannelError as exc:
        log.warning("confirmation.failed", extra={"subscription_id": sub_id, "channel": channel,
                                                  "error_type": type(exc).__name__})
        return False
    log.info("confirmation.sent", extra={"subscription_id": sub_id, "channel": channel})
    return True
