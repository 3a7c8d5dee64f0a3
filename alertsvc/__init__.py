"""alertsvc: missing-child alert dispatch with auditable criteria, four-eyes approval and fatigue limits."""

__version__ = "0.1.0"
