"""Staff accounts and bearer tokens (argon2 password hashes; tokens stored as sha256, revocable)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from .. import audit
from ..db import transaction
from ..errors import Conflict, Unauthorized, ValidationFailed
from ..models import ApiToken, Role, Staff
from ..runtime import Runtime

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(rt: Runtime, username: str, role: str, password: str) -> Staff:
    problems = []
    if not USERNAME_RE.match(username):
        problems.append({"field": "username", "message": "2-64 characters: lowercase letters, digits, . _ -"})
    if role not in set(Role):
        problems.append({"field": "role", "message": "must be operator, supervisor or admin"})
    if len(password) < rt.settings.security.password_min_length:
        problems.append({"field": "password",
                         "message": f"must be at least {rt.settings.security.password_min_length} characters"})
    if problems:
        raise ValidationFailed(problems)
    with transaction(rt.engine) as s:
        if s.exec(select(Staff).where(Staff.username == username)).first():
            raise Conflict(f"user {username!r} already exists")
        user = Staff(username=username, role=role, password_hash=rt.password_hasher.hash(password))
        s.add(user)
        s.flush()
        audit.record(s, audit.SYSTEM, "staff.created", object_type="staff", object_id=str(user.id),
                     now=rt.clock.now(), details={"username": username, "role": role})
    return user


def issue_token(rt: Runtime, username: str, password: str) -> IssuedToken:
    """Exchange a password for a bearer token. The error never says whether the username exists."""
    with transaction(rt.engine) as s:
        user = s.exec(select(Staff).where(Staff.username == username)).first()
        stored = user.password_hash if user and user.active else rt.dummy_password_hash
        try:
            rt.password_hasher.verify(stored, password)
            ok = user is not None and user.active
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None:
            raise Unauthorized("Invalid username or password.")
        if rt.password_hasher.check_needs_rehash(user.password_hash):
            user.password_hash = rt.password_hasher.hash(password)
        now = rt.clock.now()
        token = secrets.token_urlsafe(32)
        expires = now + timedelta(minutes=rt.settings.security.token_ttl_minutes)
        s.add(ApiToken(token_hash=_token_hash(token), staff_id=user.id, created_at=now, expires_at=expires))
        audit.record(s, audit.Actor(user.id, user.username, user.role), "token.issued",
                     object_type="staff", object_id=str(user.id), now=now)
    return IssuedToken(token, expires)


def authenticate(session: Session, token: str, now: datetime) -> Staff | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(Staff, row.staff_id)
    return user if user is not None and user.active else None


def revoke_token(rt: Runtime, token: str, actor: audit.Actor) -> None:
    with transaction(rt.engine) as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
        if row is not None and row.revoked_at is None:
            row.revoked_at = rt.clock.now()
            audit.record(s, actor, "token.revoked", object_type="staff", object_id=str(row.staff_id),
                         now=rt.clock.now())


def revoke_all(rt: Runtime, username: str) -> int:
    """Revoke every live token of a user (CLI: staff member leaves or a device is lost)."""
    with transaction(rt.engine) as s:
        user = s.exec(select(Staff).where(Staff.username == username)).first()
        if user is None:
            raise Conflict(f"no user {username!r}")
        now = rt.clock.now()
        rows = s.exec(select(ApiToken).where(ApiToken.staff_id == user.id, ApiToken.revoked_at == None)).all()
        for row in rows:
            row.revoked_at = now
        audit.record(s, audit.SYSTEM, "token.revoked_all", object_type="staff", object_id=str(user.id),
                     now=now, details={"count": len(rows)})
        return len(rows)
