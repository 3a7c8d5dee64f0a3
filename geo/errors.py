"""The library's own error types.

Every validation error carries *all* the problems found (not only the first),
each with a dotted ``field`` path (``area.circle.radius_km``,
``area.polygon.coordinates[0]``, ``area.regions[1]``...) and a human
``message``, so that an API layer can map them onto a response body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MAX_REPORTED_PROBLEMS", "AreaError", "CatalogueError", "GeoError", "Problem"]

#: At most this many problems are reported; further ones are summarised in one
#: last problem so that hostile input cannot produce an unbounded error body.
MAX_REPORTED_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    """One validation problem: where (``field``) and what (``message``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class GeoError(ValueError):
    """Base class for the errors raised by :mod:`geo`; holds a list of problems."""

    problems: tuple[Problem, ...]

    def __init__(self, problems: Iterable[Problem]) -> None:
        items = tuple(problems)
        if not items:
            raise TypeError(f"{type(self).__name__} needs at least one problem")
        if len(items) > MAX_REPORTED_PROBLEMS:
            extra = len(items) - MAX_REPORTED_PROBLEMS
            items = items[:MAX_REPORTED_PROBLEMS] + (
                Problem(items[MAX_REPORTED_PROBLEMS].field, f"... and {extra} more problem(s)"),
            )
        self.problems = items
        super().__init__("; ".join(str(p) for p in items))

    @property
    def fields(self) -> tuple[str, ...]:
        """The ``field`` of every problem, in the order found."""
        return tuple(p.field for p in self.problems)


class AreaError(GeoError):
    """An area (alert or subscription) is invalid."""


class CatalogueError(GeoError):
    """A region catalogue file is invalid; fields look like ``features[3].properties.code``."""
