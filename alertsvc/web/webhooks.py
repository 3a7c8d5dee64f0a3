"""Twilio webhooks: inbound SMS (STOP / ODJAVA / START) and message status callbacks. Signatures checked."""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Response, request

from channels.twilio_sms import status_from_callback, valid_signature

from ..context import runtime
from ..errors import Forbidden
from ..log import get_logger
from ..services import subscriptions
from ..store import deliveries

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")
log = get_logger("alertsvc.webhooks")

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ODJAVA", "ОДЈАВА", "ODJAVI", "ОДЈАВИ"}
START_WORDS = {"START", "UNSTOP", "YES", "PRIJAVA", "ПРИЈАВА"}


def _check_signature() -> None:
    rt = runtime()
    token = rt.settings.channels.sms.auth_token.get_secret_value()
    url = rt.settings.server.base_url + request.full_path.rstrip("?")
    if not token or not valid_signature(token, url, request.form.to_dict(flat=True),
                                        request.headers.get("X-Twilio-Signature")):
        raise Forbidden("The Twilio signature is missing or wrong.")


def _twiml(text: str | None) -> Response:
    body = "<Response/>" if text is None else f"<Response><Message>{escape(text)}</Message></Response>"
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + body, mimetype="text/xml")


@bp.post("/sms")
def inbound_sms() -> Response:
    _check_signature()
    rt = runtime()
    word = (request.form.get("Body") or "").strip().split(maxsplit=1)
    keyword = word[0].upper().strip(".!") if word else ""
    sender = request.form.get("From") or ""
    if keyword in STOP_WORDS:
        try:
            e164 = subscriptions.normalise_address(rt, "sms", sender)
        except Exception:  # a malformed From: nothing to unsubscribe
            return _twiml(None)
        n = subscriptions.unsubscribe_number(rt, e164, "sms-stop")
        log.info("sms.stop", extra={"count": n})
        # Twilio itself answers STOP on long codes; we stay silent to avoid a second reply.
        return _twiml(None)
    if keyword in START_WORDS:
        # Unsubscribing deleted the number and its area, so there is nothing to restore: point to the form.
        return _twiml(f"Prijavite se ponovo / Subscribe again: {rt.settings.server.base_url}/")
    return _twiml(None)


@bp.post("/status")
def status_callback() -> Response:
    """Twilio message status: ``sent -> delivered | failed``, under the row's own state check, never out of
    a final state. Found by provider id, or by our reference when the worker died before saving the id."""
    _check_signature()
    rt = runtime()
    sid, status = status_from_callback(request.form.to_dict(flat=True))
    if status not in ("delivered", "failed") or not sid or len(sid) > 128:  # provider ids are 34 characters
        return Response(status=204)
    ref = request.args.get("reference", "")
    delivery_id = None
    if ref.startswith("d") and ref[1:].isascii() and ref[1:].isdigit() and len(ref) <= 19:  # a bigint id
        delivery_id = int(ref[1:])
    n = deliveries.record_callback(rt.engine, sid, status, rt.clock.now(), delivery_id=delivery_id)
    log.info("delivery.callback", extra={"status": status, "count": n})
    return Response(status=204)
