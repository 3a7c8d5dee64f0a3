"""The staff console's alert pages: request an alert for a case (check your answers), the supervisor's decision
screen, the live alert page. Routes on the ``console`` blueprint."""

from __future__ import annotations

from .console import bp  # noqa: F401
