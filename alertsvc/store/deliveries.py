"""Deliveries and their batches, and the delivery state machine: the only code that changes a delivery's status.

``DELIVERY_TRANSITIONS`` (``alertsvc/models.py``, beside the enum) says which status may follow which. Each
function here that moves rows names the statuses it moves them from; those are checked against the table (a
move the table does not allow raises ``IllegalTransition`` before any SQL runs) and become the UPDATE's WHERE,
so a row that is no longer in one of them, and any row in a final state, is left as it is:

=====================  ===================================  =================================================
function               moves                                 used by
=====================  ===================================  =================================================
``claim``              queued -> sending                     the worker, before it calls a provider
``record_outcomes``    sending -> sent | failed | queued     the worker, after the call (queued: a safe retry;
                       | cancelled                           cancelled: unsubscribed since)
``sweep_sending``      sending -> failed                     the periodic sweep (outcome unknown)
``cancel_queued``      queued -> cancelled                   resolving or expiring an alert
``record_callback``    sent | sending -> delivered | failed  provider status callbacks
=====================  ===================================  =================================================

A fan-out writes rows ``queued`` or ``suppressed`` (``write_batch``): one binary ``COPY`` on PostgreSQL, one
``executemany`` on SQLite, then one ``delivery_batch`` row bracketing the new ids, from which workers claim.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from ..models import DELIVERY_TRANSITIONS, Delivery, DeliveryBatch, DeliveryStatus
from .recipients import CHANNEL_CODE, CHANNELS, COLUMN_TYPES, SUBSCRIPTIONS, Recipients, in_list, read_columns

DELIVERIES: sa.Table = Delivery.__table__  # type: ignore[attr-defined]
BATCHES: sa.Table = DeliveryBatch.__table__  # type: ignore[attr-defined]
STATUS_ORDER = ("queued", "sent", "delivered", "failed", "suppressed", "cancelled", "sending")  # of ``counts``
MAX_WINDOWS = 8  # id windows scanned per claim (a batch of suppressed rows is passed over in a few claims)


# --- the state machine ----------------------------------------------------------------------------------
class IllegalTransition(ValueError):
    """A move the transition table does not allow (a programming error: no SQL was run)."""


def require_transition(sources: Iterable[DeliveryStatus | str], to: DeliveryStatus | str) -> tuple[DeliveryStatus, ...]:
    """``sources`` as statuses, once the table allows each of them to become ``to``."""
    target = DeliveryStatus(to)
    out = tuple(DeliveryStatus(s) for s in sources)
    refused = [s for s in out if target not in DELIVERY_TRANSITIONS[s]]
    if refused or not out:
        raise IllegalTransition(f"{', '.join(refused) or '(nothing)'} -> {target} is not a delivery transition")
    return out


def _status_is(sources: Sequence[DeliveryStatus]) -> sa.ColumnElement[bool]:
    """The WHERE of a move (``status = x`` for one source: the form the partial indexes' predicates match)."""
    c = DELIVERIES.c.status
    return c == sources[0] if len(sources) == 1 else c.in_(list(sources))


_AFTER_SENDING = frozenset(DELIVERY_TRANSITIONS[DeliveryStatus.SENDING])


@dataclass(frozen=True)
class SendOutcome:
    """What became of one claimed (``sending``) delivery."""
    id: int
    status: DeliveryStatus
    provider_id: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None  # a retry's due time: set for ``queued`` and only then

    def __post_init__(self) -> None:
        if self.status not in _AFTER_SENDING:  # a set lookup: this runs once per message sent
            require_transition([DeliveryStatus.SENDING], self.status)  # raises, naming the move
        if (self.status == DeliveryStatus.QUEUED) != (self.next_attempt_at is not None):
            raise IllegalTransition("a retry (queued) needs next_attempt_at, and nothing else has one")


@dataclass(frozen=True)
class Claimed:
    id: int
    alert_id: str
    subscription_seq: int
    channel: str
    kind: str
    update_id: int
    attempts: int


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery as the alert's delivery list shows it."""
    subscription_id: str
    channel: str
    kind: str
    status: str
    attempts: int


# --- claim -----------------------------------------------------------------------------------------------
_CLAIM_FROM = require_transition([DeliveryStatus.QUEUED], DeliveryStatus.SENDING)


def _take(conn: sa.Connection, pick: sa.Select[Any], now: datetime, pg: bool) -> list[Claimed]:
    """Move the rows ``pick`` selects (only ever ``queued`` ones) to ``sending`` (attempts + 1); returns them."""
    t = DELIVERIES
    if pg:
        pick = pick.with_for_update(skip_locked=True)
    stmt = (sa.update(t).where(t.c.id.in_(pick.scalar_subquery()))
            .values(status=DeliveryStatus.SENDING, attempts=t.c.attempts + 1, updated_at=now)
            .returning(t.c.id, t.c.alert_id, t.c.subscription_seq, t.c.channel, t.c.kind, t.c.update_id,
                       t.c.attempts))
    return [Claimed(*r) for r in conn.execute(stmt)]


def claim(engine: sa.Engine, now: datetime, limit: int) -> list[Claimed]:
    """Move up to ``limit`` due rows to ``sending`` and commit: the intent is recorded before any send.
    Retries that are due come first, then fresh rows from the open batches' cursors, oldest batch first.

    A fan-out writes its rows with consecutive-ish ids and one ``delivery_batch`` row bracketing them. A claim
    locks the oldest open batch, takes the next queued rows from the batch's cursor over the primary key
    (``FOR UPDATE SKIP LOCKED``), moves them to ``sending`` and advances the cursor, in one short transaction.
    Rows waiting for a retry are claimed first, through a small partial index."""
    t, b = DELIVERIES, BATCHES
    queued = _status_is(_CLAIM_FROM)
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        got = _take(conn, sa.select(t.c.id).where(
            queued, t.c.next_attempt_at.is_not(None), t.c.next_attempt_at <= now)
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
                t.c.id >= cursor, t.c.id < end, queued, t.c.next_attempt_at.is_(None))
                .order_by(t.c.id).limit(want), now, pg)
            # Rows this scan skipped are not queued, or are locked by a claim through an overlapping batch or by
            # a cancel; either way they do not need this cursor.
            cursor = max(d.id for d in fresh) + 1 if len(fresh) == want else end
            conn.execute(sa.update(b).where(b.c.id == batch_id).values(next_id=cursor))
            got += fresh
    return sorted(got, key=lambda c: c.id)


