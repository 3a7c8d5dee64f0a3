"""The vocabulary of case facts that criteria may refer to, and how to read them.

The service hands :func:`criteria.evaluate` a flat mapping with dotted keys
(``"child.age"``, ``"last_seen.at"``, ...). This module is the single list of
keys a profile may mention, with each key's kind and the words used for it in
reasons. Profiles are checked against it at load time, so a typo in a field
name is a load error rather than a criterion that is silently never met.

Reading a fact never raises: a missing key or ``None`` reads as *missing*, and
a value of the wrong type (say, a string where an age is expected) reads as
*unusable*. Both lead to an UNKNOWN verdict upstream. Reasons built from the
labels here never quote free text, because reasons are stored and audited and
must not carry the child's name or other personal details.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from numbers import Real
from types import MappingProxyType


class FactKind(StrEnum):
    """The type of value a fact holds; decides which rules may use it."""

    BOOL = "bool"
    INTEGER = "integer"
    NUMBER = "number"
    TEXT = "text"
    CHOICE = "choice"
    DATETIME = "datetime"


NUMERIC_KINDS = frozenset({FactKind.INTEGER, FactKind.NUMBER})


@dataclass(frozen=True)
class FactSpec:
    """One known fact key: its kind and the human words used in reasons.

    ``label`` is a noun phrase that starts a sentence ("Child's age").
    Boolean facts carry the three sentences a supervisor reads: when the fact
    is true, false, or not known. Numeric facts may carry plausibility bounds
    (``low``/``high``, inclusive): a value outside them is a data error and
    reads as unusable, so a negative age can never satisfy "17 or under".
    """

    key: str
    kind: FactKind
    label: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    true_text: str = ""
    false_text: str = ""
    unknown_text: str = ""


def _bool(key: str, label: str, true_text: str, false_text: str, unknown_text: str) -> FactSpec:
    return FactSpec(key, FactKind.BOOL, label, true_text=true_text, false_text=false_text, unknown_text=unknown_text)


FACTS: Mapping[str, FactSpec] = MappingProxyType(
    {
        spec.key: spec
        for spec in (
            FactSpec("child.age", FactKind.INTEGER, "Child's age", low=0),
            FactSpec("child.sex", FactKind.CHOICE, "Child's recorded sex", choices=("f", "m", "x")),
            FactSpec("child.name", FactKind.TEXT, "Child's name"),
            FactSpec("child.description", FactKind.TEXT, "Description of the child"),
            FactSpec("last_seen.lat", FactKind.NUMBER, "Last-seen latitude", low=-90, high=90),
            FactSpec("last_seen.lon", FactKind.NUMBER, "Last-seen longitude", low=-180, high=180),
            FactSpec("last_seen.place", FactKind.TEXT, "Last-seen place"),
            FactSpec("last_seen.at", FactKind.DATETIME, "Last sighting"),
            _bool(
                "circumstances.abduction_suspected",
                "Suspicion of abduction",
                "Abduction is suspected.",
                "Abduction is not suspected.",
                "Not known whether abduction is suspected.",
            ),
            _bool(
                "circumstances.abduction_witnessed",
                "Witnessed abduction",
                "The abduction was witnessed.",
                "No abduction was witnessed.",
                "Not known whether an abduction was witnessed.",
            ),
            _bool(
                "circumstances.imminent_danger",
                "Imminent danger",
                "The child is believed to be in imminent danger of serious harm or death.",
                "The child is not believed to be in imminent danger.",
                "Not known whether the child is in imminent danger.",
            ),
            _bool(
                "circumstances.medical_or_disability",
                "Medical need or disability",
                "The child has a medical need or disability that raises the risk.",
                "No medical need or disability is reported.",
                "Not known whether the child has a medical need or disability.",
            ),
            FactSpec("circumstances.suspect", FactKind.TEXT, "Suspect description"),
            FactSpec("circumstances.vehicle", FactKind.TEXT, "Vehicle description"),
            FactSpec("circumstances.plate", FactKind.TEXT, "Vehicle plate"),
            _bool(
                "police.confirmed",
                "Police confirmation",
                "Police have confirmed the report.",
                "Police have not confirmed the report.",
                "Not known whether police have confirmed the report.",
            ),
            FactSpec("police.reference", FactKind.TEXT, "Police case reference"),
        )
    }
)


class ReadState(StrEnum):
    """Outcome of reading one fact from the service's mapping."""

    KNOWN = "known"
    MISSING = "missing"
    UNUSABLE = "unusable"


@dataclass(frozen=True)
class Reading:
    """A fact value as read: ``value`` is meaningful only when ``state`` is KNOWN."""

    state: ReadState
    value: object = None


_MISSING = Reading(ReadState.MISSING)
_UNUSABLE = Reading(ReadState.UNUSABLE)


def read_fact(facts: Mapping[str, object], key: str) -> Reading:
    """Read ``key`` from ``facts`` according to its declared kind, never raising.

    Text is returned stripped (an all-blank string is KNOWN and empty).
    Datetimes may be given as aware ``datetime`` objects or ISO 8601 strings
    with an offset; naive times are UNUSABLE because "hours since" would be
    ambiguous.
    """
    raw = facts.get(key)
    if raw is None:
        return _MISSING
    spec = FACTS[key]
    value = _coerce(spec, raw)
    return _UNUSABLE if value is None else Reading(ReadState.KNOWN, value)


def _coerce(spec: FactSpec, raw: object) -> object | None:
    """Return the usable value for ``raw`` or ``None`` when it has the wrong shape."""
    kind = spec.kind
    if kind is FactKind.BOOL:
        return raw if isinstance(raw, bool) else None
    if kind in NUMERIC_KINDS:
        if isinstance(raw, bool) or not isinstance(raw, Real):
            return None
        number = float(raw)
        if not math.isfinite(number) or not _within(spec, number):
            return None
        if kind is FactKind.INTEGER:
            return int(number) if number.is_integer() else None
        return int(number) if isinstance(raw, int) else number
    if kind is FactKind.TEXT:
        return raw.strip() if isinstance(raw, str) else None
    if kind is FactKind.CHOICE:
        return raw if isinstance(raw, str) and raw in spec.choices else None
    return _as_aware_datetime(raw)


def _within(spec: FactSpec, number: float) -> bool:
    return (spec.low is None or number >= spec.low) and (spec.high is None or number <= spec.high)


def _as_aware_datetime(raw: object) -> datetime | None:
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw)
        except ValueError:
            return None
    if not isinstance(raw, datetime) or raw.tzinfo is None or raw.utcoffset() is None:
        return None
    return raw
