"""The Evaluation API the service stores and shows: shape, unmet(), decide()."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from criteria_testkit import NOW

from criteria import Evaluation, Result, Verdict, decide, evaluate, load_builtin_profile

FULL = {
    "child.age": 9,
    "child.description": "red coat",
    "last_seen.at": NOW - timedelta(hours=2),
    "circumstances.abduction_suspected": True,
    "circumstances.imminent_danger": True,
    "police.confirmed": True,
}


def test_to_dict_has_the_documented_shape() -> None:
    profile = load_builtin_profile("abduction")
    stored = evaluate(profile, FULL, now=NOW).to_dict()
    assert json.loads(json.dumps(stored)) == stored
    assert set(stored) == {"profile", "version", "met", "results"}
    assert (stored["profile"], stored["version"], stored["met"]) == ("abduction", profile.version, True)
    assert stored["results"][0] == {"criterion": "child_age", "verdict": "met", "reason": "Child's age is 9, within the limit of 17 or under."}
    assert all(set(item) == {"criterion", "verdict", "reason"} for item in stored["results"])


def test_unmet_lists_only_blocking_criteria() -> None:
    evaluation = evaluate(load_builtin_profile("abduction"), FULL | {"police.confirmed": False}, now=NOW)
    assert [result.criterion for result in evaluation.unmet()] == ["police_confirmed"]
    advisory = {result.criterion for result in evaluation.results if not result.required}
    assert advisory == {"police_reference", "last_seen_location"}
    assert all(result.verdict is Verdict.UNKNOWN for result in evaluation.results if result.criterion in advisory)


def test_decide_counts_unknown_and_missing_results_as_not_met() -> None:
    profile = load_builtin_profile("abduction")
    all_met = [Result(criterion.id, Verdict.MET, "ok.") for criterion in profile.criteria]
    assert decide(profile, all_met)
    assert not decide(profile, [Result("child_age", Verdict.UNKNOWN, "?"), *all_met[1:]])
    assert not decide(profile, all_met[1:])
    advisory_unknown = [Result(r.criterion, Verdict.UNKNOWN if r.criterion == "police_reference" else r.verdict, r.reason)
                        for r in all_met]
    assert decide(profile, advisory_unknown)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(load_builtin_profile("abduction"), FULL, now=datetime(2024, 5, 1, 12))


def test_evaluation_is_immutable_data() -> None:
    evaluation = evaluate(load_builtin_profile("expanded"), FULL, now=NOW)
    assert isinstance(evaluation, Evaluation) and isinstance(evaluation.results, tuple)
    with pytest.raises(AttributeError):
        evaluation.met = False  # type: ignore[misc]
