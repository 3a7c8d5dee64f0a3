"""Cases: open a missing-child report, evaluate it against the active profile, re-evaluate on change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from sqlmodel import Session

import criteria
import geo

from .. import audit, store
from ..errors import Conflict, ValidationFailed
from ..models import Alert, AlertStatus, Case, CaseEvaluation, CaseStatus
from ..runtime import Runtime
from ..schemas import CaseIn, CasePatch
from ..store import alerts as alert_rows
from ..store import cases as case_rows
from ..store import staff as staff_rows
from . import paging
from .common import check_region, get_or_404

SECTIONS = ("child", "last_seen", "circumstances", "police", "reporter")
FUTURE_TOLERANCE = timedelta(minutes=10)


def facts_of(case: Case) -> dict[str, object]:
    """The flat, dotted mapping the criteria engine reads (``child.age``, ``police.confirmed``...)."""
    return facts_from_sections({section: getattr(case, section) for section in SECTIONS})


def facts_from_sections(sections: Mapping[str, Mapping[str, Any] | None]) -> dict[str, object]:
    """``facts_of`` for a case's sections as stored (JSON values: ``last_seen.at`` is an RFC 3339 string)."""
    facts: dict[str, object] = {}
    for section in SECTIONS:
        if section == "reporter":
            continue  # nothing about the reporter decides an alert
        for key, value in (sections.get(section) or {}).items():
            if section == "last_seen" and key == "at" and isinstance(value, str):
                value = datetime.fromisoformat(value)
            facts[f"{section}.{key}"] = value
    return facts


def check_not_future(section: dict[str, Any] | None, now: datetime) -> None:
    at = (section or {}).get("at")
    if at is not None and at > now + FUTURE_TOLERANCE:
        raise ValidationFailed([{"field": "last_seen.at", "message": "lies in the future"}])


def _next_reference(s: Session, now: datetime) -> str:
    return f"RS-{now.year}-{case_rows.next_reference_number(s, now.year):06d}"


def _evaluate(rt: Runtime, s: Session, case: Case, trigger: str, actor: audit.Actor) -> CaseEvaluation:
    now = rt.clock.now()
    result = criteria.evaluate(rt.active_profile, facts_of(case), now=now)
    row = CaseEvaluation(
        case_id=case.id, case_revision=case.revision, profile=result.profile, version=result.version,
        met=result.met, results=[r.to_dict() if hasattr(r, "to_dict") else
                                 {"criterion": r.criterion, "verdict": str(r.verdict), "reason": r.reason}
                                 for r in result.results],
        trigger=trigger, evaluated_at=now, evaluated_by=actor.id,
    )
    case_rows.add(s, row)
    audit.record(s, actor, "case.evaluated", object_type="case", object_id=case.id, case_id=case.id, now=now,
                 details={"profile": result.profile, "version": result.version, "met": result.met,
                          "trigger": trigger, "case_revision": case.revision,
                          "verdicts": {r.criterion: str(r.verdict) for r in result.results}})
    return row


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True) if model is not None else {}


def open_case(rt: Runtime, actor: audit.Actor, data: CaseIn) -> str:
    now = rt.clock.now()
    check_not_future(data.last_seen.model_dump(), now)
    with store.write(rt) as s:
        sections = {section: _dump(getattr(data, section)) for section in SECTIONS}
        case = Case(reference=_next_reference(s, now), created_by=actor.id or 0, created_at=now, updated_at=now,
                    child=sections["child"], last_seen=sections["last_seen"],
                    circumstances=sections["circumstances"], police=sections["police"],
                    reporter=sections["reporter"])
        case_rows.add(s, case)
        audit.record(s, actor, "case.opened", object_type="case", object_id=case.id, case_id=case.id, now=now,
                     details={"reference": case.reference,
                              "fields": sorted(f"{sec}.{k}" for sec in SECTIONS for k in getattr(case, sec))})
        _evaluate(rt, s, case, "opened", actor)
        return case.id


