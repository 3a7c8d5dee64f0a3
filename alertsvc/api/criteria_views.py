"""GET /criteria: the active profile, with its version hash and approval checklist; POST /criteria/evaluate: its
verdicts on facts that are not a case yet."""

from __future__ import annotations

from .. import audit
from ..context import runtime
from ..models import Role
from ..schemas import CaseFactsIn, CriteriaCheckOut, CriteriaOut, ResultOut
from ..services import criteria_check
from .blueprint import bp
from .registry import endpoint


@endpoint(bp, "/criteria", "GET", summary="The active criteria profile", tag="criteria",
          roles=tuple(Role), responses={200: CriteriaOut})
def get_criteria(actor: audit.Actor) -> CriteriaOut:
    return CriteriaOut.model_validate({"profile": runtime().active_profile.to_public()})


@endpoint(bp, "/criteria/evaluate", "POST",
          summary="The active profile's verdicts on case facts, every field optional (nothing is stored)",
          tag="criteria", roles=tuple(Role), body=CaseFactsIn, responses={200: CriteriaCheckOut})
def evaluate_criteria(actor: audit.Actor, body: CaseFactsIn) -> CriteriaCheckOut:
    """For the intake form while it is filled in: the body has the sections of ``POST /cases`` with every field
    optional; a missing fact gives an ``unknown`` verdict. No case, evaluation or audit event is written."""
    got = criteria_check.evaluate_facts(runtime(), body)
    return CriteriaCheckOut(profile=got.profile, title=got.title, version=got.version, met=got.met,
                            results=[ResultOut.model_validate(r.to_dict()) for r in got.results],
                            evaluated_at=got.evaluated_at)
