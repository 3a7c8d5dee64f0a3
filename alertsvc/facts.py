"""What the public may know of a case, taken once: the snapshot a supervisor approves and everything public reads.

An alert publishes ``alert.facts`` (set when it is approved, replaced only by an approved update), never the
live case: a change to the case reaches the page, the public API, CAP and the messages only through a second
person's decision. Reporter, police reference and coordinates are never part of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .messages import AlertFacts
from .models import Alert, Case
from .runtime import Runtime

CHILD_FIELDS = ("name", "age", "sex", "description")
CIRCUMSTANCE_FIELDS = ("vehicle", "plate", "suspect")
PURGE_KEEP = ("age", "sex")


def snapshot(case: Case) -> dict[str, Any]:
    """The public facts of ``case`` as it is now (JSON-ready)."""
    child, seen, circ = case.child or {}, case.last_seen or {}, case.circumstances or {}
    return {"reference": case.reference,
            "child": {k: child.get(k) for k in CHILD_FIELDS},
            "last_seen": {"place": seen.get("place"), "at": seen.get("at")},
            **{k: circ.get(k) for k in CIRCUMSTANCE_FIELDS}}


def purged(facts: dict[str, Any] | None) -> dict[str, Any] | None:
    """A snapshot with the personal data gone (the case's purge): reference, age and sex stay."""
    if facts is None:
        return None
    child = facts.get("child") or {}
    return {"reference": facts.get("reference"), "child": {k: child.get(k) for k in PURGE_KEEP}}


def differences(published: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Dotted names of the public facts that differ between two snapshots."""
    out: list[str] = []
    published = published or {}
    for key in sorted(set(published) | set(current)):
        a, b = published.get(key), current.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a or {}, b or {}
            out += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            out.append(key)
    return out


def message_facts(rt: Runtime, alert: Alert, facts: dict[str, Any], *, update_text: str | None = None,
                  outcome: str | None = None) -> AlertFacts:
    """The renderer's input for one message of ``alert`` from a published snapshot."""
    child, seen = facts.get("child") or {}, facts.get("last_seen") or {}
    at = seen.get("at")
    return AlertFacts(
        reference=str(facts.get("reference") or ""), child_name=child.get("name"), age=int(child.get("age") or 0),
        sex=child.get("sex"), description=child.get("description"), last_seen_place=seen.get("place"),
        last_seen_at=datetime.fromisoformat(at) if isinstance(at, str) else (at or alert.requested_at),
        vehicle=facts.get("vehicle"), plate=facts.get("plate"), suspect=facts.get("suspect"),
        area_name=", ".join(rt.regions[c].name for c in alert.territories if c in rt.regions) or None,
        link=f"{rt.settings.server.base_url}/alerts/{alert.id}",
        update_text=update_text, outcome=outcome, custom_text=alert.message_text)
