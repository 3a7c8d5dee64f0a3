"""Alerts: request (operator), decide (another person, a supervisor), update (requested, then approved by
another person), resolve; fatigue use."""

from __future__ import annotations

from .. import audit
from ..context import runtime
from ..models import Alert, Role
from ..schemas import (
    AlertIn,
    AlertListQuery,
    AlertOut,
    AlertPageOut,
    AlertSummaryOut,
    ApproveIn,
    DecisionBrief,
    DeliveryCounts,
    DeliveryOut,
    FatigueOut,
    MessagePreview,
    OverrideOut,
    ReasonIn,
    ResolveIn,
    SinceDecisionOut,
    TerritoryUseOut,
    UpdateIn,
    UpdateOut,
)
from ..services import alerts, cases, fatigue
from .blueprint import bp
from .registry import endpoint

STAFF = tuple(Role)


def update_out(alert: Alert, record: alerts.UpdateRecord, names: dict[int, str]) -> UpdateOut:
    upd = record.update
    preview = ({lang: MessagePreview(**p) for lang, p in record.preview.items()}
               if record.preview is not None else None)
    counts = DeliveryCounts(**record.deliveries) if record.deliveries is not None else None
    return UpdateOut(id=upd.id or 0, alert_id=alert.id, kind=upd.kind, status=upd.status, text=upd.text,
                     facts=upd.facts if upd.kind == "update" else None, case_revision=upd.case_revision,
                     requested_by=names.get(upd.created_by or 0), requested_at=upd.created_at,
                     decided_by=names.get(upd.decided_by or 0), decided_at=upd.decided_at,
                     decision_reason=upd.decision_reason, preview=preview, deliveries=counts)


def alert_out(record: alerts.AlertRecord) -> AlertOut:
    alert, names = record.alert, record.names
    return AlertOut(
        id=alert.id, case_id=alert.case_id, status=alert.status, area=alert.area, territories=alert.territories,
        estimated_recipients=alert.estimated_recipients, message={"text": alert.message_text},
        requested_at=alert.requested_at, requested_by=names.get(alert.requested_by),
        decided_at=alert.decided_at, decided_by=names.get(alert.decided_by or 0),
        decision_reason=alert.decision_reason, checklist=alert.checklist,
        overrides=[OverrideOut(by=names.get(o.granted_by), reason=o.reason, at=o.granted_at)
                   for o in record.overrides],
        case_revision=alert.case_revision, approved_revision=alert.approved_revision, facts=alert.facts,
        activated_at=alert.activated_at, expires_at=alert.expires_at, resolved_at=alert.resolved_at,
        outcome=alert.outcome, deliveries=DeliveryCounts(**record.deliveries),
        updates=[update_out(alert, u, names) for u in record.updates],
        brief=DecisionBrief.model_validate(record.brief) if record.brief is not None else None,
        since_decision=(SinceDecisionOut.model_validate(record.since_decision)
                        if record.since_decision is not None else None))


def _read(alert_id: str) -> AlertOut:
    return alert_out(alerts.read_alert(runtime(), alert_id))


def _read_update(alert_id: str, update_id: int) -> UpdateOut:
    alert, record, names = alerts.read_update(runtime(), alert_id, update_id)
    return update_out(alert, record, names)


@endpoint(bp, "/cases/<case_id>/alerts", "POST", summary="Request an alert for a case (pending approval)",
          tag="alerts", roles=(Role.OPERATOR,), body=AlertIn, responses={201: AlertOut}, errors=(409,))
def request_alert(actor: audit.Actor, case_id: str, body: AlertIn) -> tuple[AlertOut, int, dict[str, str]]:
    alert_id = alerts.request_alert(runtime(), actor, case_id, body.area.model_dump(exclude_none=True),
                                    body.message.text)
    return _read(alert_id), 201, {"Location": f"/api/v1/alerts/{alert_id}"}


