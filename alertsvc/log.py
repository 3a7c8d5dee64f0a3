"""Structured JSON logs: one object a line, an event name and ids, never personal data.

Use ``log.info("case.opened", extra={"case_id": ...})``. Only keys in ``SAFE_KEYS`` (ids, counts,
statuses) are written from ``extra``; anything else is dropped, so a careless call cannot leak a name,
phone number, address or message text into the logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

SAFE_KEYS = frozenset({
    "case_id", "alert_id", "subscription_id", "delivery_id", "user_id", "event_id", "audit_id",
    "correlation_id", "status", "method", "path", "endpoint", "attempt", "count", "channel", "kind",
    "duration_ms", "batch", "worker", "provider_id", "role", "action", "error_type", "revision",
    "profile", "version", "job", "territory", "queued", "sent", "failed", "suppressed", "cancelled",
})

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage() if not record.args else record.msg,
            "pid": record.process,  # which gunicorn worker (or dispatch worker) wrote it
        }
        for key, value in vars(record).items():
            if key in _RESERVED or key not in SAFE_KEYS:
                continue
            out[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Route the ``alertsvc`` logger tree to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("alertsvc")
    logger.setLevel(level)
    if not any(getattr(h, "_alertsvc", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._alertsvc = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("alertsvc") else f"alertsvc.{name}")
