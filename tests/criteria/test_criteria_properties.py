"""Property-based tests: invariants of evaluation that must hold for any facts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from criteria_testkit import NOW, PII_MARKER, TEXT_FACTS, fact_value, facts_mappings, pii_text
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from criteria import FACTS, ChecklistItem, Criterion, Profile, Verdict, evaluate, load_builtin_profile

PROFILES = {profile_id: load_builtin_profile(profile_id) for profile_id in ("abduction", "expanded")}
profiles = st.sampled_from(sorted(PROFILES.values(), key=lambda profile: profile.id))

settings.register_profile("criteria", deadline=None)
settings.load_profile("criteria")


@given(profiles, facts_mappings())
def test_every_criterion_gets_exactly_one_result_in_profile_order(profile: Profile, facts: dict[str, object]) -> None:
    evaluation = evaluate(profile, facts, now=NOW)
    assert [result.criterion for result in evaluation.results] == [criterion.id for criterion in profile.criteria]
    assert all(isinstance(result.verdict, Verdict) for result in evaluation.results)


@given(profiles, facts_mappings())
def test_overall_met_is_all_required_met(profile: Profile, facts: dict[str, object]) -> None:
    evaluation = evaluate(profile, facts, now=NOW)
    required = {criterion.id for criterion in profile.criteria if criterion.required}
    expected = all(result.verdict is Verdict.MET for result in evaluation.results if result.criterion in required)
    assert evaluation.met is expected
    assert {result.criterion for result in evaluation.unmet()} == {
        result.criterion for result in evaluation.results if result.criterion in required and result.verdict is not Verdict.MET
    }
    assert evaluation.met is (not evaluation.unmet())


@given(profiles, facts_mappings())
def test_evaluation_is_deterministic_and_order_independent(profile: Profile, facts: dict[str, object]) -> None:
    first = evaluate(profile, facts, now=NOW)
    reordered = dict(reversed(list(facts.items())))
    assert evaluate(profile, reordered, now=NOW) == first
    assert evaluate(profile, dict(facts), now=NOW).to_dict() == first.to_dict()


@given(profiles, facts_mappings(), st.data())
def test_changing_an_unrelated_fact_never_changes_a_result(profile: Profile, facts: dict[str, object], data: st.DataObject) -> None:
    criterion = data.draw(st.sampled_from(profile.criteria))
    unrelated = sorted(set(FACTS) - criterion.fields)
    assume(unrelated)
    key = data.draw(st.sampled_from(unrelated))
    changed = dict(facts)
    if data.draw(st.booleans()):
        changed.pop(key, None)
    else:
        changed[key] = data.draw(fact_value(key))
    changed["not.a.known.fact"] = data.draw(st.integers())  # unknown keys are ignored too

    def result_of(mapping: dict[str, object]) -> object:
        return next(result for result in evaluate(profile, mapping, now=NOW).results if result.criterion == criterion.id)

    assert result_of(changed) == result_of(facts)


@given(profiles, facts_mappings(junk=False), st.data())
def test_reasons_never_contain_free_text(profile: Profile, facts: dict[str, object], data: st.DataObject) -> None:
    for key in TEXT_FACTS:  # every free-text fact carries distinctive personal-looking text
        facts[key] = data.draw(pii_text())
    evaluation = evaluate(profile, facts, now=NOW)
    stored = json.dumps(evaluation.to_dict())
    assert PII_MARKER not in stored
    for key in TEXT_FACTS:
        assert str(facts[key]).strip() not in stored


@given(profiles, facts_mappings())
def test_reasons_are_single_sentences_for_a_supervisor(profile: Profile, facts: dict[str, object]) -> None:
    for result in evaluate(profile, facts, now=NOW).results:
        assert result.reason.strip() == result.reason
        assert result.reason.endswith(".")
        assert "\n" not in result.reason
        assert result.reason[0].isupper()


@given(profiles, facts_mappings())
def test_facts_a_criterion_needs_that_are_missing_give_unknown_never_an_exception(profile: Profile, facts: dict[str, object]) -> None:
    for criterion in profile.criteria:
        without = {key: value for key, value in facts.items() if key not in criterion.fields}
        result = next(r for r in evaluate(profile, without, now=NOW).results if r.criterion == criterion.id)
        assert result.verdict is Verdict.UNKNOWN, result.reason


@given(profiles, facts_mappings(), st.data())
def test_none_means_the_same_as_absent(profile: Profile, facts: dict[str, object], data: st.DataObject) -> None:
    keys = data.draw(st.lists(st.sampled_from(sorted(FACTS)), unique=True))
    with_none = dict(facts) | {key: None for key in keys}
    absent = {key: value for key, value in facts.items() if key not in keys}
    assert evaluate(profile, with_none, now=NOW) == evaluate(profile, absent, now=NOW)


@pytest.mark.parametrize("profile_id", sorted(PROFILES))
def test_no_facts_at_all_is_all_unknown(profile_id: str) -> None:
    evaluation = evaluate(PROFILES[profile_id], {}, now=NOW)
    assert {result.verdict for result in evaluation.results} == {Verdict.UNKNOWN}
    assert evaluation.met is False


@settings(max_examples=300)
@given(facts_mappings())
def test_expanded_is_never_stricter_than_abduction(facts: dict[str, object]) -> None:
    abduction = evaluate(PROFILES["abduction"], facts, now=NOW)
    expanded = evaluate(PROFILES["expanded"], facts, now=NOW)
    if abduction.met:
        assert expanded.met


def test_expanded_is_strictly_wider_than_abduction() -> None:
    """The widening is real: a very young child who was not abducted meets only 'expanded'."""
    facts = {
        "child.age": 4,
        "child.description": "yellow coat",
        "last_seen.at": NOW - timedelta(hours=1),
        "circumstances.abduction_suspected": False,
        "circumstances.abduction_witnessed": False,
        "police.confirmed": True,
    }
    assert not evaluate(PROFILES["abduction"], facts, now=NOW).met
    assert evaluate(PROFILES["expanded"], facts, now=NOW).met


# --------------------------------------------------------------------------- #
# Rule-level properties, on single-criterion profiles.


def _profile(*criteria: Criterion) -> Profile:
    return Profile("prop", "Property profile", "0" * 64, "For property tests.", criteria, (ChecklistItem("ok", "OK?"),))


@given(
    st.integers(min_value=0, max_value=30),
    st.one_of(st.none(), st.integers(min_value=0, max_value=30)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=30)),
)
def test_number_range_is_inclusive_bounds(age: int, low: int | None, high: int | None) -> None:
    assume(low is not None or high is not None)
    assume(low is None or high is None or low <= high)
    params = {"field": "child.age"} | ({"min": low} if low is not None else {}) | ({"max": high} if high is not None else {})
    profile = _profile(Criterion("age", "Age in range.", "number_range", params))
    inside = (low is None or age >= low) and (high is None or age <= high)
    assert evaluate(profile, {"child.age": age}, now=NOW).results[0].verdict is (Verdict.MET if inside else Verdict.NOT_MET)


@given(st.integers(min_value=-600, max_value=6000), st.integers(min_value=1, max_value=96), st.integers(min_value=0, max_value=30))
def test_within_hours_window(minutes_ago: int, hours: int, tolerance: int) -> None:
    params = {"field": "last_seen.at", "hours": hours, "future_tolerance_minutes": tolerance}
    profile = _profile(Criterion("recent", "Seen recently.", "within_hours", params))
    verdict = evaluate(profile, {"last_seen.at": NOW - timedelta(minutes=minutes_ago)}, now=NOW).results[0].verdict
    assert verdict is (Verdict.MET if -tolerance <= minutes_ago <= hours * 60 else Verdict.NOT_MET)


BOOL_FACTS = sorted(key for key, spec in FACTS.items() if spec.kind.value == "bool")


@given(st.lists(st.sampled_from(BOOL_FACTS), min_size=1, max_size=4, unique=True), st.data())
def test_any_of_and_all_of_combine_verdicts(fields: list[str], data: st.DataObject) -> None:
    values = {key: data.draw(st.one_of(st.none(), st.booleans())) for key in fields}
    subrules = [{"rule": "is_true", "params": {"field": key}} for key in fields]
    profile = _profile(
        Criterion("any", "Any holds.", "any_of", {"rules": subrules}),
        Criterion("all", "All hold.", "all_of", {"rules": subrules}),
    )
    any_result, all_result = evaluate(profile, values, now=NOW).results
    known = [value for value in values.values() if value is not None]
    unknown = len(known) < len(values)
    if any(known):
        assert any_result.verdict is Verdict.MET
    else:
        assert any_result.verdict is (Verdict.UNKNOWN if unknown else Verdict.NOT_MET)
    if not all(known):
        assert all_result.verdict is Verdict.NOT_MET
    else:
        assert all_result.verdict is (Verdict.UNKNOWN if unknown else Verdict.MET)