def alert_summary_out(item: alerts.AlertSummary) -> AlertSummaryOut:
    return AlertSummaryOut(
        id=item.id, case_id=item.case_id, case_reference=item.case_reference, status=item.status,
        requested_at=item.requested_at, requested_by=item.requested_by, decided_at=item.decided_at,
        decided_by=item.decided_by, activated_at=item.activated_at, expires_at=item.expires_at,
        resolved_at=item.resolved_at, territories=item.territories, estimated_recipients=item.estimated_recipients,
        deliveries=DeliveryCounts(**item.deliveries) if item.deliveries is not None else None,
        pending_updates=item.pending_updates)


@endpoint(bp, "/alerts", "GET",
          summary="Alerts for a work queue by request time, with delivery progress, a page at a time",
          tag="alerts", roles=STAFF, query=AlertListQuery, responses={200: AlertPageOut})
def list_alerts(actor: audit.Actor, query: AlertListQuery) -> AlertPageOut:
    """Filter by ``status`` (repeatable, or comma-separated), ``district`` (alerts whose territories include the
    region) and ``case_id``. ``order=oldest`` lists the longest-waiting first (the approval queue). Keyset paging
    on (request time, id): pass ``next_cursor`` back as ``cursor`` with the same ``order``."""
    page = alerts.list_alerts(runtime(), statuses=query.status, district=query.district, case_id=query.case_id,
                              limit=query.limit, cursor=query.cursor, oldest_first=query.order == "oldest")
    return AlertPageOut(items=[alert_summary_out(i) for i in page.items], next_cursor=page.next_cursor)


@endpoint(bp, "/alerts/<alert_id>", "GET",
          summary="An alert with its published facts, decision brief, updates and delivery counts (audited read)",
          tag="alerts", roles=STAFF, responses={200: AlertOut})
def get_alert(actor: audit.Actor, alert_id: str) -> AlertOut:
    out = _read(alert_id)
    cases.record_view(runtime(), actor, out.case_id, "alert")
    return out


@endpoint(bp, "/alerts/<alert_id>/approve", "POST",
          summary="Approve (a supervisor who neither requested it, overrode its budget nor changed the case since)",
          tag="alerts", roles=(Role.SUPERVISOR,), body=ApproveIn, responses={200: AlertOut}, errors=(409, 429),
          refusal="alert.approval")
def approve_alert(actor: audit.Actor, alert_id: str, body: ApproveIn) -> AlertOut:
    alerts.approve_alert(runtime(), actor, alert_id, body.reason, body.checklist, body.case_revision)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/reject", "POST", summary="Reject with a reason", tag="alerts",
          roles=(Role.SUPERVISOR,), body=ReasonIn, responses={200: AlertOut}, errors=(409,),
          refusal="alert.rejection")
def reject_alert(actor: audit.Actor, alert_id: str, body: ReasonIn) -> AlertOut:
    alerts.reject_alert(runtime(), actor, alert_id, body.reason)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/override", "POST",
          summary="Lift the territory fatigue budget for this alert (a second supervisor; every override kept)",
          tag="alerts", roles=(Role.SUPERVISOR,), body=ReasonIn, responses={200: AlertOut}, errors=(409,),
          refusal="alert.fatigue_override")
def override_fatigue(actor: audit.Actor, alert_id: str, body: ReasonIn) -> AlertOut:
    alerts.grant_override(runtime(), actor, alert_id, body.reason)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/updates", "POST",
          summary="Request an update to everyone already alerted (sent when another person, a supervisor, "
                  "approves it)",
          tag="alerts", roles=(Role.OPERATOR, Role.SUPERVISOR), body=UpdateIn, responses={201: UpdateOut},
          errors=(409,))
def request_update(actor: audit.Actor, alert_id: str, body: UpdateIn) -> tuple[UpdateOut, int, dict[str, str]]:
    update_id = alerts.request_update(runtime(), actor, alert_id, body.text, body.facts)
    return (_read_update(alert_id, update_id), 201,
            {"Location": f"/api/v1/alerts/{alert_id}/updates/{update_id}"})