# --- outcomes, sweep, cancel, callbacks ------------------------------------------------------------------
_RECORD_FROM = DeliveryStatus.SENDING


def record_outcomes(engine: sa.Engine, outcomes: Sequence[SendOutcome], now: datetime) -> int:
    """Record what became of claimed rows, in one transaction; a row no longer ``sending`` (a provider callback
    or the sweep came first) is left as it is. Returns the number of rows changed."""
    if not outcomes:
        return 0
    for o in outcomes:  # SendOutcome checks itself; this guards one changed after it was built
        if o.status not in _AFTER_SENDING:
            require_transition([_RECORD_FROM], o.status)
    t = DELIVERIES
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one statement for the whole batch
            res = conn.execute(sa.text(
                "UPDATE delivery AS d SET status = v.status, provider_id = v.provider_id, error = v.error, "
                "next_attempt_at = v.next_attempt_at, updated_at = :now "
                "FROM unnest(CAST(:i AS bigint[]), CAST(:s AS text[]), CAST(:p AS text[]), CAST(:e AS text[]), "
                "CAST(:n AS timestamptz[])) AS v(id, status, provider_id, error, next_attempt_at) "
                f"WHERE d.id = v.id AND d.status = '{_RECORD_FROM}'"),
                {"now": now, "i": [o.id for o in outcomes], "s": [str(o.status) for o in outcomes],
                 "p": [o.provider_id for o in outcomes], "e": [o.error for o in outcomes],
                 "n": [o.next_attempt_at for o in outcomes]})
            return res.rowcount or 0
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)  # SQLite: one executemany per status
        for o in outcomes:
            grouped[str(o.status)].append({"i": o.id, "p": o.provider_id, "e": o.error, "n": o.next_attempt_at})
        changed = 0
        for status, rows in grouped.items():
            res = conn.execute(
                sa.update(t).where(t.c.id == sa.bindparam("i"), t.c.status == _RECORD_FROM)
                .values(status=status, provider_id=sa.bindparam("p"), error=sa.bindparam("e"),
                        next_attempt_at=sa.bindparam("n"), updated_at=now),
                rows)
            changed += res.rowcount or 0
        return changed


_SWEEP_FROM = require_transition([DeliveryStatus.SENDING], DeliveryStatus.FAILED)


