"""Evaluate a profile against the facts of a case.

Every criterion is evaluated and reported, in profile order, never stopping
at the first failure: a supervisor needs the whole picture (what is met,
what fails, what is still unknown) to decide and to know what to find out
next. The result is plain data meant to be stored with the case for audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .profile import Profile
from .rules import Outcome, Verdict


@dataclass(frozen=True)
class Result:
    """The verdict on one criterion and the supervisor-facing reason for it.

    ``required`` mirrors the criterion's flag so :meth:`Evaluation.unmet` can
    tell blocking results from advisory ones; it is not part of ``to_dict``.
    """

    criterion: str
    verdict: Verdict
    reason: str
    required: bool = field(default=True, kw_only=True)

    def to_dict(self) -> dict[str, str]:
        """JSON-able form (``{"criterion", "verdict", "reason"}``)."""
        return {"criterion": self.criterion, "verdict": self.verdict.value, "reason": self.reason}


@dataclass(frozen=True)
class Evaluation:
    """All verdicts of one profile on one case; ``met`` is the profile's decision."""

    profile: str
    version: str
    met: bool
    results: tuple[Result, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-able form, suitable for storing with the case."""
        return {
            "profile": self.profile,
            "version": self.version,
            "met": self.met,
            "results": [result.to_dict() for result in self.results],
        }

    def unmet(self) -> tuple[Result, ...]:
        """Required criteria whose verdict is not MET: what blocks the alert."""
        return tuple(result for result in self.results if result.required and result.verdict is not Verdict.MET)


def evaluate(profile: Profile, facts: Mapping[str, object], *, now: datetime) -> Evaluation:
    """Evaluate every criterion of ``profile`` on ``facts`` at time ``now``.

    ``facts`` is a flat mapping with dotted keys; a missing key or ``None``
    means "not known" and yields UNKNOWN verdicts, never an exception. Keys
    the profile does not mention are ignored. ``now`` must be timezone-aware
    so that "hours since last seen" is unambiguous.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    results = tuple(
        _result(criterion.id, criterion.required, criterion.apply(facts, now)) for criterion in profile.criteria
    )
    return Evaluation(profile=profile.id, version=profile.version, met=decide(profile, results), results=results)


def decide(profile: Profile, results: Iterable[Result]) -> bool:
    """The profile's overall decision: every required criterion is MET (UNKNOWN counts as not met)."""
    verdicts = {result.criterion: result.verdict for result in results}
    return all(verdicts.get(criterion.id) is Verdict.MET for criterion in profile.criteria if criterion.required)


def _result(criterion_id: str, required: bool, outcome: Outcome) -> Result:
    return Result(criterion_id, outcome.verdict, outcome.reason, required=required)
