"""CAP 1.2 for each alert (Alert, then Update / Cancel with references) and an Atom index of current alerts."""

from __future__ import annotations

from flask import Blueprint, Response

from ..context import runtime
from ..http_cache import cacheable
from ..services import cap_feed

bp = Blueprint("cap", __name__)
CAP_TYPE = "application/cap+xml"


@bp.get("/cap/<alert_id>.xml")
def cap_alert(alert_id: str) -> Response:
    return cacheable(Response(cap_feed.cap_document(runtime(), alert_id), mimetype=CAP_TYPE))


@bp.get("/cap/index.atom")
def cap_index() -> Response:
    return cacheable(Response(cap_feed.atom_index(runtime()), mimetype="application/atom+xml"))
