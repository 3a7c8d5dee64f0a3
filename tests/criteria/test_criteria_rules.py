"""Each rule kind: verdicts, supervisor-facing reasons, and parameter checks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from criteria_testkit import NOW

from criteria import RULES, ChecklistItem, Criterion, Profile, ProfileError, Verdict, evaluate


def outcome(rule: str, params: dict[str, object], facts: dict[str, object]) -> tuple[Verdict, str]:
    profile = Profile("t", "T", "0" * 64, "Test.", (Criterion("c", "C.", rule, params),), (ChecklistItem("ok", "OK?"),))
    result = evaluate(profile, facts, now=NOW).results[0]
    return result.verdict, result.reason


def test_registry_has_the_documented_kinds_and_is_read_only() -> None:
    assert set(RULES) == {"is_true", "is_false", "equals", "number_range", "present", "any_present", "within_hours", "any_of", "all_of"}
    with pytest.raises(TypeError):
        RULES["custom"] = RULES["is_true"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("is_true", True, (Verdict.MET, "Police have confirmed the report.")),
        ("is_true", False, (Verdict.NOT_MET, "Police have not confirmed the report.")),
        ("is_true", None, (Verdict.UNKNOWN, "Not known whether police have confirmed the report.")),
        ("is_false", False, (Verdict.MET, "Police have not confirmed the report.")),
        ("is_false", True, (Verdict.NOT_MET, "Police have confirmed the report.")),
        ("is_true", 1, (Verdict.UNKNOWN, "Police confirmation is recorded in a form that cannot be used.")),
    ],
)
def test_bool_rules(rule: str, value: object, expected: tuple[Verdict, str]) -> None:
    assert outcome(rule, {"field": "police.confirmed"}, {"police.confirmed": value}) == expected


@pytest.mark.parametrize(
    ("params", "facts", "expected"),
    [
        ({"field": "child.sex", "value": "f"}, {"child.sex": "f"}, (Verdict.MET, "Child's recorded sex is 'f', as required.")),
        ({"field": "child.sex", "value": "f"}, {"child.sex": "m"}, (Verdict.NOT_MET, "Child's recorded sex is 'm', not 'f'.")),
        ({"field": "child.sex", "value": "f"}, {"child.sex": "female"}, (Verdict.UNKNOWN, "Child's recorded sex is recorded in a form that cannot be used.")),
        ({"field": "child.age", "value": 9}, {"child.age": 9}, (Verdict.MET, "Child's age is 9, as required.")),
        ({"field": "child.age", "value": 9}, {"child.age": True}, (Verdict.UNKNOWN, "Child's age is recorded in a form that cannot be used.")),
        ({"field": "police.confirmed", "value": False}, {"police.confirmed": False}, (Verdict.MET, "Police have not confirmed the report.")),
        ({"field": "last_seen.lat", "value": 44.5}, {"last_seen.lat": 44.5}, (Verdict.MET, "Last-seen latitude is 44.5, as required.")),
    ],
)
def test_equals(params: dict[str, object], facts: dict[str, object], expected: tuple[Verdict, str]) -> None:
    assert outcome("equals", params, facts) == expected


@pytest.mark.parametrize(
    ("params", "age", "expected"),
    [
        ({"max": 17}, 9, (Verdict.MET, "Child's age is 9, within the limit of 17 or under.")),
        ({"max": 17}, 18, (Verdict.NOT_MET, "Child's age is 18, outside the limit of 17 or under.")),
        ({"min": 3}, 2, (Verdict.NOT_MET, "Child's age is 2, outside the limit of 3 or over.")),
        ({"min": 3, "max": 7}, 7, (Verdict.MET, "Child's age is 7, within the limit of 3 to 7.")),
        ({"max": 17}, 9.0, (Verdict.MET, "Child's age is 9, within the limit of 17 or under.")),
        ({"max": 17}, 9.5, (Verdict.UNKNOWN, "Child's age is recorded in a form that cannot be used.")),
        ({"max": 17}, None, (Verdict.UNKNOWN, "Child's age is not known.")),
    ],
)
def test_number_range(params: dict[str, object], age: object, expected: tuple[Verdict, str]) -> None:
    assert outcome("number_range", {"field": "child.age", **params}, {"child.age": age}) == expected


def test_present_and_any_present_never_quote_text() -> None:
    assert outcome("present", {"field": "child.name"}, {"child.name": "Ana Petrović"}) == (Verdict.MET, "Child's name is recorded.")
    assert outcome("present", {"field": "child.name"}, {"child.name": " "}) == (Verdict.NOT_MET, "Child's name is blank.")
    fields = {"fields": ["circumstances.vehicle", "circumstances.plate"]}
    assert outcome("any_present", fields, {"circumstances.vehicle": "", "circumstances.plate": "AB-12"}) == (Verdict.MET, "Recorded: vehicle plate.")
    assert outcome("any_present", fields, {"circumstances.vehicle": "", "circumstances.plate": ""}) == (
        Verdict.NOT_MET,
        "None of these is recorded: vehicle description, vehicle plate.",
    )
    assert outcome("any_present", fields, {"circumstances.vehicle": ""})[0] is Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (NOW - timedelta(minutes=61), (Verdict.MET, "Last sighting was 1 hour 1 minute ago, within the 2-hour limit.")),
        (NOW - timedelta(seconds=30), (Verdict.MET, "Last sighting was 0 minutes ago, within the 2-hour limit.")),
        (NOW - timedelta(hours=2, seconds=1), (Verdict.NOT_MET, "Last sighting was 2 hours 1 minute ago, beyond the 2-hour limit.")),
        (NOW + timedelta(minutes=4), (Verdict.MET, "Last sighting was 0 minutes ago, within the 2-hour limit.")),
        (NOW + timedelta(hours=3), (Verdict.NOT_MET, "Last sighting is recorded 3 hours in the future; check the time entered.")),
        (datetime(2024, 5, 1, 11), (Verdict.UNKNOWN, "Last sighting is recorded in a form that cannot be used.")),
    ],
)
def test_within_hours(seen: datetime, expected: tuple[Verdict, str]) -> None:
    assert outcome("within_hours", {"field": "last_seen.at", "hours": 2}, {"last_seen.at": seen}) == expected


def test_composite_reasons_explain_which_alternative() -> None:
    rules = {
        "rules": [
            {"rule": "is_true", "params": {"field": "circumstances.abduction_suspected"}},
            {"rule": "is_true", "params": {"field": "circumstances.abduction_witnessed"}},
        ]
    }
    facts = {"circumstances.abduction_suspected": False, "circumstances.abduction_witnessed": True}
    assert outcome("any_of", rules, facts) == (Verdict.MET, "The abduction was witnessed.")
    assert outcome("all_of", rules, facts) == (Verdict.NOT_MET, "Not every condition is met. Abduction is not suspected.")
    assert outcome("any_of", rules, {"circumstances.abduction_suspected": False}) == (
        Verdict.UNKNOWN,
        "None of the alternatives is met yet. Abduction is not suspected. Not known whether an abduction was witnessed.",
    )


def test_criterion_validates_its_params_on_construction() -> None:
    with pytest.raises(ProfileError) as raised:
        Criterion("c", "C.", "number_range", {"field": "child.name"})
    paths = {problem.path for problem in raised.value.problems}
    assert paths == {"rule.params.field", "rule.params"}