class StaleRevision(Conflict):
    """The facts were changed by someone else since the editor loaded them (``expected_revision``)."""
    type, title = "stale-revision", "The case changed meanwhile"


def update_case(rt: Runtime, actor: audit.Actor, case_id: str, patch: CasePatch,
                expected_revision: int | None = None) -> str:
    """Change a case's facts and evaluate it again. With ``expected_revision`` (the console's edit page: the
    revision the form was filled from), a case changed since is refused (``StaleRevision``), compared under the
    case's row lock, so no edit slips in between."""
    now = rt.clock.now()
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise ValidationFailed([{"field": "body", "message": "no field to change"}])
    if patch.last_seen is not None:
        check_not_future(patch.last_seen.model_dump(exclude_unset=True), now)
    with store.write(rt) as s:
        case = lock_case(s, case_id)
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is {case.status}; only open cases can change")
        if expected_revision is not None and case.revision != expected_revision:
            raise StaleRevision(f"case {case.reference} is at revision {case.revision}, "
                                f"not {expected_revision}: someone changed it meanwhile")
        changed: list[str] = []
        for section, values in changes.items():
            if values is None:
                continue
            merged = dict(getattr(case, section) or {})
            for key, value in values.items():
                if merged.get(key) != value:
                    changed.append(f"{section}.{key}")
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if section == "child" and "age" not in merged:
                raise ValidationFailed([{"field": "child.age", "message": "cannot be removed"}])
            if section == "last_seen" and not {"lat", "lon", "at"} <= merged.keys():
                raise ValidationFailed([{"field": "last_seen", "message": "lat, lon and at cannot be removed"}])
            setattr(case, section, merged)
        if not changed:
            return case.id
        case.revision += 1
        case.updated_at = now
        case_rows.add(s, case)
        # An active alert keeps publishing the facts as approved; the change is recorded against it so the
        # supervisors see it (the alert's brief lists what differs; an update with ``facts`` publishes it).
        active = alert_rows.active_ids_of_case(s, case.id)
        audit.record(s, actor, "case.updated", object_type="case", object_id=case.id, case_id=case.id, now=now,
                     details={"fields": sorted(changed), "case_revision": case.revision, "active_alerts": active})
        evaluation = _evaluate(rt, s, case, "updated", actor)
        for alert_id in active if not evaluation.met else ():
            audit.record(s, actor, "alert.criteria_no_longer_met", object_type="alert", object_id=alert_id,
                         case_id=case.id, now=now, details={"case_revision": case.revision,
                                                            "profile": evaluation.profile,
                                                            "version": evaluation.version})
        return case.id


def lock_case(s: Session, case_id: str) -> Case:
    return get_or_404(s, Case, case_id, "case", lock=True)


def record_view(rt: Runtime, actor: audit.Actor, case_id: str, what: str = "case") -> None:
    """A read of a case's personal data (the case itself, or an alert with its published facts) is audited:
    who, with which role, which case; never what was shown."""
    with store.write(rt) as s:
        case = get_case(s, case_id)
        audit.record(s, actor, "case.viewed", object_type="case", object_id=case.id, case_id=case.id,
                     now=rt.clock.now(), details={"view": what})


def get_case(s: Session, case_id: str) -> Case:
    return get_or_404(s, Case, case_id, "case")


def evaluations(s: Session, case_id: str) -> list[CaseEvaluation]:
    return case_rows.evaluations(s, case_id)


@dataclass(frozen=True)
class CaseRecord:
    """A case as staff read it: the case, every evaluation (oldest first) and its alerts."""
    case: Case
    evaluations: list[CaseEvaluation]
    alerts: list[Alert]


def read_case(rt: Runtime, case_id: str) -> CaseRecord:
    with store.read(rt) as s:
        case = get_case(s, case_id)
        return CaseRecord(case, case_rows.evaluations(s, case.id), alert_rows.of_case(s, case.id))


def reevaluate(rt: Runtime, actor: audit.Actor, case_id: str, trigger: str = "requested") -> CaseEvaluation:
    """Evaluate again (e.g. against a newly activated profile, or because time has passed)."""
    with store.write(rt) as s:
        case = lock_case(s, case_id)
        return _evaluate(rt, s, case, trigger, actor)


