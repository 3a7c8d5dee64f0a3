"""Subscriptions as the fan-out reads them: integer columns (numpy arrays), read in bulk.

A million subscribers cost one value on the wire on PostgreSQL (``read_columns``); the matching itself (geo)
is ``alertsvc.dispatch.fanout``'s. Also the worker's look-up of the subscriptions it is about to send to.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from ..models import Subscription

CHANNELS = ("sms", "email")  # channel codes in the numpy columns are indexes into this tuple
CHANNEL_CODE = "CASE channel " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CHANNELS)) + " END"
SUBSCRIPTIONS: sa.Table = Subscription.__table__  # type: ignore[attr-defined]
COLUMN_TYPES = [("seq", "i8"), ("address_no", "i8"), ("channel", "i4")]


@dataclass(frozen=True)
class Recipients:
    seq: np.ndarray         # subscription.seq (int64)
    address_no: np.ndarray  # one number per (channel, address) (int64)
    channel: np.ndarray     # index into CHANNELS (int8)

    @classmethod
    def empty(cls) -> Recipients:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8))

    @classmethod
    def of(cls, columns: dict[str, np.ndarray], index: np.ndarray | None = None) -> Recipients:
        """From ``read_columns``' ``seq``, ``address_no``, ``channel`` (the rows ``index`` picks, or all)."""
        seq, address_no, channel = columns["seq"], columns["address_no"], columns["channel"]
        if index is not None:
            seq, address_no, channel = seq[index], address_no[index], channel[index]
        return cls(seq, address_no, channel.astype(np.int8))

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


def read_columns(conn: sa.Connection, sql: str, params: dict[str, Any], types: Sequence[tuple[str, str]]
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
    query = _PLACEHOLDER.sub(r"%(\1)s",
                             f"SELECT string_agg({packed}, ''::bytea), count(*) FROM ({sql}) AS q({aliased})")
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(binary=True) as cur:  # bytes as they are, not hex
        data, count = cur.execute(query, params).fetchone()
    dtype = np.dtype([(name, _PG_SEND[kind][1]) for name, kind in types])
    records = np.frombuffer(data or b"", dtype=dtype)
    if len(records) != count:
        raise RuntimeError(f"{count} rows selected but {len(records)} read: a column was null")
    return {name: records[name].astype(np.float64 if kind == "f8" else np.int64) for name, kind in types}


def in_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # our own status/kind/channel constants only


# --- the subscriptions an alert may reach ----------------------------------------------------------------
_SUB_COLUMNS = f"seq, coalesce(address_no, -seq), {CHANNEL_CODE}"
_LIVE = f"status = 'active' AND channel IN {in_list(CHANNELS)} AND seq >= :lo AND seq < :hi"


def seq_bounds(conn: sa.Connection) -> tuple[int, int] | None:
    """The lowest and highest ``subscription.seq``, or None when there is no subscription."""
    lo, hi = conn.execute(sa.text("SELECT min(seq), max(seq) FROM subscription")).one()
    return None if lo is None else (int(lo), int(hi))


def circle_columns(conn: sa.Connection, lo: int, hi: int) -> dict[str, np.ndarray]:
    """Active circle subscriptions with ``lo <= seq < hi``: ``seq``, ``address_no``, ``channel``, ``lat``,
    ``lon``, ``radius_km``."""
    return read_columns(conn, f"SELECT {_SUB_COLUMNS}, lat, lon, radius_km FROM subscription "
                              f"WHERE {_LIVE} AND lat IS NOT NULL AND lon IS NOT NULL AND radius_km IS NOT NULL",
                        {"lo": lo, "hi": hi}, [*COLUMN_TYPES, ("lat", "f8"), ("lon", "f8"), ("radius_km", "f8")])


def region_recipients(conn: sa.Connection, lo: int, hi: int, codes: Sequence[str]) -> Recipients:
    """Active region subscriptions with ``lo <= seq < hi`` naming one of ``codes`` (the area's territories:
    the rule ``geo`` applies, run by the database)."""
    params: dict[str, Any]
    if conn.dialect.name == "postgresql":
        member, params = "regions ?| :codes", {"codes": list(codes)}
    else:
        member = ("EXISTS (SELECT 1 FROM json_each(subscription.regions) AS r "
                  "WHERE r.value IN (SELECT value FROM json_each(:codes)))")
        params = {"codes": json.dumps(list(codes))}
    return Recipients.of(read_columns(conn, f"SELECT {_SUB_COLUMNS} FROM subscription WHERE {_LIVE} AND lat IS NULL "
                                            f"AND regions IS NOT NULL AND {member}",
                                      {**params, "lo": lo, "hi": hi}, COLUMN_TYPES))


def for_sending(conn: sa.Connection, seqs: Collection[int]) -> dict[int, Any]:
    """The subscriptions the worker is about to send to, by ``seq``: rows with ``id``, ``address`` (None once
    unsubscribed) and ``language``."""
    st = SUBSCRIPTIONS
    return {row.seq: row for row in conn.execute(
        sa.select(st.c.seq, st.c.id, st.c.address, st.c.language).where(st.c.seq.in_(set(seqs))))}


# --- reading on a second connection ------------------------------------------------------------------------
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
        except BaseException as exc:  # handed to the consumer, raised there
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


def language_codes(conn: sa.Connection, lo: int, hi: int, languages: Sequence[str]) -> dict[str, np.ndarray]:
    """``seq`` and ``language`` (its index in ``languages``; ``len(languages)`` for any other) of the active
    subscriptions with ``lo <= seq <= hi`` (in no particular order): the languages of an estimate's recipients."""
    params: dict[str, Any] = {f"lang{i}": lang for i, lang in enumerate(languages)}
    case = ("CASE language " + " ".join(f"WHEN :lang{i} THEN {i}" for i in range(len(languages)))
            + f" ELSE {len(languages)} END")
    return read_columns(conn, f"SELECT seq, {case} FROM subscription WHERE status = 'active' "
                              "AND seq >= :lo AND seq <= :hi",
                        {**params, "lo": lo, "hi": hi}, [("seq", "i8"), ("language", "i4")])
