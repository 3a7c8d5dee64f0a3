"""Keyset paging: a page ends with an opaque cursor naming the position of its last item (its sort time and id),
and the next page starts strictly after it, so rows arriving meanwhile never shift, repeat or skip a page."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from ..errors import ValidationFailed

MAX_LIMIT = 200
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last item's sort time and id (the tie-breaker)."""
    at: datetime
    id: str


def _invalid(why: str) -> ValidationFailed:
    return ValidationFailed([{"field": "cursor", "message": why}])


def encode(kind: str, position: Position) -> str:
    """The cursor after ``position`` in the list ``kind`` (e.g. ``"cases"``, ``"alerts:oldest"``)."""
    raw = json.dumps([kind, position.at.isoformat(), position.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, cursor: str | None) -> Position | None:
    """The position a cursor of the list ``kind`` names (None without one); ``ValidationFailed`` on the field
    ``cursor`` when it is not one this service issued for that list."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_kind, at_text, key = json.loads(raw)
        at = datetime.fromisoformat(at_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise _invalid("is not a cursor of this list") from None
    if not isinstance(got_kind, str) or not isinstance(key, str) or at.tzinfo is None:
        raise _invalid("is not a cursor of this list")
    if got_kind != kind:
        raise _invalid(f"belongs to another list or order ({got_kind}), not {kind}")
    return Position(at, key)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed([{"field": "limit", "message": f"must be between 1 and {MAX_LIMIT}"}])
    return limit


def statuses(kind: type[E], values: Iterable[str], field: str = "status") -> list[E]:
    """``values`` as statuses of ``kind`` (deduplicated, in order), or a 422 naming ``field``."""
    out: list[E] = []
    for value in values:
        try:
            status = kind(value)
        except ValueError:
            raise ValidationFailed([{"field": field, "message": f"{value!r} is not one of "
                                                                f"{', '.join(kind)}"}]) from None
        if status not in out:
            out.append(status)
    return out
