"""Staff accounts, sign-in failure counters and bearer tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ..db import UTCDateTime
from ..models import ApiToken, LoginFailure, Staff

STAFF: sa.Table = Staff.__table__  # type: ignore[attr-defined]
LOGIN_FAILURES: sa.Table = LoginFailure.__table__  # type: ignore[attr-defined]


def _typed(value: Any, type_: sa.types.TypeEngine[Any]) -> Any:
    return sa.literal(value, type_)


def _at(value: datetime) -> Any:
    return _typed(value, UTCDateTime())


def get(s: Session, staff_id: int) -> Staff | None:
    return s.get(Staff, staff_id)


def by_username(s: Session, username: str) -> Staff | None:
    return s.exec(select(Staff).where(Staff.username == username)).first()


def add(s: Session, row: Staff | ApiToken) -> None:
    s.add(row)
    s.flush()


def usernames(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: u for i, u in s.exec(select(Staff.id, Staff.username).where(col(Staff.id).in_(ids))).all()
            if i is not None}


def login_failure(s: Session, key_hash: str) -> LoginFailure | None:
    return s.get(LoginFailure, key_hash)


def count_account_failure(s: Session, staff_id: int, now: datetime, cutoff: datetime, max_failures: int,
                          until: datetime) -> int:
    """One more wrong password for an account, atomically (the count restarts after ``cutoff``); the account
    locks until ``until`` once ``max_failures`` is reached. Returns the count."""
    t = STAFF
    restart = sa.and_(t.c.last_failed_at.is_not(None), t.c.last_failed_at < _at(cutoff))
    count = sa.case((restart, 1), else_=t.c.failed_logins + 1)
    stmt = (sa.update(t).where(t.c.id == staff_id)
            .values(failed_logins=count, last_failed_at=_at(now),
                    locked_until=sa.case((count >= max_failures, _at(until)), else_=t.c.locked_until))
            .returning(t.c.failed_logins))
    return int(s.connection().execute(stmt).scalar_one())


def count_unknown_failure(s: Session, key_hash: str, now: datetime, cutoff: datetime, max_failures: int,
                          until: datetime) -> int:
    """The same for a username that is not an account (keyed by an HMAC of the name); names nobody has tried
    since ``cutoff`` and not locked are forgotten on the way. Returns the count."""
    conn = s.connection()
    t = LOGIN_FAILURES
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(t)
    count = sa.case((t.c.last_failed_at < _at(cutoff), 1), else_=t.c.failed_logins + 1)
    stmt = (insert.values(key_hash=key_hash, failed_logins=1, last_failed_at=now,
                          locked_until=until if max_failures <= 1 else None)
            .on_conflict_do_update(index_elements=[t.c.key_hash], set_={
                "failed_logins": count, "last_failed_at": _at(now),
                "locked_until": sa.case((count >= max_failures, _at(until)), else_=t.c.locked_until)})
            .returning(t.c.failed_logins))
    conn.execute(sa.delete(t).where(t.c.last_failed_at < _at(cutoff), t.c.key_hash != key_hash,
                                    sa.or_(t.c.locked_until.is_(None), t.c.locked_until < _at(now))))
    return int(conn.execute(stmt).scalar_one())


def clear_failures_unless_locked(s: Session, staff_id: int, now: datetime) -> bool:
    """Reset the account's failure count, unless a lock is in force at ``now``: True when reset."""
    t = STAFF
    cleared = s.connection().execute(
        sa.update(t).where(t.c.id == staff_id, sa.or_(t.c.locked_until.is_(None), t.c.locked_until <= _at(now)))
        .values(failed_logins=0, last_failed_at=None, locked_until=None)).rowcount
    return cleared == 1


def set_password_hash(s: Session, staff_id: int, password_hash: str) -> None:
    t = STAFF
    s.connection().execute(sa.update(t).where(t.c.id == staff_id).values(password_hash=password_hash))


def token(s: Session, token_hash: str) -> ApiToken | None:
    return s.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def live_tokens(s: Session, staff_id: int) -> list[ApiToken]:
    return list(s.exec(select(ApiToken).where(ApiToken.staff_id == staff_id,
                                              col(ApiToken.revoked_at).is_(None))).all())


def all_usernames(s: Session) -> set[str]:
    return set(s.exec(select(Staff.username)).all())
