"""Staff accounts and bearer tokens (argon2 password hashes; tokens stored as sha256, revocable).

The sign-in rules live here, for the API and any later sign-in page alike: weak passwords are refused
(``password_problem``), consecutive wrong passwords lock an account (``issue_token``), every failure is audited."""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from .. import audit, store
from ..errors import Conflict, TooManyRequests, Unauthorized, ValidationFailed
from ..models import ApiToken, Role, Staff
from ..runtime import Runtime
from ..store import staff as staff_rows

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
BAD_CREDENTIALS = "Invalid username or password."
LOCKED = "Too many wrong passwords: sign-in is locked for a while; try again later."
# A wrong password more than this long after the previous one starts a new count (for accounts and for unknown
# usernames alike, so the two cannot be told apart by waiting).
FAILURE_MEMORY = timedelta(days=1)
ANONYMOUS = audit.Actor(None, "anonymous", "public")  # whoever typed the password: not signed in
SEQUENCES = ("0123456789", "1234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "qwertzuiop",
             "asdfghjkl", "zxcvbnm", "yxcvbnm")


class SignInLocked(TooManyRequests):
    type, title = "sign-in-locked", "Sign-in temporarily locked"


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
    weak = password_problem(password, username, rt.settings.security.password_min_length)
    if weak:
        problems.append({"field": "password", "message": weak})
    if problems:
        raise ValidationFailed(problems)
    with store.write(rt) as s:
        if staff_rows.by_username(s, username):
            raise Conflict(f"user {username!r} already exists")
        user = Staff(username=username, role=Role(role), password_hash=rt.password_hasher.hash(password))
        staff_rows.add(s, user)
        audit.record(s, audit.SYSTEM, "staff.created", object_type="staff", object_id=str(user.id),
                     now=rt.clock.now(), details={"username": username, "role": role})
    return user


def _is_sequence(text: str) -> bool:
    """abcdef, 654321, 1234567890, qwertyuiop...: every step the same +1 or -1, or a run along a known row."""
    t = text.lower()
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(t)}
    if len(steps) == 1 and steps <= {1, -1}:
        return True
    return any(t in row or t in row[::-1] for row in SEQUENCES)


