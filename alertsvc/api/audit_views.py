"""GET /audit: the hash-chained events, in order (supervisor, admin)."""

from __future__ import annotations

from .. import audit
from ..context import runtime
from ..models import Role
from ..schemas import AuditEventOut, AuditQuery
from ..services import audit_trail as audit_service
from .blueprint import bp
from .registry import endpoint


@endpoint(bp, "/audit", "GET", summary="Audit events in order, optionally for one case", tag="audit",
          roles=(Role.SUPERVISOR, Role.ADMIN), query=AuditQuery, responses={200: list[AuditEventOut]})
def list_audit(actor: audit.Actor, query: AuditQuery) -> list[AuditEventOut]:
    rows = audit_service.events(runtime(), case_id=query.case_id, after_id=query.after_id, limit=query.limit)
    return [AuditEventOut.model_validate(r, from_attributes=True) for r in rows]
