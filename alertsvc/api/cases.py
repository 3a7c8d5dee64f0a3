"""Cases: open, read, change (re-evaluates), close."""

from __future__ import annotations

from .. import audit
from ..context import runtime
from ..models import CaseEvaluation, Role
from ..schemas import (
    AlertCountsOut,
    CaseAlertOut,
    CaseCloseIn,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePageOut,
    CasePatch,
    CaseSummaryOut,
    EvaluationOut,
    EvaluationSummaryOut,
)
from ..services import cases, closing
from .blueprint import bp
from .registry import endpoint

STAFF = tuple(Role)


def evaluation_out(row: CaseEvaluation) -> EvaluationOut:
    return EvaluationOut.model_validate(row, from_attributes=True)


def case_out(record: cases.CaseRecord) -> CaseOut:
    case = record.case
    evals = [evaluation_out(e) for e in record.evaluations]
    alert_list = [CaseAlertOut(id=a.id, status=a.status, territories=a.territories, requested_at=a.requested_at,
                               estimated_recipients=a.estimated_recipients) for a in record.alerts]
    return CaseOut(id=case.id, reference=case.reference, status=case.status, child=case.child,
                   last_seen=case.last_seen, circumstances=case.circumstances, police=case.police,
                   reporter=case.reporter, created_at=case.created_at, updated_at=case.updated_at,
                   closed_at=case.closed_at, revision=case.revision, evaluation=evals[-1], evaluations=evals,
                   alerts=alert_list)


def _read(case_id: str) -> CaseOut:
    return case_out(cases.read_case(runtime(), case_id))


@endpoint(bp, "/cases", "POST", summary="Open a missing-child case (evaluated against the active profile)",
          tag="cases", roles=(Role.OPERATOR,), body=CaseIn, responses={201: CaseOut})
def open_case(actor: audit.Actor, body: CaseIn) -> tuple[CaseOut, int, dict[str, str]]:
    case_id = cases.open_case(runtime(), actor, body)
    return _read(case_id), 201, {"Location": f"/api/v1/cases/{case_id}"}


def case_summary_out(item: cases.CaseSummary) -> CaseSummaryOut:
    ev = item.evaluation
    return CaseSummaryOut(
        id=item.id, reference=item.reference, status=item.status, opened_at=item.opened_at, opened_by=item.opened_by,
        updated_at=item.updated_at, closed_at=item.closed_at, revision=item.revision, child_age=item.child_age,
        district=item.district, alerts=AlertCountsOut(**item.alerts),
        evaluation=EvaluationSummaryOut(profile=ev.profile, version=ev.version, met=ev.met) if ev else None)


@endpoint(bp, "/cases", "GET",
          summary="Cases for a work queue, the most recently opened first, a page at a time (no personal data)",
          tag="cases", roles=STAFF, query=CaseListQuery, responses={200: CasePageOut})
def list_cases(actor: audit.Actor, query: CaseListQuery) -> CasePageOut:
    """Filter by ``status`` (repeatable, or comma-separated) and ``district`` (a region code: the district
    containing the case's last-seen coordinates). Keyset paging on (opened time, id): pass ``next_cursor`` back as
    ``cursor``; cases opened meanwhile never shift the following pages. Not an audited read: no names, places or
    descriptions (``GET /cases/{id}`` has them)."""
    page = cases.list_cases(runtime(), statuses=query.status, district=query.district, limit=query.limit,
                            cursor=query.cursor)
    return CasePageOut(items=[case_summary_out(i) for i in page.items], next_cursor=page.next_cursor)


@endpoint(bp, "/cases/<case_id>", "GET", summary="A case with every evaluation and its alerts (an audited read)",
          tag="cases", roles=STAFF, responses={200: CaseOut})
def get_case(actor: audit.Actor, case_id: str) -> CaseOut:
    out = _read(case_id)
    cases.record_view(runtime(), actor, case_id)
    return out


@endpoint(bp, "/cases/<case_id>", "PATCH", summary="Change facts of an open case; it is evaluated again",
          tag="cases", roles=(Role.OPERATOR, Role.SUPERVISOR), body=CasePatch, responses={200: CaseOut},
          errors=(409,))
def patch_case(actor: audit.Actor, case_id: str, body: CasePatch) -> CaseOut:
    cases.update_case(runtime(), actor, case_id, body)
    return _read(case_id)


@endpoint(bp, "/cases/<case_id>/close", "POST",
          summary="Close a case: its active alerts are resolved (closing messages go out), pending ones "
                  "withdrawn; its personal data is purged later",
          tag="cases", roles=(Role.OPERATOR, Role.SUPERVISOR), body=CaseCloseIn, responses={200: CaseOut},
          errors=(409,))
def close_case(actor: audit.Actor, case_id: str, body: CaseCloseIn) -> CaseOut:
    closing.close_case(runtime(), actor, case_id, body.outcome, body.note)
    return _read(case_id)
