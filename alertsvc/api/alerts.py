"""Alerts: request (operator), decide (another person, a supervisor), update, resolve; fatigue use."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

import criteria

from .. import audit
from ..dispatch import fanout
from ..models import Alert, Delivery, Role, Staff, Subscription
from ..schemas import (
    AlertIn,
    AlertOut,
    ApproveIn,
    DeliveryCounts,
    DeliveryOut,
    FatigueOut,
    ReasonIn,
    ResolveIn,
    UpdateIn,
)
from ..services import alerts, cases, fatigue
from . import bp
from .registry import endpoint, runtime

STAFF = tuple(Role)


def _usernames(s: Session, *ids: int | None) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(s.exec(select(Staff.id, Staff.username).where(Staff.id.in_(wanted))).all())  # type: ignore


def brief(s: Session, alert: Alert) -> dict:
    """Everything a supervisor needs on one screen: criteria now, area, reach, territory budget, SMS size."""
    rt = runtime()
    case = cases.get_case(s, alert.case_id)
    now = rt.clock.now()
    evaluation = criteria.evaluate(rt.active_profile, cases.facts_of(case), now=now)
    uses = fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories)
    return {
        "case": {"id": case.id, "reference": case.reference, "status": case.status},
        "evaluation": evaluation.to_dict(),
        "approval_checklist": [{"id": i.id, "text": i.text} for i in rt.active_profile.approval_checklist],
        "area": alert.area, "territories": alert.territories,
        "estimated_recipients": alert.estimated_recipients,
        "fatigue": [{**u.to_dict(), "remaining_after_approval": max(0, u.remaining - 1)} for u in uses.values()],
        "fatigue_blocked": [u.territory for u in fatigue.blocked(uses)],
        "sms_segments": _sms_segments(s, alert),
    }


def _sms_segments(s: Session, alert: Alert) -> dict[str, int]:
    """Segments of the alert SMS per language, as the worker will render it."""
    from ..dispatch.worker import Dispatcher

    rt = runtime()
    dispatcher = Dispatcher(rt)
    facts = dispatcher.facts(s, alert.id, 0)
    return {lang: rt.renderer.sms_info(lang, facts, dispatcher.placeholder_url).segments
            for lang in ("sr-Latn", "sr-Cyrl", "en")}


def alert_out(s: Session, alert: Alert, with_brief: bool = True) -> AlertOut:
    names = _usernames(s, alert.requested_by, alert.decided_by, alert.override_by)
    return AlertOut(
        id=alert.id, case_id=alert.case_id, status=alert.status, area=alert.area, territories=alert.territories,
        estimated_recipients=alert.estimated_recipients, message={"text": alert.message_text},
        requested_at=alert.requested_at, requested_by=names.get(alert.requested_by),
        decided_at=alert.decided_at, decided_by=names.get(alert.decided_by or 0),
        decision_reason=alert.decision_reason, checklist=alert.checklist,
        override_by=names.get(alert.override_by or 0), activated_at=alert.activated_at,
        expires_at=alert.expires_at, resolved_at=alert.resolved_at, outcome=alert.outcome,
        deliveries=DeliveryCounts(**alerts.delivery_counts(s, alert.id)),
        brief=brief(s, alert) if with_brief else None)


def _read(alert_id: str) -> AlertOut:
    with Session(runtime().engine) as s:
        return alert_out(s, alerts.get_alert(s, alert_id))


@endpoint(bp, "/cases/<case_id>/alerts", "POST", summary="Request an alert for a case (pending approval)",
          tag="alerts", roles=(Role.OPERATOR,), body=AlertIn, responses={201: AlertOut}, errors=(409,))
def request_alert(actor: audit.Actor, case_id: str, body: AlertIn) -> tuple[AlertOut, int, dict[str, str]]:
    alert_id = alerts.request_alert(runtime(), actor, case_id, body.area.model_dump(exclude_none=True),
                                    body.message.text)
    return _read(alert_id), 201, {"Location": f"/api/v1/alerts/{alert_id}"}


@endpoint(bp, "/alerts/<alert_id>", "GET", summary="An alert with its decision brief and delivery counts",
          tag="alerts", roles=STAFF, responses={200: AlertOut})
def get_alert(actor: audit.Actor, alert_id: str) -> AlertOut:
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/approve", "POST", summary="Approve (a supervisor who did not request it)",
          tag="alerts", roles=(Role.SUPERVISOR,), body=ApproveIn, responses={200: AlertOut}, errors=(409, 429))
def approve_alert(actor: audit.Actor, alert_id: str, body: ApproveIn) -> AlertOut:
    alerts.approve_alert(runtime(), actor, alert_id, body.reason, body.checklist)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/reject", "POST", summary="Reject with a reason", tag="alerts",
          roles=(Role.SUPERVISOR,), body=ReasonIn, responses={200: AlertOut}, errors=(409,))
def reject_alert(actor: audit.Actor, alert_id: str, body: ReasonIn) -> AlertOut:
    alerts.reject_alert(runtime(), actor, alert_id, body.reason)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/override", "POST",
          summary="Lift the territory fatigue budget for this alert (a second supervisor; audited)",
          tag="alerts", roles=(Role.SUPERVISOR,), body=ReasonIn, responses={200: AlertOut}, errors=(409,))
def override_fatigue(actor: audit.Actor, alert_id: str, body: ReasonIn) -> AlertOut:
    alerts.grant_override(runtime(), actor, alert_id, body.reason)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/updates", "POST", summary="Send an update to everyone already alerted",
          tag="alerts", roles=(Role.OPERATOR, Role.SUPERVISOR), body=UpdateIn, responses={200: AlertOut},
          errors=(409,))
def post_update(actor: audit.Actor, alert_id: str, body: UpdateIn) -> AlertOut:
    alerts.post_update(runtime(), actor, alert_id, body.text)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/resolve", "POST",
          summary="End the alert: queued messages are cancelled, everyone reached gets one closing message",
          tag="alerts", roles=(Role.OPERATOR, Role.SUPERVISOR), body=ResolveIn, responses={200: AlertOut},
          errors=(409,))
def resolve_alert(actor: audit.Actor, alert_id: str, body: ResolveIn) -> AlertOut:
    alerts.end_alert(runtime(), actor, alert_id, body.outcome, body.note)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/renew", "POST", summary="Extend an active alert's expiry", tag="alerts",
          roles=(Role.SUPERVISOR,), responses={200: AlertOut}, errors=(409,))
def renew_alert(actor: audit.Actor, alert_id: str) -> AlertOut:
    alerts.renew_alert(runtime(), actor, alert_id)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/deliveries", "GET", summary="Every delivery of the alert", tag="alerts",
          roles=(Role.SUPERVISOR,), responses={200: list[DeliveryOut]})
def list_deliveries(actor: audit.Actor, alert_id: str) -> list[DeliveryOut]:
    t, sub = Delivery.__table__, Subscription.__table__
    with Session(runtime().engine) as s:
        alerts.get_alert(s, alert_id)
        rows = s.connection().execute(
            sa.select(sub.c.id, t.c.channel, t.c.kind, t.c.status, t.c.attempts)
            .join(sub, sub.c.seq == t.c.subscription_seq)
            .where(fanout.alert_filter(s, alert_id)).order_by(t.c.id)).all()
    return [DeliveryOut(subscription_id=r[0], channel=r[1], kind=r[2], status=r[3], attempts=r[4]) for r in rows]


@endpoint(bp, "/fatigue", "GET", summary="Alerts per territory in the fatigue window", tag="alerts",
          roles=STAFF, responses={200: FatigueOut})
def get_fatigue(actor: audit.Actor) -> FatigueOut:
    rt = runtime()
    cfg = rt.settings.fatigue
    with Session(rt.engine) as s:
        uses = fatigue.territory_use(s, cfg, rt.clock.now(), list(rt.regions.codes()))
    return FatigueOut(territory_max_alerts=cfg.territory_max_alerts, territory_window_hours=cfg.territory_window_hours,
                      subscriber_max_messages=cfg.subscriber_max_messages,
                      subscriber_window_hours=cfg.subscriber_window_hours,
                      territories=[u.to_dict() for u in uses.values()])
