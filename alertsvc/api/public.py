"""GET /public/alerts: active alerts, public fields only (no authentication)."""

from __future__ import annotations

from flask import Response

from ..context import runtime
from ..http_cache import cacheable
from ..schemas import PublicAlert
from ..services import public
from .blueprint import bp
from .registry import endpoint, json_response


@endpoint(bp, "/public/alerts", "GET", summary="Active alerts, public fields only", tag="public",
          responses={200: list[PublicAlert], 304: None},
          description="Cacheable: `Cache-Control: public, max-age=60` and an `ETag`; a conditional GET "
                      "(`If-None-Match`) whose tag still matches is answered 304 without a body.")
def public_alerts() -> Response:
    return cacheable(json_response([PublicAlert.model_validate(v) for v in public.active_alerts(runtime())]))