def _guessability(password: str, username: str) -> str | None:
    """zxcvbn's verdict: None when it scores 3 or 4 (of 4), else a short reason."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[username])  # zxcvbn slows down on very long input
    if result["score"] >= 3:
        return None
    warning = (result.get("feedback") or {}).get("warning") or ""
    if "common" in warning.lower() or "top-" in warning.lower():
        return "a common password"
    if "repeat" in warning.lower():
        return "repeated characters or words"
    if "sequence" in warning.lower():
        return "a sequence"
    if warning:
        return warning.rstrip(".")[0].lower() + warning.rstrip(".")[1:]
    return "short or predictable"


def password_problem(password: str, username: str, min_length: int) -> str | None:
    """Why a staff password is refused (a message for the ``password`` field), or None when it is good enough.

    Refused: blank, shorter than ``min_length`` without the spaces at its ends, one character repeated, a
    sequence (1234567890, abcdefghij, qwertyuiop), the username inside it, and whatever zxcvbn scores below 3 of
    4 (common passwords and their variants, dictionary words with digits, keyboard patterns...)."""
    stripped = password.strip()
    if not stripped:
        return "must not be blank"
    if len(stripped) < min_length:
        return f"must be at least {min_length} characters (not counting spaces at the ends); use a longer phrase"
    if len(set(stripped)) == 1:
        return "too easy to guess (one character repeated); use a longer phrase"
    if _is_sequence(stripped):
        return "too easy to guess (a sequence); use a longer phrase"
    if len(username) >= 3 and username.lower() in password.lower():
        return "must not contain the username"
    reason = _guessability(password, username)
    if reason:
        return f"too easy to guess ({reason}); use a longer phrase"
    return None


def _lock_check(rt: Runtime, username: str, now: datetime) -> tuple[Staff | None, str, datetime | None]:
    """The account (None when the username is not one), the HMAC key of the name, and the lock in force."""
    key = rt.keyed_hash("login", username)
    with store.read(rt) as s:
        user = staff_rows.by_username(s, username)
        if user is not None:
            locked = user.locked_until
        else:
            row = staff_rows.login_failure(s, key)
            locked = row.locked_until if row is not None else None
    return user, key, locked if locked is not None and locked > now else None


def _failure_audit(s: Session, user: Staff | None, action: str, now: datetime, **details: Any) -> None:
    """``auth.failed`` / ``auth.locked``: the staff id and role when the account exists; never the typed name."""
    if user is not None:
        details = {"role": user.role, **details}
    else:
        details = {"account": "unknown", **details}
    audit.record(s, ANONYMOUS, action, object_type="staff",
                 object_id=str(user.id) if user is not None else "unknown", now=now, details=details)


def _count_failure(rt: Runtime, user: Staff | None, key: str, now: datetime, reason: str) -> None:
    """One wrong password, committed on its own (before the 401 goes out): one atomic increment, and a lock once
    ``login_max_failures`` consecutive ones are reached. Audited as ``auth.failed`` (and ``auth.locked``)."""
    sec = rt.settings.security
    until = now + timedelta(minutes=sec.login_lockout_minutes)
    cutoff = now - FAILURE_MEMORY
    with store.write(rt) as s:
        if user is not None:
            failures = staff_rows.count_account_failure(s, user.id or 0, now, cutoff, sec.login_max_failures, until)
        else:
            # forgets unknown names nobody has tried for a while (an account's count restarts the same way)
            failures = staff_rows.count_unknown_failure(s, key, now, cutoff, sec.login_max_failures, until)
        _failure_audit(s, user, "auth.failed", now, reason=reason, failed_logins=failures)
        if failures >= sec.login_max_failures:
            _failure_audit(s, user, "auth.locked", now, failed_logins=failures,
                           locked_minutes=sec.login_lockout_minutes)


def _locked_error(until: datetime, now: datetime) -> SignInLocked:
    return SignInLocked(LOCKED, retry_after=until - now)


def issue_token(rt: Runtime, username: str, password: str, ttl: timedelta | None = None) -> IssuedToken:
    """Exchange a password for a bearer token. The error never says whether the username exists.

    Lockout: after ``security.login_max_failures`` consecutive wrong passwords an account is locked for
    ``security.login_lockout_minutes``; while locked every attempt, even with the right password, gets 429
    (``SignInLocked``, with Retry-After). The count goes back to 0 only with a correct password, so once past the
    limit each further wrong password locks again. Usernames that are not accounts are counted and locked the
    same way (keyed by an HMAC of the name, never the name), so the answers never tell whether an account exists.
    Every failure is audited (``auth.failed``; ``auth.locked`` when it locks), committed before the error."""
    now = rt.clock.now()
    user, key, locked = _lock_check(rt, username, now)
    if locked is not None:
        with store.write(rt) as s:
            _failure_audit(s, user, "auth.failed", now, reason="locked")
        raise _locked_error(locked, now)
    stored = user.password_hash if user is not None and user.active else rt.dummy_password_hash
    try:
        rt.password_hasher.verify(stored, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        reason = "password" if user is None or user.active else "inactive"
        _count_failure(rt, user, key, now, reason)
        raise Unauthorized(BAD_CREDENTIALS)
    assert user.id is not None
    with store.write(rt) as s:
        cleared = staff_rows.clear_failures_unless_locked(s, user.id, now)
        if cleared:
            if rt.password_hasher.check_needs_rehash(user.password_hash):
                staff_rows.set_password_hash(s, user.id, rt.password_hasher.hash(password))
            token = secrets.token_urlsafe(32)
            expires = now + min(ttl or _max_ttl(rt), _max_ttl(rt))
            staff_rows.add(s, ApiToken(token_hash=_token_hash(token), staff_id=user.id, created_at=now,
                                       expires_at=expires))
            audit.record(s, audit.Actor(user.id, user.username, user.role), "token.issued",
                         object_type="staff", object_id=str(user.id), now=now)
    if not cleared:  # wrong passwords sent at the same moment locked the account meanwhile
        with store.read(rt) as s:
            current = staff_rows.get(s, user.id)
            until = current.locked_until if current is not None and current.locked_until else now
        raise _locked_error(max(until, now + timedelta(seconds=1)), now)
    return IssuedToken(token, expires)


def _max_ttl(rt: Runtime) -> timedelta:
    return timedelta(minutes=rt.settings.security.token_ttl_minutes)


@dataclass(frozen=True)
class SignedIn:
    """A console session's token: who it is and until when it holds."""
    actor: audit.Actor
    expires_at: datetime