def sweep_sending(engine: sa.Engine, now: datetime, older_than: timedelta, reason: str) -> int:
    """Rows left ``sending`` since before ``now - older_than`` become ``failed`` with ``reason``; returns how many."""
    t = DELIVERIES
    with engine.begin() as conn:
        res = conn.execute(sa.update(t).where(_status_is(_SWEEP_FROM), t.c.updated_at < now - older_than)
                           .values(status=DeliveryStatus.FAILED, error=reason, updated_at=now))
    return res.rowcount or 0


_CANCEL_FROM = require_transition([DeliveryStatus.QUEUED], DeliveryStatus.CANCELLED)


def cancel_queued(s: Session, alert_id: str, now: datetime) -> int:
    """In the caller's transaction: cancel the alert's rows that are still queued, and close its batches so
    workers stop scanning them (a row of another alert inside one of these ranges stays claimable through its
    own batch). Returns the number cancelled."""
    t, b = DELIVERIES, BATCHES
    conn = s.connection()
    res = conn.execute(sa.update(t).where(of_alert(s, alert_id), _status_is(_CANCEL_FROM))
                       .values(status=DeliveryStatus.CANCELLED, updated_at=now))
    conn.execute(sa.update(b).where(b.c.alert_id == alert_id).values(next_id=b.c.last_id + 1))
    return res.rowcount or 0


_CALLBACK_FROM = {to: require_transition([DeliveryStatus.SENT, DeliveryStatus.SENDING], to)
                  for to in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)}


def record_callback(engine: sa.Engine, provider_id: str, status: DeliveryStatus | str, now: datetime, *,
                    delivery_id: int | None = None) -> int:
    """A provider's status report (``delivered`` or ``failed``) for the row with ``provider_id`` (or id
    ``delivery_id``: the worker may have died before saving the provider id). Only a ``sent`` or ``sending`` row
    moves; returns how many did."""
    target = DeliveryStatus(status)
    if target not in _CALLBACK_FROM:
        raise IllegalTransition(f"a provider callback does not set {target}")
    t = DELIVERIES
    match = t.c.provider_id == provider_id
    if delivery_id is not None:
        match = sa.or_(match, t.c.id == delivery_id)
    with engine.begin() as conn:
        res = conn.execute(sa.update(t).where(match, _status_is(_CALLBACK_FROM[target]))
                           .values(status=target, provider_id=provider_id, updated_at=now))
    return res.rowcount or 0


# --- one alert's deliveries ------------------------------------------------------------------------------
def batch_ranges(s: Session, alert_id: str | None = None, *, kinds: Sequence[str] | None = None,
                 since: datetime | None = None) -> list[tuple[int, int]]:
    """The id ranges of delivery batches (of one alert, of some kinds, written after ``since``)."""
    b = BATCHES
    q = sa.select(b.c.first_id, b.c.last_id)
    if alert_id is not None:
        q = q.where(b.c.alert_id == alert_id)
    if kinds is not None:
        q = q.where(b.c.kind.in_(list(kinds)))
    if since is not None:
        q = q.where(b.c.created_at > since)
    return [(int(lo), int(hi)) for lo, hi in s.connection().execute(q.order_by(b.c.first_id))]


def of_alert(s: Session, alert_id: str) -> sa.ColumnElement[bool]:
    """``delivery`` rows of one alert, found through its batches' id ranges (the primary key)."""
    t = DELIVERIES
    ranges = batch_ranges(s, alert_id)
    if not ranges:
        return sa.false()
    return sa.and_(sa.or_(*(t.c.id.between(lo, hi) for lo, hi in ranges)), t.c.alert_id == alert_id)


def counts(s: Session, alert_id: str, kind: str | None = "alert", update_id: int | None = None) -> dict[str, int]:
    """The alert's deliveries (of one kind, of one update) by status; every status present, zeros included."""
    t = DELIVERIES
    q = sa.select(t.c.status, sa.func.count()).where(of_alert(s, alert_id))
    if kind:
        q = q.where(t.c.kind == kind)
    if update_id is not None:
        q = q.where(t.c.update_id == update_id)
    got = {str(st): int(n) for st, n in s.connection().execute(q.group_by(t.c.status)).all()}
    return {st: int(got.get(st, 0)) for st in STATUS_ORDER}


