"""Shared helpers and Hypothesis strategies for the criteria tests.

Named ``criteria_testkit`` (not ``conftest``/``helpers``) so it cannot clash
with modules of the other test directories under pytest's default
``prepend`` import mode.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st

from criteria import FACTS, FactKind

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CASES_DIR = Path(__file__).parent / "cases"

# A minimal valid profile used as the base of many file-level tests.
MINIMAL_PROFILE = """\
id = "minimal"
title = "Minimal profile"
description = "Smallest valid profile, for tests."

[[sources]]
id = "src"
name = "A source"
url = "https://example.org/criteria"

[[criteria]]
id = "child_age"
text = "The child is 17 or younger."
rule = "number_range"
params = { field = "child.age", max = 17 }
sources = ["src"]

[[criteria]]
id = "confirmed"
text = "Police have confirmed the report."
rule = "is_true"
params = { field = "police.confirmed" }

[[approval_checklist]]
id = "benefit"
text = "The benefit outweighs the harm."
"""

# Free-text marker: generated personal data always contains it, and no real
# reason sentence does, so "marker in reason" means personal data leaked.
PII_MARKER = "Qzx"

TEXT_FACTS = tuple(key for key, spec in FACTS.items() if spec.kind is FactKind.TEXT)


def pii_text() -> st.SearchStrategy[str]:
    """Distinctive free text (like a name or description) that must never reach a reason."""
    body = st.text(alphabet=string.ascii_letters + string.digits + " -'", min_size=1, max_size=20)
    return st.builds(lambda a, b: f"{a}{PII_MARKER}{b}", body, body)


def _value_for(key: str) -> st.SearchStrategy[object]:
    spec = FACTS[key]
    if spec.kind is FactKind.BOOL:
        return st.booleans()
    if spec.kind is FactKind.INTEGER:
        return st.integers(min_value=-2, max_value=25)
    if spec.kind is FactKind.NUMBER:
        return st.floats(min_value=-200, max_value=200, allow_nan=False)
    if spec.kind is FactKind.CHOICE:
        return st.sampled_from(spec.choices)
    if spec.kind is FactKind.TEXT:
        return st.one_of(st.just(""), st.just("   "), pii_text())
    offsets = st.floats(min_value=-2.0, max_value=120.0, allow_nan=False)
    return st.builds(lambda hours: NOW - timedelta(hours=hours), offsets)


# Values of the wrong shape that the service should never send but the
# library must survive: they read as unusable, never as an exception.
_JUNK = st.one_of(st.just("junk"), st.just([1, 2]), st.just(float("nan")), st.just({"a": 1}), st.just(datetime(2024, 5, 1)))


def fact_value(key: str, *, junk: bool = True) -> st.SearchStrategy[object]:
    """A plausible value for ``key``, sometimes None (and junk when allowed)."""
    options = [_value_for(key), st.none()]
    if junk:
        options.append(_JUNK)
    return st.one_of(*options)


@st.composite
def facts_mappings(draw: st.DrawFn, *, junk: bool = True) -> dict[str, object]:
    """A facts mapping where each known key is absent, None, valid (or junk)."""
    facts: dict[str, object] = {}
    for key in FACTS:
        if draw(st.booleans()):
            facts[key] = draw(fact_value(key, junk=junk))
    return facts


def build_facts(base: dict[str, object], case: dict[str, object]) -> dict[str, object]:
    """Apply a case's ``facts``/``unset``/``null`` to the suite's base facts."""
    facts = dict(base)
    facts.update(case.get("facts", {}))  # type: ignore[arg-type]
    for key in case.get("unset", []):  # type: ignore[attr-defined]
        facts.pop(key, None)
    for key in case.get("null", []):  # type: ignore[attr-defined]
        facts[key] = None
    return facts
