"""The fan-out's moving parts, on both databases: address numbers, one message per address (the oldest
subscription), chunked matching, the binary column reader, read-ahead, delivery batches and the claim cursor."""

from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from alertsvc.db import transaction
from alertsvc.dispatch import fanout
from alertsvc.dispatch.worker import claim
from alertsvc.models import Delivery, DeliveryBatch, Subscription
from alertsvc.services import subscriptions
from alertsvc.services.importer import import_csv
from alertsvc.store import deliveries as deliveries_store
from alertsvc.store import recipients as recipients_store

from ..helpers import add_subscriber, approval_body

BELGRADE = {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}}


def _sub(rt, sub_id: str) -> Subscription:
    with Session(rt.engine) as s:
        sub = s.get(Subscription, sub_id)
        assert sub is not None
        return sub


def _approve(api, rt, factories, area=None) -> str:
    alert = api.as_operator().post(f"/api/v1/cases/{factories.case()}/alerts", json={"area": area or BELGRADE}).json
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert['id']}/approve", json=approval_body(rt))
    assert r.status_code == 200, r.json
    return alert["id"]


# --- address numbers -----------------------------------------------------------------------------------------
def test_subscriptions_of_one_address_share_a_number_until_they_are_gone(rt):
    first = add_subscriber(rt, "+381641000001")
    second = add_subscriber(rt, "+381641000001", area={"regions": ["RS-00"]})
    other = add_subscriber(rt, "+381641000002")
    email = add_subscriber(rt, "ana@example.org", channel="email")
    a, b, c, e = (_sub(rt, x) for x in (first, second, other, email))
    assert a.address_no == a.seq and b.address_no == a.seq  # the first one's number, shared
    assert c.address_no == c.seq and e.address_no == e.seq
    assert len({a.seq, b.seq, c.seq, e.seq}) == 4
    subscriptions.unsubscribe(rt, first, "link")
    assert _sub(rt, first).address_no is None  # forgotten with the address
    third = add_subscriber(rt, "+381641000001", area={"regions": ["RS-06"]})
    assert _sub(rt, third).address_no == a.seq  # still shared with the live second one
    subscriptions.unsubscribe_number(rt, "+381641000001", "sms")
    fresh = add_subscriber(rt, "+381641000001")
    assert _sub(rt, fresh).address_no == _sub(rt, fresh).seq  # nothing left to share with: a new number


def test_concurrent_subscriptions_of_one_number_share_a_number(rt):
    areas = [{"circle": {"lat": 44.8 + i / 100, "lon": 20.46, "radius_km": 2}} for i in range(6)]
    ids: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(areas))

    def go(area: dict) -> None:
        try:
            new = subscriptions.prepare(rt, "sms", "+381641000009", "sr-Latn", area)
            barrier.wait()
            ids.append(subscriptions.subscribe(rt, new)[0])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(a,)) for a in areas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({_sub(rt, i).address_no for i in ids}) == 1
    assert len({_sub(rt, i).seq for i in ids}) == len(areas)


def test_import_shares_numbers_with_existing_and_within_the_file(rt):
    existing = _sub(rt, add_subscriber(rt, "+381641000001"))
    csv = ("channel,address,language,lat,lon,radius_km\n"
           "sms,+381641000001,en,44.9,20.5,3\n"
           "sms,+381641000002,en,44.9,20.5,3\n"
           "sms,+381641000002,en,45.0,20.5,3\n")
    report = import_csv(rt, io.StringIO(csv))
    assert report.imported == 3
    with Session(rt.engine) as s:
        rows = s.exec(select(Subscription).where(Subscription.source == "import").order_by(Subscription.seq)).all()
    assert rows[0].address_no == existing.address_no
    assert rows[1].address_no == rows[2].address_no == rows[1].seq
    assert rows[1].address_no != existing.address_no


