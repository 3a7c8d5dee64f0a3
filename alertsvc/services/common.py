"""Small helpers shared by the services."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

import geo

from .. import store
from ..errors import NotFound, ValidationFailed

M = TypeVar("M", bound=SQLModel)


def get_or_404(s: Session, model: type[M], key: str, label: str, *, lock: bool = False) -> M:
    """The row with primary key ``key`` (row-locked with ``lock`` on PostgreSQL), or ``NotFound``.
    A locked read always reloads the row: what this session read before the lock may be stale."""
    row = store.get(s, model, key, lock=lock)
    if row is None:
        raise NotFound(f"no {label} with id {key}")
    return row


def parse_area(catalogue: geo.RegionCatalogue, data: dict[str, Any]) -> geo.Area:
    """``geo.parse_area`` with its problems as API field errors under ``area``."""
    try:
        return geo.parse_area(data, catalogue)
    except geo.AreaError as exc:
        raise ValidationFailed([{"field": p.field if p.field.startswith("area") else f"area.{p.field}",
                                 "message": p.message} for p in exc.problems]) from None


def check_region(catalogue: geo.RegionCatalogue, code: str | None, field: str = "district") -> str | None:
    """``code`` when it is a region of the catalogue (None stays None), else a 422 naming ``field``."""
    if code is not None and code not in catalogue:
        raise ValidationFailed([{"field": field, "message": f"{code!r} is not a region code of the catalogue"}])
    return code