def counts_by_alert(s: Session, alert_ids: Sequence[str], kind: str = "alert") -> dict[str, dict[str, int]]:
    """``counts`` for many alerts in one grouped query: each alert's deliveries (of one kind) by status, every
    status present, zeros included; alerts without a batch of that kind are left out. The rows are found through
    the batches' id ranges (the primary key), as ``of_alert`` does for one alert."""
    if not alert_ids:
        return {}
    t, b = DELIVERIES, BATCHES
    q = (sa.select(b.c.alert_id, t.c.status, sa.func.count())
         .select_from(b.join(t, sa.and_(t.c.id.between(b.c.first_id, b.c.last_id), t.c.alert_id == b.c.alert_id,
                                        t.c.kind == b.c.kind)))
         .where(b.c.alert_id.in_(list(alert_ids)), b.c.kind == kind)
         .group_by(b.c.alert_id, t.c.status))
    got: dict[str, dict[str, int]] = {}
    for alert_id, status, n in s.connection().execute(q):
        got.setdefault(alert_id, dict.fromkeys(STATUS_ORDER, 0))[str(status)] = int(n)
    return got


def alert_deliveries(s: Session, alert_id: str) -> list[DeliveryRow]:
    """Every delivery of the alert, in id order, with its subscription's id."""
    t, sub = DELIVERIES, SUBSCRIPTIONS
    rows = s.connection().execute(
        sa.select(sub.c.id, t.c.channel, t.c.kind, t.c.status, t.c.attempts)
        .join(sub, sub.c.seq == t.c.subscription_seq)
        .where(of_alert(s, alert_id)).order_by(t.c.id)).all()
    return [DeliveryRow(*r) for r in rows]


# --- the fan-out's reads: budgets and follow-ups ---------------------------------------------------------
def _ranges_sql(ranges: Sequence[tuple[int, int]]) -> str:
    """``id`` within any of the (first, last) ranges, as SQL (integers only)."""
    if not ranges:
        return "1 = 0"
    return "(" + " OR ".join(f"id BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in ranges) + ")"


def addresses_with_messages(s: Session, ranges: Sequence[tuple[int, int]], kinds: Sequence[str],
                            statuses: Sequence[str], at_least: int) -> np.ndarray:
    """``address_no`` of the addresses with at least ``at_least`` rows of ``kinds`` in ``statuses`` among the
    ids in ``ranges``."""
    got = read_columns(s.connection(),
                       f"SELECT address_no FROM delivery WHERE {_ranges_sql(ranges)} AND kind IN {in_list(kinds)} "
                       f"AND status IN {in_list(statuses)} AND address_no IS NOT NULL "
                       "GROUP BY address_no HAVING count(*) >= :m", {"m": at_least}, [("address_no", "i8")])
    return got["address_no"]


def reached(s: Session, alert_id: str, statuses: Sequence[str]) -> Recipients:
    """Who the alert's own messages (kind ``alert``) reached: its rows in ``statuses``."""
    ranges = batch_ranges(s, alert_id, kinds=("alert",))
    got = read_columns(s.connection(),
                       f"SELECT subscription_seq, coalesce(address_no, -subscription_seq), {CHANNEL_CODE} "
                       f"FROM delivery WHERE {_ranges_sql(ranges)} AND alert_id = :alert AND kind = 'alert' "
                       f"AND status IN {in_list(statuses)}", {"alert": alert_id}, COLUMN_TYPES)
    return Recipients.of(got)


# --- the fan-out's write ---------------------------------------------------------------------------------
COLUMNS = ("alert_id", "subscription_seq", "address_no", "channel", "kind", "update_id", "status", "attempts",
           "created_at", "updated_at")
_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"  # binary COPY, for writing
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _pg_records(n: int, values: Sequence[tuple[str, Any]]) -> bytes:
    """``n`` rows of the binary COPY format; each value is ``("i8"|"i4", int or int array)`` or ``("t", bytes)``.
    Constant columns are laid down by copying one template row; only the array columns are written per row."""
    fields: list[tuple[str, Any]] = [("_n", ">i2")]
    for i, (kind, value) in enumerate(values):
        fields += [(f"_l{i}", ">i4"), (f"v{i}", f"S{len(value)}" if kind == "t" else f">{kind}")]
    dtype = np.dtype(fields)
    template = np.zeros(1, dtype=dtype)
    template["_n"] = len(values)
    for i, (kind, value) in enumerate(values):
        template[f"_l{i}"] = len(value) if kind == "t" else int(kind[1])
        if not isinstance(value, np.ndarray):
            template[f"v{i}"] = value
    rec = np.repeat(template, n)
    for i, (_, value) in enumerate(values):
        if isinstance(value, np.ndarray):
            rec[f"v{i}"] = value
    return rec.data  # type: ignore[return-value]  # a buffer; COPY takes it without a copy