def session_for_token(rt: Runtime, token: str, idle: timedelta) -> SignedIn | None:
    """Who a console session's token belongs to, sliding its expiry: once less than half of ``idle`` is left it
    is pushed to ``now + idle`` (one write per half period, not one per page), never past ``token_ttl_minutes``
    after sign-in. None: unknown, expired, revoked, or the account is inactive."""
    now = rt.clock.now()
    with store.read(rt) as s:
        row = staff_rows.token(s, _token_hash(token))
        user = _live_user(s, row, now)
        if user is None or row is None:
            return None
        actor, expires = audit.Actor(user.id, user.username, user.role), row.expires_at
    if expires - now < idle / 2:
        expires = extend_token(rt, token, idle) or expires
    return SignedIn(actor, expires)


def extend_token(rt: Runtime, token: str, idle: timedelta) -> datetime | None:
    """Push a live token's expiry to ``now + idle`` (capped at ``token_ttl_minutes`` after it was issued); the
    new expiry, or None when the token is no longer valid."""
    now = rt.clock.now()
    with store.write(rt) as s:
        row = staff_rows.token(s, _token_hash(token))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        row.expires_at = max(row.expires_at, min(now + idle, row.created_at + _max_ttl(rt)))
        return row.expires_at


def authenticate(session: Session, token: str, now: datetime) -> Staff | None:
    return _live_user(session, staff_rows.token(session, _token_hash(token)), now)


def _live_user(session: Session, row: ApiToken | None, now: datetime) -> Staff | None:
    """The active account of a token row that is neither revoked nor expired."""
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = staff_rows.get(session, row.staff_id)
    return user if user is not None and user.active else None


def actor_for_token(rt: Runtime, token: str) -> audit.Actor | None:
    """Who a bearer token belongs to (None: unknown, expired or revoked, or the account is inactive)."""
    with store.read(rt) as s:
        user = authenticate(s, token, rt.clock.now())
        return audit.Actor(user.id, user.username, user.role) if user is not None else None


def revoke_token(rt: Runtime, token: str, actor: audit.Actor) -> None:
    with store.write(rt) as s:
        row = staff_rows.token(s, _token_hash(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = rt.clock.now()
            audit.record(s, actor, "token.revoked", object_type="staff", object_id=str(row.staff_id),
                         now=rt.clock.now())


def revoke_all(rt: Runtime, username: str) -> int:
    """Revoke every live token of a user (CLI: staff member leaves or a device is lost)."""
    with store.write(rt) as s:
        user = staff_rows.by_username(s, username)
        if user is None:
            raise Conflict(f"no user {username!r}")
        now = rt.clock.now()
        rows = staff_rows.live_tokens(s, user.id or 0)
        for row in rows:
            row.revoked_at = now
        audit.record(s, audit.SYSTEM, "token.revoked_all", object_type="staff", object_id=str(user.id),
                     now=now, details={"count": len(rows)})
        return len(rows)
