"""Fan-out: who gets an alert, and the delivery rows written in the approving transaction (outbox pattern).

The hot path is one approval reaching a million subscribers, so everything here works on numpy columns of
integers:

* **who**: the circle subscriptions' ``(seq, address_no, channel, lat, lon, radius_km)`` are read in one binary
  ``COPY`` on PostgreSQL and matched by ``geo.match_areas`` (vectorised); region subscriptions are selected by the
  database (their code is one of the alert's territories, the same rule ``geo`` applies). One message per
  address: the first matching subscription of each ``address_no`` is kept.
* **budget**: the addresses that already had ``subscriber_max_messages`` alert/update messages in the window are
  found from the batches of that window, and their rows are written ``suppressed``.
* **write**: one binary ``COPY`` on PostgreSQL (one ``executemany`` on SQLite), then one ``DeliveryBatch`` row
  that brackets the new ids, from which the workers claim.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

import geo

from ..models import Delivery, DeliveryBatch, DeliveryStatus
from ..settings import FatigueSettings

CHANNELS = ("sms", "email")  # channel codes in the numpy columns are indexes into this tuple
COUNTED_KINDS = ("alert", "update")  # closing messages do not count against a subscriber's budget
LIVE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
_CHANNEL_CODE = "CASE channel " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CHANNELS)) + " END"
_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"  # binary COPY, for writing
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Recipients:
    seq: np.ndarray         # subscription.seq (int64)
    address_no: np.ndarray  # one number per (channel, address) (int64)
    channel: np.ndarray     # index into CHANNELS (int8)

    @classmethod
    def empty(cls) -> Recipients:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8))

    def __len__(self) -> int:
        return len(self.seq)

    def per_channel(self) -> dict[str, int]:
        counts = np.bincount(self.channel, minlength=len(CHANNELS)) if len(self) else [0] * len(CHANNELS)
        return {**{c: int(counts[i]) for i, c in enumerate(CHANNELS)}, "total": len(self)}

    def take(self, index: np.ndarray) -> Recipients:
        return Recipients(self.seq[index], self.address_no[index], self.channel[index])

    @classmethod
    def concat(cls, parts: Sequence[Recipients]) -> Recipients:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("seq", "address_no", "channel")))


# --- reading columns -------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"(?<!:):(\w+)")  # ":name" -> psycopg's "%(name)s"
_PG_SEND = {"i8": ("int8send", ">i8"), "i4": ("int4send", ">i4"), "f8": ("float8send", ">f8")}


def _columns(conn: sa.Connection, sql: str, params: dict[str, Any], types: Sequence[tuple[str, str]]
             ) -> dict[str, np.ndarray]:
    """Run ``sql`` (``:name`` placeholders) and return its columns as numpy arrays.

    On PostgreSQL the server packs every row into fixed-width big-endian binary (``int8send`` ...) and
    concatenates them into one ``bytea``, which numpy reads in place: a million rows cost one value on the wire
    instead of a million messages (a bytea holds up to 1 GB: about 25 million subscriptions). Each column must
    be non-null; the row count is checked, so a null could never drop a row unnoticed."""
    if conn.dialect.name != "postgresql":
        rows = conn.execute(sa.text(sql), params).all()
        if any(v is None for r in rows for v in r):
            raise RuntimeError("a selected column was null")
        return {name: np.fromiter((r[i] for r in rows), dtype=np.float64 if kind == "f8" else np.int64,
                                  count=len(rows)) for i, (name, kind) in enumerate(types)}
    packed = " || ".join(f"{_PG_SEND[kind][0]}(q.c{i})" for i, (_, kind) in enumerate(types))
    aliased = ", ".join(f"c{i}" for i in range(len(types)))
    query = _PLACEHOLDER.sub(r"%(\1)s", f"SELECT string_agg({packed}, ''::bytea), count(*) FROM ({sql}) AS q({aliased})")
    with conn.connection.driver_connection.cursor(binary=True) as cur:  # bytes as they are, not hex
        data, count = cur.execute(query, params).fetchone()
    dtype = np.dtype([(name, _PG_SEND[kind][1]) for name, kind in types])
    records = np.frombuffer(data or b"", dtype=dtype)
    if len(records) != count:
        raise RuntimeError(f"{count} rows selected but {len(records)} read: a column was null")
    return {name: records[name].astype(np.float64 if kind == "f8" else np.int64) for name, kind in types}


def _ranges_sql(ranges: Sequence[tuple[int, int]]) -> str:
    """``id`` within any of the (first, last) ranges, as SQL (integers only)."""
    if not ranges:
        return "1 = 0"
    return "(" + " OR ".join(f"id BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in ranges) + ")"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # our own status/kind constants only


# --- who --------------------------------------------------------------------------------------------------
_SUB_COLUMNS = f"seq, coalesce(address_no, -seq), {_CHANNEL_CODE}"
_SUB_TYPES = [("seq", "i8"), ("address_no", "i8"), ("channel", "i4")]
CHUNK = 200_000  # subscriptions (by seq) read and matched at a time


def _matching(conn: sa.Connection, catalogue: geo.RegionCatalogue, area: geo.Area, lo: int, hi: int,
              codes: Sequence[str]) -> Recipients:
    """Active subscriptions with ``lo <= seq < hi`` whose area intersects ``area`` (any number per address)."""
    live = f"status = 'active' AND channel IN {_in(CHANNELS)} AND seq >= :lo AND seq < :hi"
    circles = _columns(conn, f"SELECT {_SUB_COLUMNS}, lat, lon, radius_km FROM subscription "
                             f"WHERE {live} AND lat IS NOT NULL AND lon IS NOT NULL AND radius_km IS NOT NULL",
                       {"lo": lo, "hi": hi}, [*_SUB_TYPES, ("lat", "f8"), ("lon", "f8"), ("radius_km", "f8")])
    parts = []
    if len(circles["seq"]):
        n = len(circles["seq"])
        subs = geo.SubscriptionAreas.build(catalogue, circle_ids=np.arange(n), lat=circles["lat"],
                                           lon=circles["lon"], radius_km=circles["radius_km"])
        hit = np.flatnonzero(geo.match_areas(area, subs))
        parts.append(Recipients(circles["seq"][hit], circles["address_no"][hit],
                                circles["channel"][hit].astype(np.int8)))
    if codes:  # a region subscription matches when its code is one of the area's territories (as in geo)
        if conn.dialect.name == "postgresql":
            member, params = "regions ?| :codes", {"codes": list(codes)}
        else:
            member = ("EXISTS (SELECT 1 FROM json_each(subscription.regions) AS r "
                      "WHERE r.value IN (SELECT value FROM json_each(:codes)))")
            params = {"codes": json.dumps(list(codes))}
        regions = _columns(conn, f"SELECT {_SUB_COLUMNS} FROM subscription WHERE {live} AND lat IS NULL "
                                 f"AND regions IS NOT NULL AND {member}", {**params, "lo": lo, "hi": hi}, _SUB_TYPES)
        parts.append(Recipients(regions["seq"], regions["address_no"], regions["channel"].astype(np.int8)))
    return Recipients.concat(parts)


def recipient_chunks(conn: sa.Connection, catalogue: geo.RegionCatalogue, area: geo.Area, *,
                     chunk: int = CHUNK) -> Iterator[Recipients]:
    """The recipients of ``area``, one message per (channel, address), a range of ``seq`` at a time.

    An address with several matching subscriptions is sent to once, through its oldest one (lowest ``seq``,
    which also gives the message's language): chunks go in ``seq`` order and remember the addresses taken."""
    lo, hi = conn.execute(sa.text("SELECT min(seq), max(seq) FROM subscription")).one()
    if lo is None:
        return
    codes = area.territories(catalogue)
    taken = np.empty(0, np.int64)
    for start in range(int(lo), int(hi) + 1, chunk):
        found = _matching(conn, catalogue, area, start, start + chunk, codes)
        found = found.take(np.argsort(found.seq, kind="stable"))
        _, first = np.unique(found.address_no, return_index=True)
        found = found.take(np.sort(first))
        found = found.take(~np.isin(found.address_no, taken))
        if len(found):
            taken = np.concatenate([taken, found.address_no])
            yield found


def alert_recipients(s: Session, engine: sa.Engine, catalogue: geo.RegionCatalogue, area: geo.Area
                     ) -> Iterator[Recipients]:
    """The recipients for an approval, chunk by chunk: read ahead on a second connection on PostgreSQL (so
    reading and matching overlap with writing), in the approving transaction on SQLite."""
    if s.connection().dialect.name == "postgresql":
        return read_ahead(engine, lambda conn: recipient_chunks(conn, catalogue, area))
    return recipient_chunks(s.connection(), catalogue, area)


def recipients(s: Session, catalogue: geo.RegionCatalogue, area: geo.Area) -> Recipients:
    """Every recipient of ``area`` at once (the estimate shown before approval)."""
    return Recipients.concat(list(recipient_chunks(s.connection(), catalogue, area)))


_DONE = object()


def read_ahead(engine: sa.Engine, produce: Callable[[sa.Connection], Iterator[Any]], depth: int = 2
               ) -> Iterator[Any]:
    """Run ``produce`` on its own connection (one snapshot: REPEATABLE READ on PostgreSQL) in a thread, ``depth`` items
    ahead of the consumer: on PostgreSQL the next chunk is read and matched by one server process while another
    writes the previous one. An error on either side stops both and is raised here."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            conn_cm = engine.connect()
            if engine.dialect.name == "postgresql":
                conn_cm = conn_cm.execution_options(isolation_level="REPEATABLE READ")
            with conn_cm as conn:
                for item in produce(conn):
                    if not put(item):
                        return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer, raised there)
            put(exc)

    worker = threading.Thread(target=run, name="fanout-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


# --- budget -----------------------------------------------------------------------------------------------
def batch_ranges(s: Session, alert_id: str | None = None, *, kinds: Sequence[str] | None = None,
                 since: datetime | None = None) -> list[tuple[int, int]]:
    """The id ranges of delivery batches (of one alert, of some kinds, written after ``since``)."""
    t = DeliveryBatch.__table__
    q = sa.select(t.c.first_id, t.c.last_id)
    if alert_id is not None:
        q = q.where(t.c.alert_id == alert_id)
    if kinds is not None:
        q = q.where(t.c.kind.in_(list(kinds)))
    if since is not None:
        q = q.where(t.c.created_at > since)
    return [(int(lo), int(hi)) for lo, hi in s.connection().execute(q.order_by(t.c.first_id))]


def over_budget(s: Session, cfg: FatigueSettings, now: datetime) -> np.ndarray:
    """``address_no`` of the addresses that already had ``subscriber_max_messages`` alert/update messages in the
    window. An address gets at most one message per batch, so with fewer batches than the budget in the window
    nobody can be over it and nothing is read."""
    ranges = batch_ranges(s, kinds=COUNTED_KINDS, since=now - timedelta(hours=cfg.subscriber_window_hours))
    if len(ranges) < cfg.subscriber_max_messages:
        return np.empty(0, np.int64)
    got = _columns(s.connection(),
                   f"SELECT address_no FROM delivery WHERE {_ranges_sql(ranges)} AND kind IN {_in(COUNTED_KINDS)} "
                   f"AND status IN {_in(LIVE)} AND address_no IS NOT NULL "
                   "GROUP BY address_no HAVING count(*) >= :m", {"m": cfg.subscriber_max_messages},
                   [("address_no", "i8")])
    return got["address_no"]


# --- write ------------------------------------------------------------------------------------------------
COLUMNS = ("alert_id", "subscription_seq", "address_no", "channel", "kind", "update_id", "status", "attempts",
           "created_at", "updated_at")


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


def write_deliveries(s: Session, alert_id: str, kind: str, update_id: int, chunks: Iterable[Recipients],
                     suppressed: np.ndarray, now: datetime) -> dict[str, int]:
    """Bulk-insert one delivery row per recipient and the batch that brackets them; returns counts by status.
    Rows of addresses in ``suppressed`` (``address_no``) are written ``suppressed``. ``chunks`` may be a
    generator: on PostgreSQL each chunk is streamed into one ``COPY`` as it arrives."""
    conn = s.connection()
    pg = conn.dialect.name == "postgresql"
    counts = {str(DeliveryStatus.QUEUED): 0, str(DeliveryStatus.SUPPRESSED): 0}
    before = _id_mark(conn)
    micros = (now - _PG_EPOCH) // timedelta(microseconds=1)
    ts = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
    with contextlib.ExitStack() as stack:
        cp = None
        if pg:
            cur = stack.enter_context(conn.connection.driver_connection.cursor())
            cp = stack.enter_context(cur.copy(f"COPY delivery ({', '.join(COLUMNS)}) FROM STDIN (FORMAT binary)"))
            cp.write(_PG_SIGNATURE + b"\x00" * 8)
        for rec in chunks:
            held = np.isin(rec.address_no, suppressed) if len(suppressed) else np.zeros(len(rec), dtype=bool)
            counts[str(DeliveryStatus.SUPPRESSED)] += int(held.sum())
            counts[str(DeliveryStatus.QUEUED)] += int(len(rec) - held.sum())
            if cp is not None:
                for code, channel in enumerate(CHANNELS):
                    for status, mask in ((DeliveryStatus.QUEUED, ~held), (DeliveryStatus.SUPPRESSED, held)):
                        pick = mask & (rec.channel == code)
                        m = int(pick.sum())
                        if m:
                            cp.write(_pg_records(m, [
                                ("t", alert_id.encode()), ("i8", rec.seq[pick]), ("i8", rec.address_no[pick]),
                                ("t", channel.encode()), ("t", kind.encode()), ("i4", update_id),
                                ("t", str(status).encode()), ("i4", 0), ("i8", micros), ("i8", micros)]))
            else:
                statuses = np.where(held, str(DeliveryStatus.SUPPRESSED), str(DeliveryStatus.QUEUED)).tolist()
                rows = [(alert_id, seq, address_no, CHANNELS[code], kind, update_id, status, 0, ts, ts)
                        for seq, address_no, code, status in zip(rec.seq.tolist(), rec.address_no.tolist(),
                                                                 rec.channel.tolist(), statuses, strict=True)]
                if rows:
                    conn.exec_driver_sql(f"INSERT INTO delivery ({', '.join(COLUMNS)}) "
                                         f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        if cp is not None:
            cp.write(b"\xff\xff")
    total = sum(counts.values())
    counts = {k: v for k, v in counts.items() if v}
    if not total:
        return counts
    after = _id_mark(conn)
    first, last = before + 1, after - 1 if pg else after
    conn.execute(sa.insert(DeliveryBatch.__table__).values(
        alert_id=alert_id, kind=kind, update_id=update_id, first_id=first, last_id=last, next_id=first,
        total=total, created_at=now))
    return counts


def follow_up(s: Session, alert_id: str, kind: str, update_id: int, now: datetime,
              suppressed: np.ndarray | None = None) -> dict[str, int]:
    """Update/closing rows for everyone the alert reached (or, for updates, is about to reach)."""
    reached = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    if kind == "update":
        reached = (DeliveryStatus.QUEUED, *reached)
    ranges = batch_ranges(s, alert_id, kinds=("alert",))
    got = _columns(s.connection(),
                   f"SELECT subscription_seq, coalesce(address_no, -subscription_seq), {_CHANNEL_CODE} FROM delivery "
                   f"WHERE {_ranges_sql(ranges)} AND alert_id = :alert AND kind = 'alert' AND status IN {_in(reached)}",
                   {"alert": alert_id}, _SUB_TYPES)
    rec = Recipients(got["seq"], got["address_no"], got["channel"].astype(np.int8))
    return write_deliveries(s, alert_id, kind, update_id, [rec],
                            suppressed if suppressed is not None else np.empty(0, np.int64), now)


def alert_filter(s: Session, alert_id: str) -> sa.ColumnElement[bool]:
    """``delivery`` rows of one alert, found through its batches' id ranges (the primary key)."""
    t = Delivery.__table__
    ranges = batch_ranges(s, alert_id)
    if not ranges:
        return sa.false()
    return sa.and_(sa.or_(*(t.c.id.between(lo, hi) for lo, hi in ranges)), t.c.alert_id == alert_id)
