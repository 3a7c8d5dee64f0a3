"""The dispatch worker: claim queued deliveries, record the intent, send, record the outcome.

Guarantee: **at most once**. A delivery is marked ``sending`` and committed *before* the channel is called;
after the call it becomes ``sent`` (with the provider id) or ``failed``/re-queued. A worker that dies between
the provider's acceptance and the status update leaves the row ``sending``; the sweeper marks such rows
``failed`` ("outcome unknown") instead of sending them again. Retries happen only for errors the channel marks
safe to retry (nothing was accepted), with exponential backoff.

Claiming: a fan-out writes its rows with consecutive-ish ids and one ``delivery_batch`` row bracketing them.
A worker locks the oldest open batch, takes the next queued rows from the batch's cursor over the primary key
(``FOR UPDATE SKIP LOCKED``), moves them to ``sending`` and advances the cursor, all in one short transaction.
Rows waiting for a retry are claimed first, through a small partial index. So any number of workers on any
number of machines share the queue on PostgreSQL, and a fresh row costs no index but the primary key; SQLite
serialises writers (one worker is the supported setup there).
"""

from __future__ import annotations

import os
import socket
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from channels import ChannelError, Message

from ..log import get_logger
from ..models import (
    Alert,
    AlertUpdate,
    Delivery,
    DeliveryBatch,
    DeliveryStatus,
    Subscription,
)
from ..runtime import Runtime
from ..services.subscriptions import unsubscribe_url

log = get_logger("alertsvc.worker")
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=5)
MAX_WINDOWS = 8  # id windows scanned per claim (a batch of suppressed rows is passed over in a few claims)


@dataclass(frozen=True)
class Claimed:
    id: int
    alert_id: str
    subscription_seq: int
    channel: str
    kind: str
    update_id: int
    attempts: int


def _take(conn: sa.Connection, pick: sa.Select[Any], now: datetime, pg: bool) -> list[Claimed]:
    """Move the rows ``pick`` selects to ``sending`` (attempts + 1); returns them."""
    t = Delivery.__table__
    if pg:
        pick = pick.with_for_update(skip_locked=True)
    stmt = (sa.update(t).where(t.c.id.in_(pick.scalar_subquery()))
            .values(status=DeliveryStatus.SENDING, attempts=t.c.attempts + 1, updated_at=now)
            .returning(t.c.id, t.c.alert_id, t.c.subscription_seq, t.c.channel, t.c.kind, t.c.update_id,
                       t.c.attempts))
    return [Claimed(*r) for r in conn.execute(stmt)]


