"""Domain errors raised by services and rendered once, as problem+json, by ``api/errors.py``.

    DomainError                      status, type slug, title, detail
    ├── BadRequest (400)             malformed body
    ├── ValidationFailed (422)       field errors: [{"field": "child.age", "message": ...}]
    ├── Unauthorized (401)
    ├── Forbidden (403)
    │   └── FourEyesViolation (403)
    ├── NotFound (404)
    ├── Conflict (409)
    │   └── CriteriaNotMet (409)     lists the unmet criteria
    └── TooManyRequests (429)
        └── FatigueLimitReached (429)  names the limit and territory, with Retry-After
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any


class DomainError(Exception):
    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, extra: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class BadRequest(DomainError):
    status, type, title = 400, "bad-request", "Bad request"


MAX_LISTED_ERRORS = 50  # a problem lists at most this many field errors; ``error_count`` counts them all


class ValidationFailed(DomainError):
    """422 with ``errors`` (the first ``MAX_LISTED_ERRORS``) and ``error_count`` (all of them: ``count`` when the
    caller listed only the first few, else ``len(errors)``); ``self.errors`` keeps every one it was given."""
    status, type, title = 422, "validation-failed", "Invalid fields"

    def __init__(self, errors: Sequence[Mapping[str, str]], detail: str | None = None, *,
                 count: int | None = None) -> None:
        every: list[dict[str, str]] = [dict(e) for e in errors]
        n = max(count or 0, len(every))
        listed = every[:MAX_LISTED_ERRORS]
        if detail is None:
            detail = f"{n} field{'s' if n != 1 else ''} invalid: " + ", ".join(e["field"] for e in listed)
            if n > len(listed):
                detail += f" and {n - len(listed)} more (the first {len(listed)} are listed)"
        super().__init__(detail, extra={"errors": listed, "error_count": n})
        self.errors = every


class Unauthorized(DomainError):
    status, type, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="alertsvc"'})


class Forbidden(DomainError):
    status, type, title = 403, "forbidden", "Forbidden"

    def __init__(self, detail: str, *, actor: Any = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.actor = actor  # the signed-in staff member who was refused (an ``audit.Actor``), when known


class FourEyesViolation(Forbidden):
    type, title = "four-eyes", "Four-eyes rule"


class NotFound(DomainError):
    status, type, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, type, title = 409, "conflict", "Conflict with the current state"


class CriteriaNotMet(Conflict):
    type, title = "criteria-not-met", "The case does not meet the active criteria profile"


class TooManyRequests(DomainError):
    status, type, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after: timedelta | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(max(1, int(retry_after.total_seconds() + 0.999)))
        super().__init__(detail, extra=extra, headers=headers)


class FatigueLimitReached(TooManyRequests):
    type, title = "fatigue-limit", "Alert fatigue limit reached"
