"""Cases and their evaluations: reads, locks, the yearly reference counter."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..models import Case, CaseEvaluation, CaseStatus, ReferenceCounter
from . import get


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