# --- who is reached -----------------------------------------------------------------------------------------
def test_an_address_is_reached_once_through_its_oldest_subscription_across_chunks(rt):
    subs = [add_subscriber(rt, f"+38164100000{i}") for i in range(5)]
    late_cyrl = add_subscriber(rt, "+381641000000", language="sr-Cyrl", area={"regions": ["RS-00"]})
    outside = add_subscriber(rt, "+381641000099", area={"circle": {"lat": 43.32, "lon": 21.9, "radius_km": 5}})
    area = subscriptions.parse_subscription_area(rt, BELGRADE)
    with Session(rt.engine) as s:
        conn = s.connection()
        whole = fanout.recipients(s, rt.regions, area)
        small = list(fanout.recipient_chunks(conn, rt.regions, area, chunk=2))
    assert len(small) >= 3  # really read in several chunks
    seqs = {_sub(rt, x).seq: x for x in [*subs, late_cyrl, outside]}
    for got in (whole, recipients_store.Recipients.concat(small)):
        assert sorted(seqs[q] for q in got.seq.tolist()) == sorted(subs)  # not the later region one, not Niš
        assert len(set(got.address_no.tolist())) == len(got) == 5
        assert got.per_channel() == {"sms": 5, "email": 0, "total": 5}


def test_the_column_reader_refuses_a_null_instead_of_dropping_a_row(rt):
    with Session(rt.engine) as s:
        conn = s.connection()
        ok = recipients_store.read_columns(conn, "SELECT 1 + :x, 2.5", {"x": 41}, [("a", "i8"), ("b", "f8")]) \
            if conn.dialect.name != "postgresql" else \
            recipients_store.read_columns(conn, "SELECT CAST(1 + :x AS bigint), CAST(2.5 AS double precision)", {"x": 41},
                            [("a", "i8"), ("b", "f8")])
        assert ok["a"].tolist() == [42] and ok["b"].tolist() == [2.5]
        null = "SELECT CAST(NULL AS bigint) UNION ALL SELECT CAST(7 AS bigint)"
        with pytest.raises(RuntimeError, match="null"):
            recipients_store.read_columns(conn, null, {}, [("a", "i8")])


def test_read_ahead_hands_over_errors_and_stops_its_thread(engine):
    def produce(conn: sa.Connection):
        yield conn.execute(sa.text("SELECT 1")).scalar_one()
        raise ValueError("boom")

    got = []
    with pytest.raises(ValueError, match="boom"):
        for item in recipients_store.read_ahead(engine, produce):
            got.append(item)
    assert got == [1]

    def endless(conn: sa.Connection):
        n = 0
        while True:
            n += 1
            yield n

    reader = recipients_store.read_ahead(engine, endless)
    assert [next(reader) for _ in range(3)] == [1, 2, 3]
    reader.close()  # the consumer stops early: the thread ends and gives its connection back
    assert not any(t.name == "fanout-reader" and t.is_alive() for t in threading.enumerate())


# --- batches and the claim cursor ------------------------------------------------------------------------------
def test_every_row_of_an_approval_lies_in_its_batch_and_budgets_suppress_by_address(api, rt, factories):
    for i in range(4):
        add_subscriber(rt, f"+38164100000{i}")
    alert_id = _approve(api, rt, factories)
    with Session(rt.engine) as s:
        [batch] = s.exec(select(DeliveryBatch).where(DeliveryBatch.alert_id == alert_id)).all()
        rows = s.exec(select(Delivery).where(Delivery.alert_id == alert_id)).all()
        assert batch.kind == "alert" and batch.total == len(rows) == 4 and batch.next_id == batch.first_id
        assert all(batch.first_id <= r.id <= batch.last_id for r in rows)
    with transaction(rt.engine) as s:
        suppressed = np.array([rows[0].address_no, rows[2].address_no])
        rec = recipients_store.Recipients(np.array([r.subscription_seq for r in rows]),
                                np.array([r.address_no for r in rows]), np.zeros(4, np.int8))
        counts = deliveries_store.write_batch(s, alert_id, "update", 99, iter([rec.take([0, 1]), rec.take([2, 3])]),
                                         suppressed, rt.clock.now())
    with Session(rt.engine) as s:
        assert counts == {"queued": 2, "suppressed": 2}
        held = s.exec(select(Delivery.address_no).where(Delivery.update_id == 99,
                                                         Delivery.status == "suppressed")).all()
        assert sorted(held) == sorted(suppressed.tolist())


