"""Rule kinds: the small, declarative tests a criterion applies to case facts.

Each kind is a :class:`Rule` registered by name in :data:`RULES`. A rule has
three parts, kept side by side so they cannot drift apart:

* ``check(params, path)`` validates the parameters written in a profile and
  returns located :class:`~criteria.problems.Problem` s (load time);
* ``fields(params)`` names the fact keys the rule reads (used to prove that
  unrelated facts never change a verdict);
* ``apply(params, facts, now)`` returns an :class:`Outcome`: a verdict and a
  short reason written for a supervisor.

Verdicts follow one convention everywhere: a known fact that satisfies the
rule is MET, a known fact that fails it is NOT_MET, and a missing (or
unusable) fact the rule needs is UNKNOWN. Reasons quote numbers, booleans and
fixed choices only; free-text facts are only ever called present or blank, so
no personal details reach the audit log through a reason.

Kinds and their parameters:

==============  ==========================================================
``is_true``     ``field`` (bool fact): MET when the fact is true.
``is_false``    ``field`` (bool fact): MET when the fact is false.
``equals``      ``field`` (bool, integer, number or choice fact), ``value``.
``number_range`` ``field`` (integer/number fact), ``min`` and/or ``max``
                (inclusive).
``present``     ``field`` (text fact): MET when the text is not blank.
``any_present`` ``fields`` (list of text facts): MET when any is not blank.
``within_hours`` ``field`` (datetime fact), ``hours`` (> 0), optional
                ``future_tolerance_minutes`` (>= 0, default 5): MET when the
                time lies at most ``hours`` before ``now``; a time further in
                the future than the tolerance is NOT_MET (a data-entry error).
``any_of``      ``rules``: list of ``{rule, params}``; MET if any is MET, else
                UNKNOWN if any is UNKNOWN, else NOT_MET.
``all_of``      ``rules``: list of ``{rule, params}``; NOT_MET if any is
                NOT_MET, else UNKNOWN if any is UNKNOWN, else MET.
==============  ==========================================================
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from numbers import Real
from types import MappingProxyType
from typing import Any, SupportsFloat, cast

from .facts import FACTS, NUMERIC_KINDS, FactKind, FactSpec, Reading, ReadState, read_fact
from .problems import Problem

Params = Mapping[str, object]
Facts = Mapping[str, object]


class Verdict(StrEnum):
    """What a criterion concluded about a case; the values are API strings."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Outcome:
    """A rule's verdict with the supervisor-facing reason for it."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class Rule:
    """A registered rule kind: parameter check, fields read, and evaluation."""

    name: str
    summary: str
    check: Callable[[Params, str], list[Problem]]
    fields: Callable[[Params], frozenset[str]]
    apply: Callable[[Params, Facts, datetime], Outcome]


# --------------------------------------------------------------------------- #
# Entry points used by the profile loader and the evaluator.


def check_rule(name: object, params: object, path: str) -> list[Problem]:
    """Validate a ``{rule, params}`` pair found at ``path`` in a profile document."""
    if not isinstance(name, str):
        return [Problem(f"{path}.rule", "rule name must be a string")]
    rule = RULES.get(name)
    if rule is None:
        return [
            Problem(f"{path}.rule", f"unknown rule {name!r}{_suggest(name, RULES)}; known rules: {', '.join(RULES)}")
        ]
    if not isinstance(params, Mapping):
        return [Problem(f"{path}.params", f"params of rule {name!r} must be a table")]
    return rule.check(params, f"{path}.params")


def rule_fields(name: str, params: Params) -> frozenset[str]:
    """Fact keys read by an already-validated rule."""
    return RULES[name].fields(params)


def apply_rule(name: str, params: Params, facts: Facts, now: datetime) -> Outcome:
    """Evaluate an already-validated rule against the facts."""
    return RULES[name].apply(params, facts, now)


# --------------------------------------------------------------------------- #
# Parameter-checking helpers.


def _suggest(word: str, options: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(
    params: Params, path: str, rule: str, required: Sequence[str], optional: Sequence[str] = ()
) -> list[Problem]:
    problems = [
        Problem(f"{path}.{key}", f"missing required parameter {key!r} for rule {rule!r}")
        for key in required
        if key not in params
    ]
    allowed = (*required, *optional)
    problems += [
        Problem(f"{path}.{key}", f"unknown parameter {key!r} for rule {rule!r}; allowed: {', '.join(allowed)}")
        for key in params
        if key not in allowed
    ]
    return problems


def _check_field_name(value: object, path: str, kinds: frozenset[FactKind], rule: str) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem(path, "field must be a fact key string such as 'child.age'")]
    spec = FACTS.get(value)
    if spec is None:
        return [Problem(path, f"unknown fact field {value!r}{_suggest(value, FACTS)}")]
    if spec.kind not in kinds:
        wanted = " or ".join(sorted(kinds))
        return [Problem(path, f"rule {rule!r} needs a {wanted} fact, but {value!r} is {spec.kind}")]
    return []


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


# Parameters and facts are plain `object`s until a rule's check (or read_fact) has accepted them; these
# say what was accepted, for the type checker only (each is the bare value at run time).
def _float(value: object) -> float:
    """``float(value)`` of a value already accepted as a number."""
    return float(cast(SupportsFloat, value))


def _array(value: object) -> Sequence[object]:
    """A parameter already accepted as an array."""
    return cast("Sequence[object]", value)


def _tables(value: object) -> Sequence[Mapping[str, Any]]:
    """A parameter already accepted as an array of tables (the sub-rules of a composite rule)."""
    return cast("Sequence[Mapping[str, Any]]", value)


def _field_rule_check(rule: str, kinds: frozenset[FactKind]) -> Callable[[Params, str], list[Problem]]:
    """Check for rules whose only parameter is one ``field`` of the given kinds."""

    def check(params: Params, path: str) -> list[Problem]:
        problems = _check_keys(params, path, rule, ("field",))
        if "field" in params:
            problems += _check_field_name(params["field"], f"{path}.field", kinds, rule)
        return problems

    return check


def _single_field(params: Params) -> frozenset[str]:
    return frozenset({str(params["field"])})


# --------------------------------------------------------------------------- #
# Formatting helpers for reasons.


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _unknown(spec: FactSpec, reading: Reading) -> Outcome:
    """The UNKNOWN outcome for a fact that is missing or unusable."""
    if reading.state is ReadState.UNUSABLE:
        return Outcome(Verdict.UNKNOWN, f"{spec.label} is recorded in a form that cannot be used.")
    if spec.kind is FactKind.BOOL:
        return Outcome(Verdict.UNKNOWN, spec.unknown_text)
    return Outcome(Verdict.UNKNOWN, f"{spec.label} is not known.")


def _bool_text(spec: FactSpec, value: bool) -> str:
    return spec.true_text if value else spec.false_text


def _duration(seconds: float, *, round_up: bool) -> str:
    minutes = math.ceil(seconds / 60) if round_up else math.floor(seconds / 60)
    hours, minutes = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


# --------------------------------------------------------------------------- #
# is_true / is_false


def _apply_bool(expected: bool) -> Callable[[Params, Facts, datetime], Outcome]:
    def apply(params: Params, facts: Facts, now: datetime) -> Outcome:
        spec = FACTS[str(params["field"])]
        reading = read_fact(facts, spec.key)
        if reading.state is not ReadState.KNOWN:
            return _unknown(spec, reading)
        verdict = Verdict.MET if reading.value is expected else Verdict.NOT_MET
        return Outcome(verdict, _bool_text(spec, bool(reading.value)))

    return apply


# --------------------------------------------------------------------------- #
# equals

_EQUALS_KINDS = frozenset({FactKind.BOOL, FactKind.INTEGER, FactKind.NUMBER, FactKind.CHOICE})


def _check_equals(params: Params, path: str) -> list[Problem]:
    problems = _check_keys(params, path, "equals", ("field", "value"))
    field = params.get("field")
    if isinstance(field, str) and field in FACTS and FACTS[field].kind is FactKind.TEXT:
        return problems + [
            Problem(
                f"{path}.field", f"rule 'equals' cannot compare free-text fact {field!r}: reasons never quote free text"
            )
        ]
    if "field" in params:
        field_problems = _check_field_name(field, f"{path}.field", _EQUALS_KINDS, "equals")
        problems += field_problems
        if not field_problems and "value" in params:
            problems += _check_equals_value(FACTS[str(field)], params["value"], f"{path}.value")
    return problems


def _check_equals_value(spec: FactSpec, value: object, path: str) -> list[Problem]:
    if spec.kind is FactKind.BOOL and not isinstance(value, bool):
        return [Problem(path, f"value must be true or false for bool fact {spec.key!r}")]
    if spec.kind is FactKind.INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
        return [Problem(path, f"value must be an integer for integer fact {spec.key!r}")]
    if spec.kind is FactKind.NUMBER and not _is_number(value):
        return [Problem(path, f"value must be a number for number fact {spec.key!r}")]
    if spec.kind is FactKind.CHOICE and value not in spec.choices:
        return [Problem(path, f"value must be one of {', '.join(map(repr, spec.choices))} for fact {spec.key!r}")]
    return []


def _apply_equals(params: Params, facts: Facts, now: datetime) -> Outcome:
    spec = FACTS[str(params["field"])]
    expected = params["value"]
    reading = read_fact(facts, spec.key)
    if reading.state is not ReadState.KNOWN:
        return _unknown(spec, reading)
    actual = reading.value
    matches = actual == expected and isinstance(actual, bool) == isinstance(expected, bool)
    verdict = Verdict.MET if matches else Verdict.NOT_MET
    if spec.kind is FactKind.BOOL:
        return Outcome(verdict, _bool_text(spec, bool(actual)))
    shown = f"'{actual}'" if spec.kind is FactKind.CHOICE else _num(actual)
    wanted = f"'{expected}'" if spec.kind is FactKind.CHOICE else _num(expected)
    if matches:
        return Outcome(verdict, f"{spec.label} is {shown}, as required.")
    return Outcome(verdict, f"{spec.label} is {shown}, not {wanted}.")


# --------------------------------------------------------------------------- #
# number_range


def _check_number_range(params: Params, path: str) -> list[Problem]:
    problems = _check_keys(params, path, "number_range", ("field",), ("min", "max"))
    if "field" in params:
        problems += _check_field_name(params["field"], f"{path}.field", NUMERIC_KINDS, "number_range")
    bounds_ok = True
    for key in ("min", "max"):
        if key in params and not _is_number(params[key]):
            problems.append(Problem(f"{path}.{key}", f"{key} must be a finite number"))
            bounds_ok = False
    if "min" not in params and "max" not in params:
        problems.append(Problem(path, "rule 'number_range' needs at least one of 'min' or 'max'"))
    elif bounds_ok and "min" in params and "max" in params and _float(params["min"]) > _float(params["max"]):
        problems.append(
            Problem(f"{path}.min", f"min ({_num(params['min'])}) is greater than max ({_num(params['max'])})")
        )
    return problems


def _range_text(params: Params) -> str:
    low, high = params.get("min"), params.get("max")
    if low is not None and high is not None:
        return f"{_num(low)} to {_num(high)}"
    if high is not None:
        return f"{_num(high)} or under"
    return f"{_num(low)} or over"


def _apply_number_range(params: Params, facts: Facts, now: datetime) -> Outcome:
    spec = FACTS[str(params["field"])]
    reading = read_fact(facts, spec.key)
    if reading.state is not ReadState.KNOWN:
        return _unknown(spec, reading)
    value = _float(reading.value)
    low, high = params.get("min"), params.get("max")
    inside = (low is None or value >= _float(low)) and (high is None or value <= _float(high))
    where = "within" if inside else "outside"
    return Outcome(
        Verdict.MET if inside else Verdict.NOT_MET,
        f"{spec.label} is {_num(reading.value)}, {where} the limit of {_range_text(params)}.",
    )


# --------------------------------------------------------------------------- #
# present / any_present

_TEXT = frozenset({FactKind.TEXT})


def _apply_present(params: Params, facts: Facts, now: datetime) -> Outcome:
    spec = FACTS[str(params["field"])]
    reading = read_fact(facts, spec.key)
    if reading.state is not ReadState.KNOWN:
        return _unknown(spec, reading)
    if reading.value:
        return Outcome(Verdict.MET, f"{spec.label} is recorded.")
    return Outcome(Verdict.NOT_MET, f"{spec.label} is blank.")


def _check_any_present(params: Params, path: str) -> list[Problem]:
    problems = _check_keys(params, path, "any_present", ("fields",))
    fields = params.get("fields")
    if "fields" not in params:
        return problems
    if not isinstance(fields, Sequence) or isinstance(fields, str) or not fields:
        return problems + [Problem(f"{path}.fields", "fields must be a non-empty list of text fact keys")]
    seen: set[object] = set()
    for index, field in enumerate(fields):
        problems += _check_field_name(field, f"{path}.fields[{index}]", _TEXT, "any_present")
        if isinstance(field, str) and field in seen:
            problems.append(Problem(f"{path}.fields[{index}]", f"field {field!r} is listed twice"))
        seen.add(field)
    return problems


def _apply_any_present(params: Params, facts: Facts, now: datetime) -> Outcome:
    specs = [FACTS[str(key)] for key in _array(params["fields"])]
    readings = [(spec, read_fact(facts, spec.key)) for spec in specs]
    recorded = [spec for spec, reading in readings if reading.state is ReadState.KNOWN and reading.value]
    if recorded:
        return Outcome(Verdict.MET, f"Recorded: {', '.join(_lower_first(spec.label) for spec in recorded)}.")
    names = ", ".join(_lower_first(spec.label) for spec in specs)
    if all(reading.state is ReadState.KNOWN for _, reading in readings):
        return Outcome(Verdict.NOT_MET, f"None of these is recorded: {names}.")
    return Outcome(Verdict.UNKNOWN, f"Not known whether any of these is available: {names}.")


# --------------------------------------------------------------------------- #
# within_hours

_DEFAULT_FUTURE_TOLERANCE_MINUTES = 5


def _check_within_hours(params: Params, path: str) -> list[Problem]:
    problems = _check_keys(params, path, "within_hours", ("field", "hours"), ("future_tolerance_minutes",))
    if "field" in params:
        problems += _check_field_name(params["field"], f"{path}.field", frozenset({FactKind.DATETIME}), "within_hours")
    if "hours" in params and not (_is_number(params["hours"]) and _float(params["hours"]) > 0):
        problems.append(Problem(f"{path}.hours", "hours must be a number greater than 0"))
    tolerance = params.get("future_tolerance_minutes", 0)
    if not (_is_number(tolerance) and _float(tolerance) >= 0):
        problems.append(
            Problem(f"{path}.future_tolerance_minutes", "future_tolerance_minutes must be a number of at least 0")
        )
    return problems


def _apply_within_hours(params: Params, facts: Facts, now: datetime) -> Outcome:
    spec = FACTS[str(params["field"])]
    reading = read_fact(facts, spec.key)
    if reading.state is not ReadState.KNOWN:
        return _unknown(spec, reading)
    limit = _float(params["hours"])
    tolerance = _float(params.get("future_tolerance_minutes", _DEFAULT_FUTURE_TOLERANCE_MINUTES)) * 60
    elapsed = (now - cast(datetime, reading.value)).total_seconds()  # a KNOWN datetime fact
    if elapsed < -tolerance:
        ahead = _duration(-elapsed, round_up=False)
        return Outcome(Verdict.NOT_MET, f"{spec.label} is recorded {ahead} in the future; check the time entered.")
    elapsed = max(elapsed, 0.0)
    if elapsed <= limit * 3600:
        ago = _duration(elapsed, round_up=False)
        return Outcome(Verdict.MET, f"{spec.label} was {ago} ago, within the {_num(limit)}-hour limit.")
    ago = _duration(elapsed, round_up=True)
    return Outcome(Verdict.NOT_MET, f"{spec.label} was {ago} ago, beyond the {_num(limit)}-hour limit.")


# --------------------------------------------------------------------------- #
# any_of / all_of


def _check_composite(rule: str) -> Callable[[Params, str], list[Problem]]:
    def check(params: Params, path: str) -> list[Problem]:
        problems = _check_keys(params, path, rule, ("rules",))
        subrules = params.get("rules")
        if "rules" not in params:
            return problems
        if not isinstance(subrules, Sequence) or isinstance(subrules, str) or not subrules:
            return problems + [Problem(f"{path}.rules", "rules must be a non-empty list of {rule, params} tables")]
        for index, entry in enumerate(subrules):
            where = f"{path}.rules[{index}]"
            if not isinstance(entry, Mapping):
                problems.append(Problem(where, "each entry must be a table with 'rule' and 'params'"))
                continue
            problems += _check_keys(entry, where, rule, ("rule", "params"))
            if "rule" in entry and "params" in entry:
                problems += check_rule(entry["rule"], entry["params"], where)
        return problems

    return check


def _composite_fields(params: Params) -> frozenset[str]:
    keys: frozenset[str] = frozenset()
    for entry in _tables(params["rules"]):
        keys |= rule_fields(entry["rule"], entry["params"])
    return keys


def _sub_outcomes(params: Params, facts: Facts, now: datetime) -> list[Outcome]:
    return [apply_rule(entry["rule"], entry["params"], facts, now) for entry in _tables(params["rules"])]


def _joined(outcomes: Sequence[Outcome]) -> str:
    return " ".join(outcome.reason for outcome in outcomes)


def _apply_any_of(params: Params, facts: Facts, now: datetime) -> Outcome:
    outcomes = _sub_outcomes(params, facts, now)
    met = [outcome for outcome in outcomes if outcome.verdict is Verdict.MET]
    if met:
        return Outcome(Verdict.MET, _joined(met))
    if any(outcome.verdict is Verdict.UNKNOWN for outcome in outcomes):
        return Outcome(Verdict.UNKNOWN, f"None of the alternatives is met yet. {_joined(outcomes)}")
    return Outcome(Verdict.NOT_MET, f"None of the alternatives is met. {_joined(outcomes)}")


def _apply_all_of(params: Params, facts: Facts, now: datetime) -> Outcome:
    outcomes = _sub_outcomes(params, facts, now)
    failed = [outcome for outcome in outcomes if outcome.verdict is Verdict.NOT_MET]
    if failed:
        return Outcome(Verdict.NOT_MET, f"Not every condition is met. {_joined(failed)}")
    unknown = [outcome for outcome in outcomes if outcome.verdict is Verdict.UNKNOWN]
    if unknown:
        return Outcome(Verdict.UNKNOWN, f"Not every condition is known. {_joined(unknown)}")
    return Outcome(Verdict.MET, _joined(outcomes))


# --------------------------------------------------------------------------- #
# Registry (immutable: kinds are added by editing this module, not at run time).

_BOOL = frozenset({FactKind.BOOL})

RULES: Mapping[str, Rule] = MappingProxyType(
    {
        rule.name: rule
        for rule in (
            Rule(
                "is_true", "a bool fact is true", _field_rule_check("is_true", _BOOL), _single_field, _apply_bool(True)
            ),
            Rule(
                "is_false",
                "a bool fact is false",
                _field_rule_check("is_false", _BOOL),
                _single_field,
                _apply_bool(False),
            ),
            Rule("equals", "a fact equals a given value", _check_equals, _single_field, _apply_equals),
            Rule(
                "number_range",
                "a number lies within inclusive bounds",
                _check_number_range,
                _single_field,
                _apply_number_range,
            ),
            Rule(
                "present",
                "a text fact is not blank",
                _field_rule_check("present", _TEXT),
                _single_field,
                _apply_present,
            ),
            Rule(
                "any_present",
                "at least one of several text facts is not blank",
                _check_any_present,
                lambda params: frozenset(str(key) for key in _array(params["fields"])),
                _apply_any_present,
            ),
            Rule(
                "within_hours",
                "a time lies at most N hours before now",
                _check_within_hours,
                _single_field,
                _apply_within_hours,
            ),
            Rule(
                "any_of", "at least one sub-rule is met", _check_composite("any_of"), _composite_fields, _apply_any_of
            ),
            Rule("all_of", "every sub-rule is met", _check_composite("all_of"), _composite_fields, _apply_all_of),
        )
    }
)
