"""The v1 JSON API: one blueprint; endpoint modules register on it when ``register`` is called."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    from . import alerts, audit_views, auth_views, cases, criteria_views, public, spec, subscriptions  # noqa: F401
    from ..web import cap_docs  # noqa: F401  (the CAP routes, described in the same document)
    if "api" not in app.blueprints:
        app.register_blueprint(bp)
