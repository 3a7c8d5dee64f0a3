"""Data-driven case suite: cases/<profile>.toml -> expected decision and verdicts.

Like the JSON-Schema test suite, the cases are data so that reviewers of a
profile change can read (and extend) the expected behaviour without reading
Python. Every case must state a verdict for every criterion of its profile,
so adding or renaming a criterion forces the suite to be updated.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest
from criteria_testkit import CASES_DIR, build_facts

from criteria import Verdict, builtin_profile_ids, evaluate, load_builtin_profile


def _suites() -> dict[Path, dict[str, object]]:
    return {path: tomllib.loads(path.read_text("utf-8")) for path in sorted(CASES_DIR.glob("*.toml"))}


SUITES = _suites()
CASES = [
    pytest.param(suite, case, id=f"{path.stem}:{case['name']}")
    for path, suite in SUITES.items()
    for case in suite["case"]  # type: ignore[union-attr]
]


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_case(suite: dict[str, object], case: dict[str, object]) -> None:
    profile = load_builtin_profile(str(suite["profile"]))
    facts = build_facts(suite["base_facts"], case)  # type: ignore[arg-type]

    evaluation = evaluate(profile, facts, now=suite["now"])  # type: ignore[arg-type]

    verdicts = {result.criterion: result.verdict.value for result in evaluation.results}
    assert set(case["expect"]) == set(verdicts), "a case must expect a verdict for every criterion"  # type: ignore[arg-type]
    assert verdicts == case["expect"], case["description"]
    assert evaluation.met is case["met"], case["description"]
    reasons = {result.criterion: result.reason for result in evaluation.results}
    for criterion, fragment in case.get("reasons", {}).items():  # type: ignore[attr-defined]
        assert fragment in reasons[criterion], f"{criterion}: {reasons[criterion]!r}"


def test_every_builtin_profile_has_a_case_suite() -> None:
    assert sorted(str(suite["profile"]) for suite in SUITES.values()) == builtin_profile_ids()


@pytest.mark.parametrize("path", list(SUITES), ids=lambda path: path.stem)
def test_suite_is_broad(path: Path) -> None:
    """At least 10 cases, both decisions, and every verdict kind on a required criterion."""
    suite = SUITES[path]
    cases = suite["case"]
    profile = load_builtin_profile(str(suite["profile"]))
    required = {criterion.id for criterion in profile.criteria if criterion.required}
    assert len(cases) >= 10  # type: ignore[arg-type]
    assert {case["met"] for case in cases} == {True, False}  # type: ignore[union-attr]
    seen = Counter(verdict for case in cases for criterion, verdict in case["expect"].items() if criterion in required)  # type: ignore[union-attr]
    assert set(seen) == {verdict.value for verdict in Verdict}
    names = [case["name"] for case in cases]  # type: ignore[union-attr]
    assert len(names) == len(set(names)), "case names must be unique"
