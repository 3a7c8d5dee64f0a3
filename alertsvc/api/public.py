"""GET /public/alerts: active alerts, public fields only (no authentication)."""

from __future__ import annotations

from ..context import runtime
from ..schemas import PublicAlert
from ..services import public
from .blueprint import bp
from .registry import endpoint


@endpoint(bp, "/public/alerts", "GET", summary="Active alerts, public fields only", tag="public",
          responses={200: list[PublicAlert]})
def public_alerts() -> list[PublicAlert]:
    return [PublicAlert.model_validate(v) for v in public.active_alerts(runtime())]
