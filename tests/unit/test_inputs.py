"""Input limits (alertsvc/inputs.py) and the rules every input model keeps (alertsvc/schemas.py)."""

from __future__ import annotations

import json
import typing
from types import NoneType, UnionType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from alertsvc import schemas
from alertsvc.inputs import MAX_JSON_DEPTH, TooDeep, load_json, nesting_exceeds, path_value_ok, string_problems


def _reference_depth(text: str) -> int:
    """The deepest nesting of a JSON text, read one character at a time (strings and escapes skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:\x00'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=4), inner,
                                                                max_size=4),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.integers(0, 8))
def test_nesting_scan_agrees_with_a_character_by_character_reading(value, limit):
    text = json.dumps(value)
    assert nesting_exceeds(text.encode(), limit) == (_reference_depth(text) > limit)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}"\\ a', max_size=200), st.integers(0, 6))
def test_nesting_scan_of_any_text_never_undercounts_what_the_parser_would_reach(text, limit):
    # Malformed text: where the scan says "not too deep", the parser never recurses deeper than the limit.
    if not nesting_exceeds(text.encode(), limit):
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            assert _reference_depth(text) <= limit


@pytest.mark.parametrize("raw", [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b"[" * 5000,  # unterminated
    b'[{"x": ' * 40 + b"1" + b"}]" * 40,
    b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
])
def test_too_deep_bodies_are_refused_before_parsing(raw):
    assert nesting_exceeds(raw)
    with pytest.raises(TooDeep):
        load_json(raw)


@pytest.mark.parametrize("raw", [
    b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
    b'["' + b"[" * 5000 + b'"]',  # brackets inside a string do not count
    b'["\\"' + b"[" * 5000 + b'"]',  # nor after an escaped quote
    b'{"a": "\\\\", "b": ' + b"[" * 10 + b"]" * 10 + b"}",  # an escaped backslash ends before the quote
])
def test_deep_looking_but_shallow_bodies_parse(raw):
    assert not nesting_exceeds(raw)
    load_json(raw)


def test_nesting_scan_reads_a_megabyte_whole():
    """A wide body is shallow however long; one level too deep at its very end is found (how fast the scan is:
    bench/bench_hostile_input.py)."""
    raw = b"[" + b"[]," * 350_000 + b"[]]"
    assert not nesting_exceeds(raw)
    deep = b"[" + b"[]," * 350_000 + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"]"
    assert nesting_exceeds(deep)


def test_string_problems_name_each_place():
    data = {"a": ["ok", "x\x00"], "b\x00": 1, "c": {"d": "\ud800"}}
    assert sorted(string_problems(data)) == [
        (("a", 1), "must not contain the NUL character (U+0000)"),
        (("b\\u0000",), "the field name must not contain the NUL character (U+0000)"),
        (("c", "d"), "must not contain a lone surrogate (not valid Unicode text)"),
    ]


@pytest.mark.parametrize(("name", "value", "ok"), [
    ("case_id", "6f1c2a8e-3b7d-4c1e-9a2b-0123456789ab", True),
    ("case_id", "\x00", False), ("alert_id", "..", False), ("alert_id", "x" * 5000, False),
    ("sub_id", "ünï", False), ("alert_id", "6f1c2a8e-3b7d-4c1e-9a2b-0123456789ab\x00", False),
    ("update_id", "12", True), ("update_id", "1\x00", False), ("update_id", 12, True),
    ("update_id", 2**31 - 1, True), ("update_id", 2**31, False), ("update_id", 10**23, False),
    ("token", "AbC-_09", True), ("token", "a\x00b", False), ("token", "x" * 513, False),
])
def test_path_values_are_well_formed_for_their_kind(name, value, ok):
    assert path_value_ok(name, value) is ok


# --- every input model -----------------------------------------------------------------------------
def _input_models() -> list[type[BaseModel]]:
    return [m for m in vars(schemas).values()
            if isinstance(m, type) and issubclass(m, schemas.In) and m is not schemas.In]


def _bare(tp: object) -> object:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _optional_text_fields() -> list[tuple[type[BaseModel], str]]:
    """Every field of every input model typed ``str | None`` (constraints or not)."""
    found = []
    for model in _input_models():
        for name, info in model.model_fields.items():
            args = [_bare(a) for a in typing.get_args(info.annotation)]
            if (typing.get_origin(info.annotation) in (typing.Union, UnionType) and str in args
                    and NoneType in args):
                found.append((model, name))
    return found


def test_the_optional_text_fields_are_found():
    names = {f"{m.__name__}.{n}" for m, n in _optional_text_fields()}
    assert {"CircumstancesIn.suspect", "CircumstancesIn.vehicle", "CircumstancesIn.plate", "ChildIn.name",
            "ReporterIn.phone", "ChildPatch.name", "ResolveIn.note"} <= names


@pytest.mark.parametrize(("model", "name"), _optional_text_fields(),
                         ids=lambda v: v.__name__ if isinstance(v, type) else v)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_every_optional_text_field_takes_blank_as_not_given(model, name, blank):
    try:
        value = model.model_validate({name: blank})
    except ValidationError as exc:  # other, required fields are missing: only this field's errors matter
        assert not [e for e in exc.errors() if e["loc"][:1] == (name,)], exc.errors()
    else:
        assert getattr(value, name) is None and name in value.model_fields_set


@pytest.mark.parametrize(("model", "data", "field"), [
    (schemas.ReasonIn, {"reason": "   "}, "reason"),
    (schemas.UpdateIn, {"text": ""}, "text"),
    (schemas.SubscriptionIn, {"channel": "sms", "address": "  ", "area": {"regions": ["RS-00"]}}, "address"),
    (schemas.TokenIn, {"username": "", "password": "x"}, "username"),
])
def test_required_text_still_refuses_blank(model, data, field):
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert (field,) in [e["loc"][:1] for e in info.value.errors()]


@pytest.mark.parametrize("bad", ["Ana\x00Bo", "\ud800"])
def test_every_input_model_refuses_strings_nothing_could_store(bad):
    with pytest.raises(ValidationError) as info:
        schemas.CircumstancesIn.model_validate({"vehicle": bad})
    assert info.value.errors()[0]["loc"] == ("vehicle",)
    with pytest.raises(ValidationError):
        schemas.ApproveIn.model_validate({"reason": "fine reason", "checklist": {bad: True}})
    with pytest.raises(ValidationError):
        schemas.AlertAreaIn.model_validate({"polygon": {"type": "Polygon", "coordinates": [[bad]]}})


def test_a_problem_that_echoes_a_lone_surrogate_is_still_json():
    from alertsvc.api.errors import problem_response

    r = problem_response(422, "validation-failed", "Invalid fields", "bad \ud800 here",
                         extra={"errors": [{"field": "\udfff", "message": "x"}]})
    body = json.loads(r.get_data())
    assert body["detail"] == "bad \ud800 here" and r.mimetype == "application/problem+json"


def test_a_recursion_error_is_still_too_deep_when_the_scan_is_bypassed(monkeypatch):
    import alertsvc.inputs as inputs

    monkeypatch.setattr(inputs, "nesting_exceeds", lambda raw, limit=MAX_JSON_DEPTH: False)
    with pytest.raises(TooDeep):
        inputs.load_json(b"[" * 100_000 + b"]" * 100_000)