@endpoint(bp, "/alerts/<alert_id>/updates/<int:update_id>", "GET",
          summary="One update, with a preview of its message in each language while it waits", tag="alerts",
          roles=STAFF, responses={200: UpdateOut})
def get_update(actor: audit.Actor, alert_id: str, update_id: int) -> UpdateOut:
    return _read_update(alert_id, update_id)


@endpoint(bp, "/alerts/<alert_id>/updates/<int:update_id>/approve", "POST",
          summary="Approve and send an update (a supervisor who did not request it nor change the facts it "
                  "publishes)",
          tag="alerts", roles=(Role.SUPERVISOR,), body=ReasonIn, responses={200: UpdateOut}, errors=(409,),
          refusal="alert.update_approval")
def approve_update(actor: audit.Actor, alert_id: str, update_id: int, body: ReasonIn) -> UpdateOut:
    alerts.approve_update(runtime(), actor, alert_id, update_id, body.reason)
    return _read_update(alert_id, update_id)


@endpoint(bp, "/alerts/<alert_id>/updates/<int:update_id>/reject", "POST", summary="Reject an update",
          tag="alerts", roles=(Role.SUPERVISOR,), body=ReasonIn, responses={200: UpdateOut}, errors=(409,),
          refusal="alert.update_rejection")
def reject_update(actor: audit.Actor, alert_id: str, update_id: int, body: ReasonIn) -> UpdateOut:
    alerts.reject_update(runtime(), actor, alert_id, update_id, body.reason)
    return _read_update(alert_id, update_id)


@endpoint(bp, "/alerts/<alert_id>/resolve", "POST",
          summary="End the alert: queued messages are cancelled, everyone reached gets one closing message",
          tag="alerts", roles=(Role.OPERATOR, Role.SUPERVISOR), body=ResolveIn, responses={200: AlertOut},
          errors=(409,))
def resolve_alert(actor: audit.Actor, alert_id: str, body: ResolveIn) -> AlertOut:
    alerts.end_alert(runtime(), actor, alert_id, body.outcome, body.note)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/renew", "POST",
          summary="Extend an active alert's expiry (the case must still meet the active profile)", tag="alerts",
          roles=(Role.SUPERVISOR,), responses={200: AlertOut}, errors=(409,), refusal="alert.renewal")
def renew_alert(actor: audit.Actor, alert_id: str) -> AlertOut:
    alerts.renew_alert(runtime(), actor, alert_id)
    return _read(alert_id)


@endpoint(bp, "/alerts/<alert_id>/deliveries", "GET", summary="Every delivery of the alert", tag="alerts",
          roles=(Role.SUPERVISOR,), responses={200: list[DeliveryOut]})
def list_deliveries(actor: audit.Actor, alert_id: str) -> list[DeliveryOut]:
    return [DeliveryOut(subscription_id=r.subscription_id, channel=r.channel, kind=r.kind, status=r.status,
                        attempts=r.attempts) for r in alerts.list_deliveries(runtime(), alert_id)]


@endpoint(bp, "/fatigue", "GET", summary="Alerts per territory in the fatigue window", tag="alerts",
          roles=STAFF, responses={200: FatigueOut})
def get_fatigue(actor: audit.Actor) -> FatigueOut:
    rt = runtime()
    cfg = rt.settings.fatigue
    uses = fatigue.current_use(rt)
    return FatigueOut(territory_max_alerts=cfg.territory_max_alerts, territory_window_hours=cfg.territory_window_hours,
                      subscriber_max_messages=cfg.subscriber_max_messages,
                      subscriber_window_hours=cfg.subscriber_window_hours,
                      territories=[TerritoryUseOut.model_validate(u.to_dict()) for u in uses.values()])
