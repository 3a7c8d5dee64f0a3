"""The staff console: the queue (home page of a signed-in user), cases and alerts."""

from __future__ import annotations

from flask import Blueprint, Response

from .. import audit
from . import ui

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("")
@ui.staff_required()
def queue(actor: audit.Actor) -> Response:
    return ui.page("web/console/queue.html")


@bp.get("/cases/new")
@ui.staff_required("operator", "supervisor")
def new_case(actor: audit.Actor) -> Response:
    return ui.page("web/console/queue.html")