def _id_mark(conn: sa.Connection) -> int:
    """A delivery id below (first call) or above (second call) every id written in between, in this transaction.
    PostgreSQL: a value taken from the id sequence; SQLite (one writer): the largest id in use."""
    if conn.dialect.name == "postgresql":
        return int(conn.exec_driver_sql("SELECT nextval(pg_get_serial_sequence('delivery', 'id'))").scalar_one())
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM delivery").scalar_one())


def write_batch(s: Session, alert_id: str, kind: str, update_id: int, chunks: Iterable[Recipients],
                suppressed: np.ndarray, now: datetime) -> dict[str, int]:
    """Bulk-insert one delivery row per recipient and the batch that brackets them; returns counts by status.
    Rows of addresses in ``suppressed`` (``address_no``) are written ``suppressed``, the others ``queued``.
    ``chunks`` may be a generator: on PostgreSQL each chunk is streamed into one ``COPY`` as it arrives."""
    conn = s.connection()
    pg = conn.dialect.name == "postgresql"
    queued, held_status = DeliveryStatus.QUEUED, DeliveryStatus.SUPPRESSED
    tally = {str(queued): 0, str(held_status): 0}
    before = _id_mark(conn)
    micros = (now - _PG_EPOCH) // timedelta(microseconds=1)
    ts = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
    with contextlib.ExitStack() as stack:
        cp = None
        if pg:
            driver = conn.connection.driver_connection
            assert driver is not None
            cur = stack.enter_context(driver.cursor())
            cp = stack.enter_context(cur.copy(f"COPY delivery ({', '.join(COLUMNS)}) FROM STDIN (FORMAT binary)"))
            cp.write(_PG_SIGNATURE + b"\x00" * 8)
        for rec in chunks:
            held = np.isin(rec.address_no, suppressed) if len(suppressed) else np.zeros(len(rec), dtype=bool)
            tally[str(held_status)] += int(held.sum())
            tally[str(queued)] += int(len(rec) - held.sum())
            if cp is not None:
                for code, channel in enumerate(CHANNELS):
                    for status, mask in ((queued, ~held), (held_status, held)):
                        pick = mask & (rec.channel == code)
                        m = int(pick.sum())
                        if m:
                            cp.write(_pg_records(m, [
                                ("t", alert_id.encode()), ("i8", rec.seq[pick]), ("i8", rec.address_no[pick]),
                                ("t", channel.encode()), ("t", str(kind).encode()), ("i4", update_id),
                                ("t", str(status).encode()), ("i4", 0), ("i8", micros), ("i8", micros)]))
            else:
                statuses = np.where(held, str(held_status), str(queued)).tolist()
                rows = [(alert_id, seq, address_no, CHANNELS[code], str(kind), update_id, status, 0, ts, ts)
                        for seq, address_no, code, status in zip(rec.seq.tolist(), rec.address_no.tolist(),
                                                                 rec.channel.tolist(), statuses, strict=True)]
                if rows:
                    conn.exec_driver_sql(f"INSERT INTO delivery ({', '.join(COLUMNS)}) "
                                         f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        if cp is not None:
            cp.write(b"\xff\xff")
    total = sum(tally.values())
    tally = {k: v for k, v in tally.items() if v}
    if not total:
        return tally
    after = _id_mark(conn)
    first, last = before + 1, after - 1 if pg else after
    conn.execute(sa.insert(BATCHES).values(
        alert_id=alert_id, kind=str(kind), update_id=update_id, first_id=first, last_id=last, next_id=first,
        total=total, created_at=now))
    return tally


def counts_by_channel(s: Session, alert_id: str) -> dict[str, dict[str, dict[str, int]]]:
    """The alert's deliveries by kind, channel and status (``{"alert": {"sms": {"queued": 3, ...}}}``): each kind
    present with every channel and every status, zeros included."""
    t = DELIVERIES
    rows = s.connection().execute(
        sa.select(t.c.kind, t.c.channel, t.c.status, sa.func.count()).where(of_alert(s, alert_id))
        .group_by(t.c.kind, t.c.channel, t.c.status)).all()
    out: dict[str, dict[str, dict[str, int]]] = {}
    for kind, channel, status, n in rows:
        by_channel = out.setdefault(str(kind), {c: dict.fromkeys(STATUS_ORDER, 0) for c in CHANNELS})
        by_channel.setdefault(str(channel), dict.fromkeys(STATUS_ORDER, 0))[str(status)] = int(n)
    return out
