"""GET /audit: the hash-chained events, in order (supervisor, admin)."""

from __future__ import annotations

from sqlmodel import Session

from .. import audit
from ..models import Role
from ..schemas import AuditEventOut, AuditQuery
from . import bp
from .registry import endpoint, runtime


@endpoint(bp, "/audit", "GET", summary="Audit events in order, optionally for one case", tag="audit",
          roles=(Role.SUPERVISOR, Role.ADMIN), query=AuditQuery, responses={200: list[AuditEventOut]})
def list_audit(actor: audit.Actor, query: AuditQuery) -> list[AuditEventOut]:
    with Session(runtime().engine) as s:
        rows = audit.events(s, case_id=query.case_id, after_id=query.after_id, limit=query.limit)
        return [AuditEventOut.model_validate(r, from_attributes=True) for r in rows]
