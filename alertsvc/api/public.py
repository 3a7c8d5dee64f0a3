"""GET /public/alerts: active alerts, public fields only (no authentication)."""

from __future__ import annotations

from sqlmodel import Session

from ..schemas import PublicAlert
from ..services import public
from . import bp
from .registry import endpoint, runtime


@endpoint(bp, "/public/alerts", "GET", summary="Active alerts, public fields only", tag="public",
          responses={200: list[PublicAlert]})
def public_alerts() -> list[PublicAlert]:
    rt = runtime()
    with Session(rt.engine) as s:
        return [PublicAlert.model_validate(v) for v in public.active_alerts(rt, s)]