def test_claim_takes_due_retries_first_then_fresh_rows_in_order(api, rt, factories, clock):
    for i in range(5):
        add_subscriber(rt, f"+38164100000{i}")
    alert_id = _approve(api, rt, factories)
    t = Delivery.__table__
    with Session(rt.engine) as s:
        ids = sorted(s.exec(select(Delivery.id).where(Delivery.alert_id == alert_id)).all())
    first = claim(rt, 2)
    assert [c.id for c in first] == ids[:2]
    with rt.engine.begin() as conn:  # one back for a retry due now, one due later
        conn.execute(sa.update(t).where(t.c.id == ids[0]).values(status="queued", next_attempt_at=clock.now()))
        conn.execute(sa.update(t).where(t.c.id == ids[1]).values(
            status="queued", next_attempt_at=clock.now() + timedelta(minutes=5)))
    again = claim(rt, 2)
    assert [c.id for c in again] == [ids[0], ids[2]] and again[0].attempts == 2
    assert [c.id for c in claim(rt, 10)] == ids[3:]
    assert claim(rt, 10) == []  # the later retry is not due yet
    clock.advance(minutes=5)
    assert [c.id for c in claim(rt, 10)] == [ids[1]]


def test_claim_walks_past_rows_that_are_not_queued(api, rt, factories):
    for i in range(9):
        add_subscriber(rt, f"+38164100000{i}")
    alert_id = _approve(api, rt, factories)
    t = Delivery.__table__
    with Session(rt.engine) as s:
        ids = sorted(s.exec(select(Delivery.id).where(Delivery.alert_id == alert_id)).all())
    with rt.engine.begin() as conn:
        conn.execute(sa.update(t).where(t.c.id.in_(ids[:-1])).values(status="suppressed"))
    got = []
    for _ in range(len(ids)):  # a bounded number of claims, however many rows there are to pass
        got += claim(rt, 1)
    assert [c.id for c in got] == [ids[-1]]
    with Session(rt.engine) as s:
        batch = s.exec(select(DeliveryBatch).where(DeliveryBatch.alert_id == alert_id)).one()
    assert batch.next_id > batch.last_id  # done: no worker scans it again


def test_overlapping_batch_ranges_never_claim_a_row_twice(api, rt, factories):
    for i in range(6):
        add_subscriber(rt, f"+38164100000{i}")
    one, two = _approve(api, rt, factories), _approve(api, rt, factories)
    b = DeliveryBatch.__table__
    with rt.engine.begin() as conn:  # the second batch's range also covers the first one's rows
        low = conn.execute(sa.select(sa.func.min(b.c.first_id))).scalar_one()
        conn.execute(sa.update(b).where(b.c.alert_id == two).values(first_id=low, next_id=low))
    claimed = []
    while batch := claim(rt, 4):
        claimed += [c.id for c in batch]
    assert len(claimed) == len(set(claimed)) == 12
    with Session(rt.engine) as s:
        assert Counter(d.status for d in s.exec(select(Delivery))) == {"sending": 12}
        assert {d.alert_id for d in s.exec(select(Delivery))} == {one, two}


def test_resolve_cancels_the_rest_and_closes_the_alert_batch(api, rt, factories):
    for i in range(4):
        add_subscriber(rt, f"+38164100000{i}")
    alert_id = _approve(api, rt, factories)
    claim(rt, 1)
    r = api.as_supervisor().post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "found"})
    assert r.status_code == 200, r.json
    with Session(rt.engine) as s:
        batches = {x.kind: x for x in s.exec(select(DeliveryBatch).where(DeliveryBatch.alert_id == alert_id))}
        statuses = Counter((d.kind, d.status) for d in s.exec(select(Delivery).where(Delivery.alert_id == alert_id)))
    assert batches["alert"].next_id > batches["alert"].last_id
    assert batches["closing"].total == 1 and batches["closing"].next_id == batches["closing"].first_id
    assert statuses == {("alert", "sending"): 1, ("alert", "cancelled"): 3, ("closing", "queued"): 1}
    assert [c.kind for c in claim(rt, 10)] == ["closing"]