# --- the work queue -------------------------------------------------------------------------------------
CASES_LIST = "cases"  # the cursor's list name


@dataclass(frozen=True)
class EvaluationSummary:
    profile: str
    version: str
    met: bool


@dataclass(frozen=True)
class CaseSummary:
    """One case in a work queue. No personal data but the child's age: the name, description, place and
    reporter are read (and the read audited) through ``read_case``."""
    id: str
    reference: str
    status: str
    opened_at: datetime
    opened_by: str | None
    updated_at: datetime
    closed_at: datetime | None
    revision: int
    child_age: int | None
    district: str | None  # the catalogue region containing the last-seen coordinates
    evaluation: EvaluationSummary | None  # the latest evaluation
    alerts: dict[str, int]  # alerts by status, every status present, and "total"


@dataclass(frozen=True)
class CasePage:
    items: list[CaseSummary]
    next_cursor: str | None  # None on the last page


def district_of(catalogue: geo.RegionCatalogue, lat: float | None, lon: float | None) -> str | None:
    """The region containing (lat, lon) (the first code on a shared border), or None."""
    if lat is None or lon is None:
        return None
    codes = catalogue.regions_intersecting(shapely.Point(lon, lat))
    return codes[0] if codes else None


def list_cases(rt: Runtime, *, statuses: Sequence[str] = (), district: str | None = None, limit: int = 50,
               cursor: str | None = None) -> CasePage:
    """Cases, the most recently opened first, a page of ``limit`` at a time: in ``statuses`` (all when empty),
    last seen in the region ``district`` (a catalogue code; 422 on ``district`` otherwise), after ``cursor`` (the
    previous page's ``next_cursor``; 422 on ``cursor`` when it is not one). Reads no personal data: not audited."""
    paging.check_limit(limit)
    wanted = paging.statuses(CaseStatus, statuses)
    check_region(rt.regions, district)
    after = paging.decode(CASES_LIST, cursor)
    position = (after.at, after.id) if after is not None else None
    picked: list[case_rows.CaseListRow] = []
    with store.read(rt) as s:
        if district is None:
            picked = case_rows.page(s, statuses=wanted, after=position, limit=limit + 1)
        else:  # cases store coordinates: read those inside the district's bounding box, keep those inside it
            bbox = rt.regions[district].geometry.bounds
            scan = 2 * (limit + 1)  # most cases in the box are in the district: usually one read
            while len(picked) <= limit:
                rows = case_rows.page(s, statuses=wanted, after=position, limit=scan, bbox=bbox)
                picked += [r for r in rows if district_of(rt.regions, r.lat, r.lon) == district]
                if len(rows) < scan:
                    break
                position = (rows[-1].created_at, rows[-1].id)
        more = len(picked) > limit
        picked = picked[:limit]
        ids = [r.id for r in picked]
        evaluations = case_rows.latest_evaluations(s, ids)
        alert_counts = alert_rows.status_counts_by_case(s, ids)
        names = staff_rows.usernames(s, {r.created_by for r in picked})
    items = []
    for r in picked:
        counts = {str(st): alert_counts.get(r.id, {}).get(str(st), 0) for st in AlertStatus}
        ev = evaluations.get(r.id)
        items.append(CaseSummary(
            id=r.id, reference=r.reference, status=r.status, opened_at=r.created_at, opened_by=names.get(r.created_by),
            updated_at=r.updated_at, closed_at=r.closed_at, revision=r.revision, child_age=r.child_age,
            district=district_of(rt.regions, r.lat, r.lon),
            evaluation=EvaluationSummary(*ev) if ev is not None else None,
            alerts={**counts, "total": sum(counts.values())}))
    last = picked[-1] if more else None
    next_cursor = paging.encode(CASES_LIST, paging.Position(last.created_at, last.id)) if last is not None else None
    return CasePage(items, next_cursor)
