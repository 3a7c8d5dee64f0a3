"""Citizens' pages: the public home page, subscribing, and the public page of each alert."""

from __future__ import annotations

from flask import Blueprint, Response

from . import ui

bp = Blueprint("citizen", __name__)


@bp.get("/")
def home() -> Response:
    return ui.page("web/citizen/home.html")
