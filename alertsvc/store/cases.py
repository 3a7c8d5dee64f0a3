"""Cases and their evaluations: reads, locks, the yearly reference counter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..models import Case, CaseEvaluation, CaseStatus, ReferenceCounter
from . import get, keyset

CASES: sa.Table = Case.__table__  # type: ignore[attr-defined]
EVALUATIONS: sa.Table = CaseEvaluation.__table__  # type: ignore[attr-defined]


def get_case(s: Session, case_id: str, *, lock: bool = False) -> Case | None:
    return get(s, Case, case_id, lock=lock)


def add(s: Session, row: Case | CaseEvaluation) -> None:
    s.add(row)
    s.flush()


def next_reference_number(s: Session, year: int) -> int:
    """The next number of ``year``'s counter (the first of a year starts it at 1)."""
    updated = s.execute(
        sa.update(ReferenceCounter).where(col(ReferenceCounter.year) == year)
        .values(last=col(ReferenceCounter.last) + 1).returning(col(ReferenceCounter.last))
    ).scalar()
    if updated is None:
        s.add(ReferenceCounter(year=year, last=1))
        s.flush()
        updated = 1
    return int(updated)


def evaluations(s: Session, case_id: str) -> list[CaseEvaluation]:
    return list(s.exec(select(CaseEvaluation).where(CaseEvaluation.case_id == case_id)
                       .order_by(col(CaseEvaluation.id))))


def latest_evaluation(s: Session, case_id: str) -> CaseEvaluation | None:
    return s.exec(select(CaseEvaluation).where(CaseEvaluation.case_id == case_id)
                  .order_by(col(CaseEvaluation.id).desc()).limit(1)).first()


def editors(s: Session, case_id: str, after_revision: int, upto_revision: int | None = None) -> set[int]:
    """Who changed the case's facts in revisions ``after_revision + 1 .. upto_revision``."""
    q = select(CaseEvaluation.evaluated_by).where(CaseEvaluation.case_id == case_id,
                                                  CaseEvaluation.trigger == "updated",
                                                  col(CaseEvaluation.case_revision) > after_revision)
    if upto_revision is not None:
        q = q.where(col(CaseEvaluation.case_revision) <= upto_revision)
    return {i for i in s.exec(q).all() if i is not None}


def due_for_purge(s: Session, cutoff: datetime) -> list[Case]:
    """Closed cases not purged yet, closed at or before ``cutoff``, row-locked."""
    return list(s.exec(select(Case).where(Case.status == CaseStatus.CLOSED, col(Case.closed_at) <= cutoff,
                                          col(Case.purged_at).is_(None)).with_for_update()).all())


def count(s: Session) -> int:
    """How many cases the database holds (any status)."""
    return int(s.exec(select(sa.func.count()).select_from(Case)).one())


@dataclass(frozen=True)
class CaseListRow:
    """What a list of cases shows of one (no personal data but the age; the last-seen coordinates place it)."""
    id: str
    reference: str
    status: str
    created_at: datetime
    created_by: int
    updated_at: datetime
    closed_at: datetime | None
    revision: int
    child_age: int | None
    lat: float | None
    lon: float | None


def page(s: Session, *, statuses: Sequence[str], after: tuple[datetime, str] | None, limit: int,
         bbox: tuple[float, float, float, float] | None = None) -> list[CaseListRow]:
    """Up to ``limit`` cases in ``statuses`` (all when empty), the most recently opened first, from after the
    position ``after`` (``created_at``, ``id``); with ``bbox`` (min lon, min lat, max lon, max lat) only those last
    seen inside that box."""
    t = CASES
    lat, lon = t.c.last_seen["lat"].as_float(), t.c.last_seen["lon"].as_float()
    q = sa.select(t.c.id, t.c.reference, t.c.status, t.c.created_at, t.c.created_by, t.c.updated_at, t.c.closed_at,
                  t.c.revision, t.c.child["age"].as_integer(), lat, lon)
    if statuses:
        q = q.where(t.c.status.in_(list(statuses)))
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        q = q.where(lat.between(min_lat, max_lat), lon.between(min_lon, max_lon))
    q = keyset(q, t.c.created_at, t.c.id, after, oldest_first=False).limit(limit)
    return [CaseListRow(*row) for row in s.connection().execute(q)]


def latest_evaluations(s: Session, case_ids: Sequence[str]) -> dict[str, tuple[str, str, bool]]:
    """(profile, version, met) of each case's latest evaluation: one query for them all."""
    if not case_ids:
        return {}
    e = EVALUATIONS
    last = (sa.select(sa.func.max(e.c.id).label("id")).where(e.c.case_id.in_(list(case_ids)))
            .group_by(e.c.case_id).subquery())
    rows = s.connection().execute(sa.select(e.c.case_id, e.c.profile, e.c.version, e.c.met)
                                  .join(last, last.c.id == e.c.id))
    return {case_id: (profile, version, bool(met)) for case_id, profile, version, met in rows}
