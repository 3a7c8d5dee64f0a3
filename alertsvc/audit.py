"""Hash-chained audit events.

Each event's ``hash`` is the sha256 of its canonical JSON (which includes the previous event's hash), so
changing, inserting or removing any event breaks every later link. Appends are serialised: a transaction
advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite. Events carry ids, roles, counts, verdicts and
reasons written by the service, never personal data (names, phone numbers, addresses, descriptions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from .models import AuditEvent
from .store import audit as audit_rows

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    id: int | None
    username: str
    role: str


SYSTEM = Actor(None, "system", "system")


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "role": event.role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "case_id": event.case_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(session: Session, actor: Actor, action: str, *, object_type: str, object_id: str,
           now: datetime, case_id: str | None = None, details: Mapping[str, Any] | None = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    audit_rows.lock_chain(session)
    prev = audit_rows.last_hash(session)
    event = AuditEvent(
        at=now, actor_id=actor.id, actor=actor.username, role=actor.role, action=action,
        object_type=object_type, object_id=str(object_id), case_id=case_id,
        details=json.loads(json.dumps(dict(details or {}), default=str)), prev_hash=prev or GENESIS, hash="",
    )
    event.hash = compute_hash(event)
    audit_rows.append(session, event)
    return event


def events(session: Session, *, case_id: str | None = None, after_id: int = 0,
           limit: int = 1000) -> list[AuditEvent]:
    return audit_rows.events(session, case_id=case_id, after_id=after_id, limit=limit)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    problem: str | None = None


def _stream(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        found = audit_rows.events(session, after_id=last, limit=batch)
        if not found:
            return
        yield from found
        last = found[-1].id or last


def verify_chain(rows: Iterable[AuditEvent]) -> ChainReport:
    prev = GENESIS
    n = 0
    for event in rows:
        n += 1
        if event.prev_hash != prev:
            return ChainReport(False, n, event.id, "prev_hash does not match the previous event's hash")
        if compute_hash(event) != event.hash:
            return ChainReport(False, n, event.id, "hash does not match the event's content")
        prev = event.hash
    return ChainReport(True, n)


def verify(session: Session) -> ChainReport:
    return verify_chain(_stream(session))
