"""The v1 JSON API: one blueprint (``blueprint.bp``); importing the package declares every endpoint on it."""

from __future__ import annotations

from flask import Flask

from . import alerts, audit_views, auth_views, cases, criteria_views, public, spec, subscriptions  # noqa: F401
from .blueprint import bp


def register(app: Flask) -> None:
    if "api" not in app.blueprints:
        app.register_blueprint(bp)
