"""Small helpers shared by the services."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel, select

from ..errors import NotFound

M = TypeVar("M", bound=SQLModel)


def get_or_404(s: Session, model: type[M], key: str, label: str, *, lock: bool = False) -> M:
    """The row with primary key ``key`` (row-locked with ``lock`` on PostgreSQL), or ``NotFound``."""
    if lock:
        row = s.exec(select(model).where(model.id == key).with_for_update()).first()  # type: ignore[attr-defined]
    else:
        row = s.get(model, key)
    if row is None:
        raise NotFound(f"no {label} with id {key}")
    return row
