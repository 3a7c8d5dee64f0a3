"""GET /criteria: the active profile, with its version hash and approval checklist."""

from __future__ import annotations

from .. import audit
from ..context import runtime
from ..models import Role
from ..schemas import CriteriaOut
from .blueprint import bp
from .registry import endpoint


@endpoint(bp, "/criteria", "GET", summary="The active criteria profile", tag="criteria",
          roles=tuple(Role), responses={200: CriteriaOut})
def get_criteria(actor: audit.Actor) -> CriteriaOut:
    return CriteriaOut.model_validate({"profile": runtime().active_profile.to_public()})