def claim(rt: Runtime, limit: int) -> list[Claimed]:
    """Move up to ``limit`` due rows to ``sending`` and commit: the intent is recorded before any send.
    Retries that are due come first, then fresh rows from the open batches' cursors, oldest batch first."""
    now = rt.clock.now()
    t, b = Delivery.__table__, DeliveryBatch.__table__
    pg = rt.is_postgres
    with rt.engine.begin() as conn:
        got = _take(conn, sa.select(t.c.id).where(
            t.c.status == DeliveryStatus.QUEUED, t.c.next_attempt_at.is_not(None), t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at).limit(limit), now, pg)
        for _ in range(MAX_WINDOWS):
            if len(got) >= limit:
                break
            open_batch = sa.select(b.c.id, b.c.next_id, b.c.last_id).where(b.c.next_id <= b.c.last_id) \
                .order_by(b.c.id).limit(1)
            row = conn.execute(open_batch.with_for_update() if pg else open_batch).first()
            if row is None:
                break
            batch_id, cursor, last = row
            want = limit - len(got)
            end = min(cursor + want * 2, last + 1)  # a bounded window of ids, however fresh the statistics
            fresh = _take(conn, sa.select(t.c.id).where(
                t.c.id >= cursor, t.c.id < end, t.c.status == DeliveryStatus.QUEUED, t.c.next_attempt_at.is_(None))
                .order_by(t.c.id).limit(want), now, pg)
            # Rows this scan skipped are not queued, or are locked by a claim through an overlapping batch or by
            # a cancel; either way they do not need this cursor.
            cursor = max(d.id for d in fresh) + 1 if len(fresh) == want else end
            conn.execute(sa.update(b).where(b.c.id == batch_id).values(next_id=cursor))
            got += fresh
    return sorted(got, key=lambda c: c.id)


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
        from ..services.facts import message_facts

        key = ("facts", alert_id, update_id)
        if key not in self._cache:
            alert = s.get(Alert, alert_id)
            upd = s.get(AlertUpdate, update_id) if update_id else None
            assert alert is not None and alert.facts is not None
            published = upd.facts if upd is not None and upd.facts else alert.facts
            self._cache[key] = message_facts(
                self.rt, alert, published, update_text=upd.text if upd and upd.kind == "update" else None,
                outcome=alert.outcome if upd and upd.kind == "closing" else None)
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
        results: list[dict[str, Any]] = []
        with Session(self.rt.engine) as s:
            st = Subscription.__table__
            subs = {sub.seq: sub for sub in s.connection().execute(
                sa.select(st.c.seq, st.c.id, st.c.address, st.c.language)
                .where(st.c.seq.in_({d.subscription_seq for d in batch})))}
            messages = []
            for d in batch:
                sub = subs.get(d.subscription_seq)
                if sub is None or not sub.address:  # unsubscribed since: the address is gone
                    results.append({"i": d.id, "s": DeliveryStatus.CANCELLED, "p": None, "e": "unsubscribed",
                                    "n": None})
                    continue
                messages.append((d, self._message(s, d, sub)))
        # No database connection is held while the providers are called.
        now = self.rt.clock.now
        for d, message in messages:
            try:
                receipt = self.rt.channel(d.channel).send(message)
            except ChannelError as exc:
                code = (exc.code or type(exc).__name__)[:200]
                if exc.retry_safe and d.attempts < MAX_ATTEMPTS:
                    delay = timedelta(seconds=min(600, 5 * 2 ** (d.attempts - 1)))
                    results.append({"i": d.id, "s": DeliveryStatus.QUEUED, "p": None, "e": code, "n": now() + delay})
                else:
                    results.append({"i": d.id, "s": DeliveryStatus.FAILED, "p": None, "e": code, "n": None})
                log.warning("delivery.failed", extra={"delivery_id": d.id, "attempt": d.attempts,
                                                      "channel": d.channel, "error_type": code})
                continue
            results.append({"i": d.id, "s": DeliveryStatus.SENT, "p": receipt.provider_id, "e": None, "n": None})
        self._record(results)
        log.info("deliveries.batch", extra={"count": len(batch), "worker": self.name})
        return len(batch)

    def _record(self, results: list[dict[str, Any]]) -> None:
        t = Delivery.__table__
        now = self.rt.clock.now()
        with self.rt.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one statement for the whole batch
                conn.execute(sa.text(
                    "UPDATE delivery AS d SET status = v.status, provider_id = v.provider_id, error = v.error, "
                    "next_attempt_at = v.next_attempt_at, updated_at = :now "
                    "FROM unnest(CAST(:i AS bigint[]), CAST(:s AS text[]), CAST(:p AS text[]), CAST(:e AS text[]), "
                    "CAST(:n AS timestamptz[])) AS v(id, status, provider_id, error, next_attempt_at) "
                    "WHERE d.id = v.id AND d.status = 'sending'"),
                    {"now": now, **{k: [r[k] if k != "s" else str(r[k]) for r in results] for k in "ispen"}})
                return
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)  # SQLite: one executemany per status
            for r in results:
                grouped[str(r["s"])].append(r)
            for status, rows in grouped.items():
                conn.execute(
                    sa.update(t).where(t.c.id == sa.bindparam("i"), t.c.status == DeliveryStatus.SENDING)
                    .values(status=status, provider_id=sa.bindparam("p"), error=sa.bindparam("e"),
                            next_attempt_at=sa.bindparam("n"), updated_at=now),
                    rows)

    def drain(self) -> int:
        """Send until nothing is due (tests and the one-shot CLI use it)."""
        total = 0
        while n := self.run_once():
            total += n
        return total


def sweep_stuck(rt: Runtime) -> int:
    """Rows left ``sending`` by a worker that died: the provider may have accepted them, so they are never
    re-sent; they become ``failed`` with the reason, and are counted."""
    now = rt.clock.now()
    t = Delivery.__table__
    with rt.engine.begin() as conn:
        res = conn.execute(sa.update(t).where(t.c.status == DeliveryStatus.SENDING, t.c.updated_at < now - STUCK_AFTER)
                           .values(status=DeliveryStatus.FAILED, error="outcome unknown: worker stopped mid-send",
                                   updated_at=now))
    n = res.rowcount or 0
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
