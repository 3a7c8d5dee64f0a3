"""Evaluate the active profile on facts that are not a case yet (the intake form while it is filled in): every
verdict with its reason, nothing stored, nothing audited (no decision is taken on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import criteria

from ..runtime import Runtime
from ..schemas import CaseFactsIn
from .cases import SECTIONS, check_not_future, facts_from_sections


@dataclass(frozen=True)
class FactsEvaluation:
    """The active profile's verdicts: ``results`` are ``criteria.Result`` (criterion, verdict, reason)."""
    profile: str
    title: str
    version: str
    met: bool
    results: tuple[criteria.Result, ...]
    evaluated_at: datetime


def evaluate_facts(rt: Runtime, facts: CaseFactsIn) -> FactsEvaluation:
    """The active profile on ``facts`` (any field may be missing: an ``unknown`` verdict), as ``open_case``
    would evaluate them now; a last sighting in the future is a 422 on ``last_seen.at``, as there."""
    now = rt.clock.now()
    if facts.last_seen is not None:
        check_not_future(facts.last_seen.model_dump(), now)
    sections = {section: (part.model_dump(mode="json", exclude_none=True)
                          if (part := getattr(facts, section)) is not None else None) for section in SECTIONS}
    profile = rt.active_profile
    result = criteria.evaluate(profile, facts_from_sections(sections), now=now)
    return FactsEvaluation(result.profile, profile.title, result.version, result.met, result.results, now)
