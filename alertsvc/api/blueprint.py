"""The v1 JSON API's one blueprint; every endpoint module declares its routes on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
