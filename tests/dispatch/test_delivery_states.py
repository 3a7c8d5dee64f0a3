"""The delivery state machine, on both databases: every operation that changes a delivery's status moves only
the rows the transition table lets it move, and a row in a final state never moves again.

Each operation runs once against seven rows of one alert, one row in each status; afterwards every row is either
where it was or where the table allows it to go from there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from alertsvc.models import DELIVERY_TRANSITIONS, FINAL_DELIVERY, Delivery, DeliveryBatch, DeliveryStatus
from alertsvc.store import deliveries
from alertsvc.store.deliveries import IllegalTransition, SendOutcome, require_transition

S = DeliveryStatus
NOW = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
ALERT = "00000000-0000-4000-8000-00000000a1e7"
FIRST_ID = 101
ROWS = {FIRST_ID + i: status for i, status in enumerate(S)}  # one row per status


def _rows(engine: sa.Engine) -> None:
    then = NOW - timedelta(hours=1)  # long enough ago for the sweep
    with engine.begin() as conn:
        conn.execute(sa.insert(Delivery.__table__), [
            {"id": i, "alert_id": ALERT, "subscription_seq": i, "address_no": i, "channel": "sms", "kind": "alert",
             "update_id": 0, "status": str(status), "attempts": 1, "provider_id": f"SM{i}", "created_at": then,
             "updated_at": then} for i, status in ROWS.items()])
        conn.execute(sa.insert(DeliveryBatch.__table__).values(
            alert_id=ALERT, kind="alert", update_id=0, first_id=FIRST_ID, last_id=max(ROWS), next_id=FIRST_ID,
            total=len(ROWS), created_at=then))


def _statuses(engine: sa.Engine) -> dict[int, str]:
    t = Delivery.__table__
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(t.c.id, t.c.status)).all())


def _record(status: DeliveryStatus) -> Callable[[sa.Engine], object]:
    retry = NOW + timedelta(seconds=5) if status == S.QUEUED else None
    return lambda engine: deliveries.record_outcomes(
        engine, [SendOutcome(i, status, provider_id=f"SM{i}", error=None if status == S.SENT else "x",
                             next_attempt_at=retry) for i in ROWS], NOW)


def _cancel(engine: sa.Engine) -> object:
    with Session(engine) as s:
        n = deliveries.cancel_queued(s, ALERT, NOW)
        s.commit()
    return n


def _callback(status: DeliveryStatus, by_reference: bool = False) -> Callable[[sa.Engine], object]:
    def run(engine: sa.Engine) -> object:
        return [deliveries.record_callback(engine, "SMunknown" if by_reference else f"SM{i}", status, NOW,
                                           delivery_id=i if by_reference else None) for i in ROWS]
    return run


# (operation, what it runs, the statuses it moves rows from, where to)
OPERATIONS: list[tuple[str, Callable[[sa.Engine], object], set[DeliveryStatus], DeliveryStatus]] = [
    ("claim", lambda engine: deliveries.claim(engine, NOW, 10), {S.QUEUED}, S.SENDING),
    ("record sent", _record(S.SENT), {S.SENDING}, S.SENT),
    ("record failed", _record(S.FAILED), {S.SENDING}, S.FAILED),
    ("record retry", _record(S.QUEUED), {S.SENDING}, S.QUEUED),
    ("record unsubscribed", _record(S.CANCELLED), {S.SENDING}, S.CANCELLED),
    ("sweep", lambda engine: deliveries.sweep_sending(engine, NOW, timedelta(minutes=5), "unknown"),
     {S.SENDING}, S.FAILED),
    ("cancel on resolve", _cancel, {S.QUEUED}, S.CANCELLED),
    ("callback delivered", _callback(S.DELIVERED), {S.SENT, S.SENDING}, S.DELIVERED),
    ("callback failed", _callback(S.FAILED), {S.SENT, S.SENDING}, S.FAILED),
    ("callback delivered by reference", _callback(S.DELIVERED, by_reference=True), {S.SENT, S.SENDING}, S.DELIVERED),
]


@pytest.mark.parametrize(("name", "run", "sources", "target"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_an_operation_moves_only_what_the_table_allows(engine, name, run, sources, target):
    assert all(target in DELIVERY_TRANSITIONS[s] for s in sources), f"{name} does what the table does not allow"
    _rows(engine)
    run(engine)
    after = _statuses(engine)
    expected = {i: str(target) if status in sources else str(status) for i, status in ROWS.items()}
    assert after == expected
    for i, status in ROWS.items():
        assert after[i] == status or S(after[i]) in DELIVERY_TRANSITIONS[status], (name, status, after[i])


@pytest.mark.parametrize(("name", "run", "final"), [
    ("record sent on a cancelled row", _record(S.SENT), S.CANCELLED),
    ("callback delivered on a failed row", _callback(S.DELIVERED), S.FAILED),
    ("callback failed on a delivered row", _callback(S.FAILED), S.DELIVERED),
    ("sweep on a suppressed row", lambda engine: deliveries.sweep_sending(engine, NOW, timedelta(0), "x"),
     S.SUPPRESSED),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_final_row_never_moves(engine, name, run, final):
    _rows(engine)
    run(engine)
    row = next(i for i, status in ROWS.items() if status == final)
    assert _statuses(engine)[row] == final


def test_sweep_leaves_a_sent_row_alone(engine):
    _rows(engine)
    deliveries.sweep_sending(engine, NOW, timedelta(0), "x")
    row = next(i for i, status in ROWS.items() if status == S.SENT)
    assert _statuses(engine)[row] == S.SENT


# --- the table itself (no database) --------------------------------------------------------------------------
def test_final_states_are_the_ones_nothing_follows():
    assert {S.DELIVERED, S.FAILED, S.SUPPRESSED, S.CANCELLED} == FINAL_DELIVERY
    assert set(DELIVERY_TRANSITIONS) == set(S)
    assert all(not DELIVERY_TRANSITIONS[s] for s in FINAL_DELIVERY)


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in S for b in S if b not in DELIVERY_TRANSITIONS[a]])
def test_every_move_outside_the_table_is_refused_before_any_sql(source, target):
    with pytest.raises(IllegalTransition):
        require_transition([source], target)


@pytest.mark.parametrize("status", [s for s in S if s not in DELIVERY_TRANSITIONS[S.SENDING]])
def test_a_send_outcome_is_a_move_from_sending(status):
    with pytest.raises(IllegalTransition):
        SendOutcome(1, status)


def test_a_retry_and_only_a_retry_has_a_due_time():
    with pytest.raises(IllegalTransition):
        SendOutcome(1, S.QUEUED)
    with pytest.raises(IllegalTransition):
        SendOutcome(1, S.FAILED, next_attempt_at=NOW)
    assert SendOutcome(1, S.QUEUED, error="503", next_attempt_at=NOW).status == S.QUEUED


def test_a_callback_sets_only_a_provider_outcome(engine):
    with pytest.raises(IllegalTransition):
        deliveries.record_callback(engine, "SM1", S.SENT, NOW)
