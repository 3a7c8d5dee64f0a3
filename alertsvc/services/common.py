"""Small helpers shared by the services."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

import geo

from ..errors import NotFound, ValidationFailed

M = TypeVar("M", bound=SQLModel)


def get_or_404(s: Session, model: type[M], key: str, label: str, *, lock: bool = False) -> M:
    """The row with primary key ``key`` (row-locked with ``lock`` on PostgreSQL), or ``NotFound``.
    A locked read always reloads the row: what this session read before the lock may be stale."""
    if lock:
        row = s.exec(select(model).where(model.id == key).with_for_update()  # type: ignore[attr-defined]
                     .execution_options(populate_existing=True)).first()
    else:
        row = s.get(model, key)
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
