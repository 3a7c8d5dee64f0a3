"""The dispatch worker: claim queued deliveries, record the intent, send, record the outcome.

Guarantee: **at most once**. A delivery is marked ``sending`` and committed *before* the channel is called;
after the call it becomes ``sent`` (with the provider id) or ``failed``/re-queued. A worker that dies between
the provider's acceptance and the status update leaves the row ``sending``; the sweeper marks such rows
``failed`` ("outcome unknown") instead of sending them again. Retries happen only for errors the channel marks
safe to retry (nothing was accepted), with exponential backoff.

Claiming (``alertsvc.store.deliveries.claim``): a fan-out writes its rows with consecutive-ish ids and one
``delivery_batch`` row bracketing them. A worker locks the oldest open batch, takes the next queued rows from the
batch's cursor over the primary key (``FOR UPDATE SKIP LOCKED``), moves them to ``sending`` and advances the
cursor, all in one short transaction. Rows waiting for a retry are claimed first, through a small partial index.
So any number of workers on any number of machines share the queue on PostgreSQL, and a fresh row costs no index
but the primary key; SQLite serialises writers (one worker is the supported setup there).

Every status change goes through ``alertsvc.store.deliveries`` (the delivery state machine); this module decides
(render, send, retry or not) and reports each outcome as a ``SendOutcome``.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from channels import ChannelError, Message

from .. import store
from ..facts import message_facts
from ..log import get_logger
from ..models import Alert, AlertUpdate, DeliveryKind, DeliveryStatus
from ..runtime import Runtime
from ..store import deliveries, recipients
from ..store.deliveries import Claimed, SendOutcome
from ..unsubscribe import unsubscribe_url

__all__ = ["MAX_ATTEMPTS", "STUCK_AFTER", "Claimed", "Dispatcher", "SendOutcome", "claim", "run_worker",
           "sweep_stuck"]

log = get_logger("alertsvc.worker")
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=5)
STUCK_REASON = "outcome unknown: worker stopped mid-send"


def claim(rt: Runtime, limit: int) -> list[Claimed]:
    """Move up to ``limit`` due rows to ``sending`` and commit: the intent is recorded before any send.
    Retries that are due come first, then fresh rows from the open batches' cursors, oldest batch first."""
    return deliveries.claim(rt.engine, rt.clock.now(), limit)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after ``attempts`` tries: 5 s, 10 s, 20 s, ... at most 10 minutes."""
    return timedelta(seconds=min(600, 5 * 2 ** (attempts - 1)))


class Dispatcher:
    """Renders and sends claimed deliveries; one per worker process (thread-safe enough for one loop)."""

    def __init__(self, rt: Runtime, *, batch_size: int = 500, name: str | None = None) -> None:
        self.rt = rt
        self.batch_size = batch_size
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.placeholder_url = unsubscribe_url(rt, PLACEHOLDER_ID)
        self._cache: dict[tuple[Any, ...], Any] = {}

    # --- rendering ------------------------------------------------------------------------------
    def facts(self, s: Session, alert_id: str, update_id: int) -> Any:
        """What a message of this alert (``update_id`` 0) or update says: the facts as a supervisor approved
        them (``alert.facts``, or the update's own), never the live case."""
        key = ("facts", alert_id, update_id)
        if key not in self._cache:
            alert = store.get(s, Alert, alert_id)
            upd = store.get(s, AlertUpdate, update_id) if update_id else None
            assert alert is not None and alert.facts is not None
            published = upd.facts if upd is not None and upd.facts else alert.facts
            self._cache[key] = message_facts(
                self.rt, alert, published,
                update_text=upd.text if upd and upd.kind == DeliveryKind.UPDATE else None,
                outcome=alert.outcome if upd and upd.kind == DeliveryKind.CLOSING else None)
        return self._cache[key]

    def _template(self, s: Session, d: Claimed, language: str) -> Any:
        key = ("msg", d.alert_id, d.kind, d.update_id, d.channel, language)
        if key not in self._cache:
            facts = self.facts(s, d.alert_id, d.update_id)
            render = getattr(self.rt.renderer, d.kind)
            self._cache[key] = render(d.channel, language, facts, unsubscribe_url=self.placeholder_url)
        return self._cache[key]

    def _message(self, s: Session, d: Claimed, sub: Any) -> Message:
        rendered = self._template(s, d, sub.language)
        url = unsubscribe_url(self.rt, sub.id)

        def fill(text: str | None) -> str | None:
            return text.replace(self.placeholder_url, url) if text else text

        return Message(channel=d.channel, address=sub.address or "", kind=d.kind, text=fill(rendered.text) or "",
                       subject=rendered.subject, html=fill(rendered.html), unsubscribe_url=url,
                       reference=f"d{d.id}")

    # --- one batch ------------------------------------------------------------------------------
    def run_once(self) -> int:
        batch = claim(self.rt, self.batch_size)
        if not batch:
            return 0
        outcomes: list[SendOutcome] = []
        with store.read(self.rt) as s:
            subs = recipients.for_sending(s.connection(), {d.subscription_seq for d in batch})
            messages = []
            for d in batch:
                sub = subs.get(d.subscription_seq)
                if sub is None or not sub.address:  # unsubscribed since: the address is gone
                    outcomes.append(SendOutcome(d.id, DeliveryStatus.CANCELLED, error="unsubscribed"))
                    continue
                messages.append((d, self._message(s, d, sub)))
        # No database connection is held while the providers are called.
        now = self.rt.clock.now
        for d, message in messages:
            try:
                receipt = self.rt.channel(d.channel).send(message)
            except ChannelError as exc:
                code = (exc.code or type(exc).__name__)[:200]
                if exc.retry_safe and d.attempts < MAX_ATTEMPTS:  # nothing was accepted: safe to send again
                    outcomes.append(SendOutcome(d.id, DeliveryStatus.QUEUED, error=code,
                                                next_attempt_at=now() + retry_delay(d.attempts)))
                else:
                    outcomes.append(SendOutcome(d.id, DeliveryStatus.FAILED, error=code))
                log.warning("delivery.failed", extra={"delivery_id": d.id, "attempt": d.attempts,
                                                      "channel": d.channel, "error_type": code})
                continue
            outcomes.append(SendOutcome(d.id, DeliveryStatus.SENT, provider_id=receipt.provider_id))
        deliveries.record_outcomes(self.rt.engine, outcomes, self.rt.clock.now())
        log.info("deliveries.batch", extra={"count": len(batch), "worker": self.name})
        return len(batch)

    def drain(self) -> int:
        """Send until nothing is due (tests and the one-shot CLI use it)."""
        total = 0
        while n := self.run_once():
            total += n
        return total


def sweep_stuck(rt: Runtime) -> int:
    """Rows left ``sending`` by a worker that died: the provider may have accepted them, so they are never
    re-sent; they become ``failed`` with the reason, and are counted."""
    n = deliveries.sweep_sending(rt.engine, rt.clock.now(), STUCK_AFTER, STUCK_REASON)
    if n:
        log.warning("deliveries.reconciled", extra={"count": n})
    return n


def run_worker(rt: Runtime, stop: threading.Event, *, idle_seconds: float = 0.2, batch_size: int = 500) -> None:
    dispatcher = Dispatcher(rt, batch_size=batch_size)
    log.info("worker.started", extra={"worker": dispatcher.name})
    while not stop.is_set():
        try:
            if dispatcher.run_once() == 0:
                stop.wait(idle_seconds)
        except Exception:  # a database blip must not kill the worker; it is logged and retried
            log.exception("worker.error", extra={"worker": dispatcher.name})
            stop.wait(2.0)
    log.info("worker.stopped", extra={"worker": dispatcher.name})
