"""Alerts: request (operator), approve or reject (another person, a supervisor), update, resolve, expire.

Four eyes is about content, not buttons:

* An alert publishes a snapshot of the case's public facts taken when it is approved (``alert.facts``); the
  live case is never read by the page, the public API, CAP or the messages.
* Nobody approves what they requested, a fatigue override they granted, or a case whose facts they changed
  since the request. Every override is kept.
* An update with new text (and, with ``facts``, the case's changed facts) is requested by one person and sent
  only when a supervisor who is someone else, and who did not change those facts, approves it. The fixed
  closing message of a resolve stays one person's act.
* Every refused decision is audited (``<decision>_refused``), with the reason, whatever refused it: the role,
  four eyes, the state, the criteria, the fatigue budget or an unanswered checklist.

Approval re-evaluates the case against the active profile, enforces the territory fatigue budget and, in the
same transaction as the status change, writes one delivery row per recipient (the outbox).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import Session

import criteria
import geo

from .. import audit, facts, store
from ..dispatch import fanout
from ..errors import (
    Conflict,
    CriteriaNotMet,
    DomainError,
    FatigueLimitReached,
    Forbidden,
    FourEyesViolation,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from ..messages import LANGUAGES
from ..models import (
    Alert,
    AlertOverride,
    AlertStatus,
    AlertUpdate,
    Case,
    CaseStatus,
    DeliveryKind,
    UpdateStatus,
)
from ..runtime import Runtime
from ..store import alerts as alert_rows
from ..store import cases as case_rows
from ..store import deliveries as delivery_rows
from ..store import staff as staff_rows
from ..unsubscribe import unsubscribe_url
from . import cases, fatigue, paging
from .common import check_region, get_or_404, parse_area

T = TypeVar("T")
REFUSALS = (Forbidden, Conflict, TooManyRequests, ValidationFailed)


def parse_alert_area(rt: Runtime, data: dict[str, Any]) -> geo.Area:
    return parse_area(rt.regions, data)


def _lock_alert(s: Session, alert_id: str) -> Alert:
    return get_or_404(s, Alert, alert_id, "alert", lock=True)


def _lock_case_and_alert(s: Session, alert_id: str) -> tuple[Case, Alert]:
    """Row locks in the one order every writer uses (case, then alert), so closing a case and approving its
    alert cannot deadlock."""
    case_id = get_alert(s, alert_id).case_id
    case = cases.lock_case(s, case_id)
    return case, _lock_alert(s, alert_id)


def get_alert(s: Session, alert_id: str) -> Alert:
    return get_or_404(s, Alert, alert_id, "alert")


def request_alert(rt: Runtime, actor: audit.Actor, case_id: str, area_data: dict[str, Any],
                  text: str | None) -> str:
    area = parse_alert_area(rt, area_data)
    now = rt.clock.now()
    with store.write(rt) as s:
        case = cases.get_case(s, case_id)
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is {case.status}; alerts need an open case")
        rec = fanout.recipients(s, rt.regions, area)
        alert = Alert(case_id=case.id, area=area.to_json(), territories=area.territories(rt.regions),
                      message_text=text, estimated_recipients=rec.per_channel(), requested_by=actor.id or 0,
                      requested_at=now, case_revision=case.revision)
        alert_rows.add(s, alert)
        audit.record(s, actor, "alert.requested", object_type="alert", object_id=alert.id, case_id=case.id, now=now,
                     details={"area_kind": area.kind, "territories": alert.territories,
                              "case_revision": case.revision,
                              "estimated_recipients": alert.estimated_recipients, "custom_text": text is not None})
        return alert.id


# --- four eyes ---------------------------------------------------------------------------------------
def _editors(s: Session, case_id: str, after_revision: int, upto_revision: int | None = None) -> set[int]:
    """Who changed the case's facts in revisions ``after_revision + 1 .. upto_revision``."""
    return case_rows.editors(s, case_id, after_revision, upto_revision)


def overrides(s: Session, alert_id: str) -> list[AlertOverride]:
    return alert_rows.overrides(s, alert_id)


def excluded_approvers(s: Session, alert: Alert) -> dict[int, str]:
    """Everyone who may not approve ``alert``, each with the reason."""
    out: dict[int, str] = {}
    for editor in _editors(s, alert.case_id, alert.case_revision):
        out[editor] = "changed the case's facts after the alert was requested"
    for o in overrides(s, alert.id):
        out[o.granted_by] = "granted a fatigue override for this alert"
    out[alert.requested_by] = "requested this alert"
    return out


def excluded_update_approvers(s: Session, alert: Alert, upd: AlertUpdate) -> dict[int, str]:
    """Everyone who may not approve update ``upd``: its author and, when it publishes new facts, whoever
    changed them since the facts the public has were approved."""
    out: dict[int, str] = {}
    if upd.facts is not None and upd.case_revision is not None:
        for editor in _editors(s, alert.case_id, alert.approved_revision or alert.case_revision, upd.case_revision):
            out[editor] = "changed the case's facts this update publishes"
    if upd.created_by is not None:
        out[upd.created_by] = "requested this update"
    return out


def _check_four_eyes(excluded: dict[int, str], actor: audit.Actor, what: str) -> None:
    if actor.id in excluded:
        raise FourEyesViolation(f"You {excluded[actor.id]}, so you cannot approve {what}; "
                                "another supervisor must.")


def _refusal(exc: DomainError) -> dict[str, Any]:
    details: dict[str, Any] = {"why": exc.type, "status": exc.status}
    if isinstance(exc, CriteriaNotMet):
        details.update(profile=exc.extra.get("profile"), version=exc.extra.get("version"),
                       unmet=[u["criterion"] for u in exc.extra.get("unmet", [])])
    elif isinstance(exc, FatigueLimitReached):
        details["territories"] = [t["territory"] for t in exc.extra.get("territories", [])]
    elif isinstance(exc, ValidationFailed):
        details["fields"] = [e["field"] for e in exc.errors]
    elif isinstance(exc, Conflict) and "changes" in exc.extra:
        details["changed"] = [c["field"] for c in exc.extra["changes"]]  # names only: never the values
    return details


def record_refusal(rt: Runtime, actor: audit.Actor, decision: str, alert_id: str, exc: DomainError,
                   update_id: int | None = None) -> None:
    """Audit a refused decision, in a transaction of its own (the refused decision changed nothing)."""
    with store.write(rt) as s:
        alert = alert_rows.get_alert(s, alert_id)
        if alert is None:
            return  # no such alert: nothing was decided about anything
        details = _refusal(exc)
        if update_id is not None:
            details["update_id"] = update_id
        audit.record(s, actor, f"{decision}_refused", object_type="alert", object_id=alert.id,
                     case_id=alert.case_id, now=rt.clock.now(), details=details)


def _decision(rt: Runtime, actor: audit.Actor, decision: str, alert_id: str, fn: Callable[[], T],
              update_id: int | None = None) -> T:
    try:
        return fn()
    except REFUSALS as exc:
        record_refusal(rt, actor, decision, alert_id, exc, update_id)
        raise


def _require_criteria(rt: Runtime, case: Case, now: datetime) -> criteria.Evaluation:
    profile = rt.active_profile
    evaluation = criteria.evaluate(profile, cases.facts_of(case), now=now)
    if not evaluation.met:
        unmet = [r.to_dict() for r in evaluation.unmet()]
        raise CriteriaNotMet(
            f"The case does not meet the active profile {profile.id!r}: "
            + ", ".join(u["criterion"] for u in unmet) + ".",
            extra={"profile": profile.id, "version": profile.version, "unmet": unmet})
    return evaluation


def _check_checklist(rt: Runtime, checklist: dict[str, bool]) -> None:
    items = rt.active_profile.approval_checklist
    missing = [item.id for item in items if checklist.get(item.id) is not True]
    unknown = sorted(set(checklist) - {item.id for item in items})
    if missing or unknown:
        raise ValidationFailed([{"field": f"checklist.{i}", "message": "must be answered true to approve"}
                                for i in missing] +
                               [{"field": f"checklist.{i}", "message": "is not in the active profile's checklist"}
                                for i in unknown])


# --- what the supervisor saw -------------------------------------------------------------------------
DECIDING_SECTIONS = ("child", "last_seen", "circumstances", "police")  # the case facts a decision rests on


def _state_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def decision_state_in(rt: Runtime, s: Session, alert: Alert, case: Case, now: datetime) -> dict[str, str]:
    """What a supervisor decides on, flat (``{"case.child.name": "Milica", "criteria.abduction": "met", ...}``):
    the alert's status and overrides, the case's status, revision and facts (not the reporter), each criterion's
    verdict under the active profile, its approval checklist, and each territory's budget. Not the estimated
    reach: subscriptions keep arriving while an alert waits, and that alone must not refuse an approval."""
    profile = rt.active_profile
    evaluation = criteria.evaluate(profile, cases.facts_of(case), now=now)
    out = {"alert.status": str(alert.status), "alert.overrides": str(len(overrides(s, alert.id))),
           "case.status": str(case.status), "case.revision": str(case.revision)}
    for section in DECIDING_SECTIONS:
        for key, value in sorted((getattr(case, section) or {}).items()):
            out[f"case.{section}.{key}"] = _state_text(value)
    out["criteria.profile"] = f"{profile.id} {profile.version[:12]}"
    for result in evaluation.results:
        out[f"criteria.{result.criterion}"] = result.verdict.value
    out["checklist"] = " ".join(item.id for item in profile.approval_checklist)
    for territory, use in fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories).items():
        out[f"fatigue.{territory}"] = f"{use.used}/{use.limit}"
    return out


def decision_state(rt: Runtime, alert_id: str) -> dict[str, str]:
    """The state of a pending alert's decision as a supervisor sees it now (for ``approve_alert(seen=...)``)."""
    with store.read(rt) as s:
        alert = get_alert(s, alert_id)
        return decision_state_in(rt, s, alert, cases.get_case(s, alert.case_id), rt.clock.now())


def state_changes(seen: Mapping[str, str], now: Mapping[str, str]) -> list[dict[str, str | None]]:
    """Each item that differs between two decision states, in order: ``{"field", "old", "new"}`` (None: absent)."""
    keys = list(now) + [k for k in seen if k not in now]
    return [{"field": k, "old": seen.get(k), "new": now.get(k)} for k in keys if seen.get(k) != now.get(k)]


def _check_unchanged(seen: Mapping[str, str], now: Mapping[str, str], case: Case) -> None:
    changes = state_changes(seen, now)
    if changes:
        raise Conflict(f"What you read changed before you approved ({', '.join(c['field'] or '' for c in changes)}); "
                       "read the alert again before approving.",
                       extra={"changes": changes, "case_revision": case.revision})


# --- decisions on an alert ---------------------------------------------------------------------------
def approve_alert(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str,
                  checklist: dict[str, bool], case_revision: int | None = None,
                  seen: Mapping[str, str] | None = None) -> dict[str, int]:
    """Four eyes, the active profile, the territory budget; then active + delivery rows, atomically.
    ``case_revision``, when given, is the revision the supervisor read: a case changed since is refused.
    ``seen``, when given, is the ``decision_state`` of the screen the supervisor decided on: an alert, case,
    evaluation or budget that changed since is refused (``Conflict`` whose ``extra["changes"]`` lists each
    changed item with its old and new value). A refusal is audited in its own transaction, then raised."""
    return _decision(rt, actor, "alert.approval", alert_id,
                     lambda: _approve(rt, actor, alert_id, reason, checklist, case_revision, seen))


def _approve(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str, checklist: dict[str, bool],
             case_revision: int | None, seen: Mapping[str, str] | None = None) -> dict[str, int]:
    now = rt.clock.now()
    profile = rt.active_profile
    with store.write(rt) as s:
        case, alert = _lock_case_and_alert(s, alert_id)
        excluded = excluded_approvers(s, alert)
        _check_four_eyes(excluded, actor, "this alert")
        if alert.status != AlertStatus.PENDING_APPROVAL:
            raise Conflict(f"alert is {alert.status}, not pending_approval")
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is {case.status}")
        if case_revision is not None and case_revision != case.revision:
            raise Conflict(f"The case changed since you read it (revision {case_revision}, now {case.revision}); "
                           "read it again before approving.", extra={"case_revision": case.revision})
        if seen is not None:
            _check_unchanged(seen, decision_state_in(rt, s, alert, case, now), case)
        _check_checklist(rt, checklist)
        evaluation = _require_criteria(rt, case, now)
        uses = fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories)
        over = fatigue.blocked(uses)
        if over and not overrides(s, alert.id):
            worst = max(over, key=lambda u: u.retry_after(now))
            raise FatigueLimitReached(
                f"Territory {worst.territory} already had {worst.used} alert(s) in the last {worst.window_hours} h "
                f"(limit territory_max_alerts = {worst.limit}).", retry_after=worst.retry_after(now),
                extra={"limit": "territory_max_alerts", "territory": worst.territory, "used": worst.used,
                       "max": worst.limit, "window_hours": worst.window_hours,
                       "territories": [u.to_dict() for u in over]})
        suppressed = fanout.over_budget(s, rt.settings.fatigue, now)
        chunks = fanout.alert_recipients(s, rt.engine, rt.regions, parse_alert_area(rt, alert.area))
        alert.decision_brief = _compose_brief(rt, s, alert, case, evaluation, uses, excluded)
        alert.status = AlertStatus.ACTIVE
        alert.decided_by, alert.decided_at, alert.decision_reason = actor.id, now, reason
        alert.checklist = dict(checklist)
        alert.facts = facts.snapshot(case)
        alert.approved_revision = case.revision
        alert.activated_at = now
        alert.expires_at = now + timedelta(hours=rt.settings.alerts.expiry_hours)
        s.add(alert)
        s.flush()
        counts = delivery_rows.write_batch(s, alert.id, "alert", 0, chunks, suppressed, now)
        audit.record(s, actor, "alert.approved", object_type="alert", object_id=alert.id, case_id=case.id, now=now,
                     details={"profile": profile.id, "version": profile.version, "checklist": sorted(checklist),
                              "case_revision": case.revision, "territories": alert.territories,
                              "deliveries": counts,
                              "fatigue_override": [u.territory for u in over] if over else []})
        if counts.get("suppressed"):
            audit.record(s, audit.SYSTEM, "deliveries.suppressed", object_type="alert", object_id=alert.id,
                         case_id=case.id, now=now, details={"count": counts["suppressed"],
                                                            "limit": "subscriber_max_messages"})
        return counts


def grant_override(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str) -> None:
    """A supervisor (not the requester) lifts the territory budget for this one alert. Every override is
    kept; the approval must come from a supervisor who is neither the requester nor any overrider."""
    _decision(rt, actor, "alert.fatigue_override", alert_id, lambda: _override(rt, actor, alert_id, reason))


def _override(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str) -> None:
    now = rt.clock.now()
    with store.write(rt) as s:
        alert = _lock_alert(s, alert_id)
        if actor.id == alert.requested_by:
            raise FourEyesViolation("The person who requested an alert cannot override its fatigue budget.")
        if alert.status != AlertStatus.PENDING_APPROVAL:
            raise Conflict(f"alert is {alert.status}, not pending_approval")
        uses = fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories)
        s.add(AlertOverride(alert_id=alert.id, granted_by=actor.id or 0, reason=reason, granted_at=now))
        audit.record(s, actor, "alert.fatigue_override", object_type="alert", object_id=alert.id,
                     case_id=alert.case_id, now=now,
                     details={"territories": {t: u.used for t, u in uses.items()},
                              "limit": rt.settings.fatigue.territory_max_alerts})


def reject_alert(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str) -> None:
    _decision(rt, actor, "alert.rejection", alert_id, lambda: _reject(rt, actor, alert_id, reason))


def _reject(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str) -> None:
    now = rt.clock.now()
    with store.write(rt) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.PENDING_APPROVAL:
            raise Conflict(f"alert is {alert.status}, not pending_approval")
        alert.decision_brief = _pending_brief(rt, s, alert, now)
        alert.status = AlertStatus.REJECTED
        alert.decided_by, alert.decided_at, alert.decision_reason = actor.id, now, reason
        s.add(alert)
        audit.record(s, actor, "alert.rejected", object_type="alert", object_id=alert.id, case_id=alert.case_id,
                     now=now, details={"reason_given": True})


# --- updates -----------------------------------------------------------------------------------------
def _placeholder_unsubscribe(rt: Runtime) -> str:
    return unsubscribe_url(rt, "00000000-0000-0000-0000-000000000000")


def preview(rt: Runtime, alert: Alert, published: dict[str, Any], kind: str = "update",
            text: str | None = None) -> dict[str, dict[str, Any]]:
    """Each language's SMS (text, segments) and e-mail subject, as subscribers would get them."""
    url = _placeholder_unsubscribe(rt)
    mf = facts.message_facts(rt, alert, published, update_text=text)
    render = getattr(rt.renderer, kind)
    out: dict[str, dict[str, Any]] = {}
    for lang in LANGUAGES:
        sms = render("sms", lang, mf, unsubscribe_url=url)
        email = render("email", lang, mf, unsubscribe_url=url)
        out[lang] = {"sms": sms.text, "sms_segments": sms.sms.segments if sms.sms else None,
                     "email_subject": email.subject, "email_text": email.text}
    return out


def get_update(s: Session, alert_id: str, update_id: int) -> AlertUpdate:
    upd = alert_rows.get_update(s, update_id)
    if upd is None or upd.alert_id != alert_id or upd.kind != "update":
        raise NotFound(f"no update {update_id} of alert {alert_id}")
    return upd


def updates(s: Session, alert_id: str) -> list[AlertUpdate]:
    return alert_rows.updates(s, alert_id)


def request_update(rt: Runtime, actor: audit.Actor, alert_id: str, text: str, refresh_facts: bool = False) -> int:
    """An update waiting for a second person. With ``refresh_facts`` it carries the case's public facts as they
    are now, to replace what the public sees (the case must still meet the active profile)."""
    now = rt.clock.now()
    with store.write(rt) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; updates go to active alerts")
        case = cases.get_case(s, alert.case_id)
        snap = None
        if refresh_facts:
            _require_criteria(rt, case, now)
            snap = facts.snapshot(case)
            if not facts.differences(alert.facts, snap):
                raise Conflict("The case's public facts are the ones already published; send the text alone.")
        upd = AlertUpdate(alert_id=alert.id, kind=DeliveryKind.UPDATE, status=UpdateStatus.PENDING_APPROVAL, text=text,
                          facts=snap, case_revision=case.revision, created_by=actor.id, created_at=now)
        alert_rows.add(s, upd)
        audit.record(s, actor, "alert.update_requested", object_type="alert", object_id=alert.id,
                     case_id=alert.case_id, now=now,
                     details={"update_id": upd.id, "case_revision": case.revision,
                              "facts": facts.differences(alert.facts, snap) if snap else []})
        assert upd.id is not None
        return upd.id


def approve_update(rt: Runtime, actor: audit.Actor, alert_id: str, update_id: int, reason: str) -> dict[str, int]:
    return _decision(rt, actor, "alert.update_approval", alert_id,
                     lambda: _approve_update(rt, actor, alert_id, update_id, reason), update_id)


def _approve_update(rt: Runtime, actor: audit.Actor, alert_id: str, update_id: int, reason: str) -> dict[str, int]:
    now = rt.clock.now()
    with store.write(rt) as s:
        case, alert = _lock_case_and_alert(s, alert_id)
        upd = get_update(s, alert.id, update_id)
        _check_four_eyes(excluded_update_approvers(s, alert, upd), actor, "this update")
        if upd.status != UpdateStatus.PENDING_APPROVAL:
            raise Conflict(f"update is {upd.status}, not pending_approval")
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; updates go to active alerts")
        if upd.facts is not None:
            if case.revision != upd.case_revision:
                raise Conflict(f"The case changed after this update was requested (revision {upd.case_revision}, "
                               f"now {case.revision}); reject it and request a new one.",
                               extra={"case_revision": case.revision})
            _require_criteria(rt, case, now)
            changed = facts.differences(alert.facts, upd.facts)
            alert.facts = upd.facts
            alert.approved_revision = upd.case_revision
            s.add(alert)
        else:
            changed = []
            upd.facts = alert.facts  # the facts its messages carry
        upd.status = UpdateStatus.SENT
        upd.decided_by, upd.decided_at, upd.decision_reason = actor.id, now, reason
        s.add(upd)
        s.flush()
        counts = fanout.follow_up(s, alert.id, "update", upd.id or 0, now,
                                  fanout.over_budget(s, rt.settings.fatigue, now))
        audit.record(s, actor, "alert.updated", object_type="alert", object_id=alert.id, case_id=alert.case_id,
                     now=now, details={"update_id": upd.id, "requested_by": upd.created_by, "facts": changed,
                                       "deliveries": counts})
        return counts


def reject_update(rt: Runtime, actor: audit.Actor, alert_id: str, update_id: int, reason: str) -> None:
    _decision(rt, actor, "alert.update_rejection", alert_id,
              lambda: _reject_update(rt, actor, alert_id, update_id, reason), update_id)


def _reject_update(rt: Runtime, actor: audit.Actor, alert_id: str, update_id: int, reason: str) -> None:
    now = rt.clock.now()
    with store.write(rt) as s:
        alert = _lock_alert(s, alert_id)
        upd = get_update(s, alert.id, update_id)
        if upd.status != UpdateStatus.PENDING_APPROVAL:
            raise Conflict(f"update is {upd.status}, not pending_approval")
        upd.status = UpdateStatus.REJECTED
        upd.decided_by, upd.decided_at, upd.decision_reason = actor.id, now, reason
        s.add(upd)
        audit.record(s, actor, "alert.update_rejected", object_type="alert", object_id=alert.id,
                     case_id=alert.case_id, now=now, details={"update_id": upd.id, "reason_given": True})


# --- the end of an alert -----------------------------------------------------------------------------
def _cancel_queued(s: Session, alert_id: str, now: datetime) -> int:
    """Cancel what has not been sent, and close the alert's batches so workers stop scanning them (a row of
    another alert inside one of these ranges stays claimable through its own batch)."""
    return delivery_rows.cancel_queued(s, alert_id, now)


def _withdraw_pending_updates(s: Session, alert_id: str, now: datetime) -> int:
    return alert_rows.withdraw_pending_updates(s, alert_id, now)


def _end(s: Session, actor: audit.Actor, alert: Alert, outcome: str, note: str | None, status: AlertStatus,
         now: datetime) -> dict[str, int]:
    """Inside the caller's transaction, with ``alert`` locked and active."""
    cancelled = _cancel_queued(s, alert.id, now)
    withdrawn = _withdraw_pending_updates(s, alert.id, now)
    upd = AlertUpdate(alert_id=alert.id, kind=DeliveryKind.CLOSING, status=UpdateStatus.SENT, text=note,
                      created_by=actor.id, created_at=now)
    alert_rows.add(s, upd)
    counts = fanout.follow_up(s, alert.id, "closing", upd.id or 0, now)
    alert.status = status
    alert.outcome = outcome
    alert.resolved_at, alert.resolved_by = now, actor.id
    s.add(alert)
    action = "alert.resolved" if status == AlertStatus.RESOLVED else "alert.expired"
    audit.record(s, actor, action, object_type="alert", object_id=alert.id, case_id=alert.case_id, now=now,
                 details={"outcome": outcome, "cancelled": cancelled, "updates_withdrawn": withdrawn,
                          "closing_messages": counts})
    return {"cancelled": cancelled, **{f"closing_{k}": v for k, v in counts.items()}}


def end_alert(rt: Runtime, actor: audit.Actor, alert_id: str, outcome: str, note: str | None,
              status: AlertStatus = AlertStatus.RESOLVED) -> dict[str, int]:
    """Resolve (or expire): cancel undelivered messages, send one closing message to everyone reached."""
    now = rt.clock.now()
    with store.write(rt) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; only active alerts can be resolved")
        return _end(s, actor, alert, outcome, note, status, now)


def end_case_alerts(s: Session, actor: audit.Actor, case: Case, outcome: str, now: datetime) -> dict[str, list[str]]:
    """Closing a case (inside its transaction): its active alerts are resolved with their closing messages,
    and alerts still waiting for a decision are withdrawn."""
    rows = alert_rows.lock_open_of_case(s, case.id)
    out: dict[str, list[str]] = {"resolved": [], "withdrawn": []}
    for alert in rows:
        if alert.status == AlertStatus.ACTIVE:
            _end(s, actor, alert, outcome, None, AlertStatus.RESOLVED, now)
            out["resolved"].append(alert.id)
        else:
            alert.status = AlertStatus.WITHDRAWN
            alert.decided_at = now
            s.add(alert)
            audit.record(s, actor, "alert.withdrawn", object_type="alert", object_id=alert.id, case_id=case.id,
                         now=now, details={"why": "case closed"})
            out["withdrawn"].append(alert.id)
    return out


def renew_alert(rt: Runtime, actor: audit.Actor, alert_id: str) -> datetime:
    """Extend an active alert's expiry; the case must still meet the active profile."""
    return _decision(rt, actor, "alert.renewal", alert_id, lambda: _renew(rt, actor, alert_id))


def _renew(rt: Runtime, actor: audit.Actor, alert_id: str) -> datetime:
    now = rt.clock.now()
    with store.write(rt) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; only active alerts can be renewed")
        _require_criteria(rt, cases.get_case(s, alert.case_id), now)
        alert.expires_at = now + timedelta(hours=rt.settings.alerts.expiry_hours)
        s.add(alert)
        audit.record(s, actor, "alert.renewed", object_type="alert", object_id=alert.id, case_id=alert.case_id,
                     now=now, details={"expires_at": alert.expires_at.isoformat()})
        return alert.expires_at


def expire_due(rt: Runtime) -> int:
    """Periodic: end every active alert past its expiry (closing messages go out as on resolve)."""
    now = rt.clock.now()
    with store.read(rt) as s:
        due = alert_rows.due_to_expire(s, now)
    for alert_id in due:
        try:
            end_alert(rt, audit.SYSTEM, alert_id, "expired", None, AlertStatus.EXPIRED)
        except Conflict:
            pass  # resolved meanwhile
    return len(due)


# --- reading -----------------------------------------------------------------------------------------
def usernames(s: Session, *ids: int | None) -> dict[int, str]:
    return staff_rows.usernames(s, {i for i in ids if i})


def _compose_brief(rt: Runtime, s: Session, alert: Alert, case: Case, evaluation: criteria.Evaluation,
                   uses: dict[str, fatigue.TerritoryUse], excluded: dict[int, str]) -> dict[str, Any]:
    """The brief of a pending alert (JSON-ready: it is stored with the alert when it is decided)."""
    current = facts.snapshot(case)
    names = usernames(s, *excluded)
    mf = facts.message_facts(rt, alert, current)
    url = _placeholder_unsubscribe(rt)
    return {
        "case": {"id": case.id, "reference": case.reference, "status": case.status, "revision": case.revision},
        "evaluation": evaluation.to_dict(),
        "approval_checklist": [{"id": i.id, "text": i.text} for i in rt.active_profile.approval_checklist],
        "facts": current,
        "cannot_approve": [{"username": names.get(i, str(i)), "why": why} for i, why in excluded.items()],
        "area": alert.area, "territories": alert.territories,
        "estimated_recipients": alert.estimated_recipients,
        "fatigue": [{**u.to_dict(), "remaining_after_approval": max(0, u.remaining - 1)} for u in uses.values()],
        "fatigue_blocked": [u.territory for u in fatigue.blocked(uses)],
        "sms_segments": {lang: rt.renderer.sms_info(lang, mf, url).segments for lang in LANGUAGES},
    }


def _pending_brief(rt: Runtime, s: Session, alert: Alert, now: datetime) -> dict[str, Any]:
    case = cases.get_case(s, alert.case_id)
    evaluation = criteria.evaluate(rt.active_profile, cases.facts_of(case), now=now)
    uses = fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories)
    return _compose_brief(rt, s, alert, case, evaluation, uses, excluded_approvers(s, alert))


def since_decision(s: Session, alert: Alert) -> dict[str, Any] | None:
    """What changed in the case since a decided alert was decided, read from what is stored (nothing evaluated
    again): the case's revision, its latest evaluation when it was evaluated after the decision, and which
    published facts differ from the case now. None while the alert is pending (its brief is current)."""
    if alert.status in (AlertStatus.PENDING_APPROVAL, AlertStatus.WITHDRAWN) or alert.decided_at is None:
        return None
    case = cases.get_case(s, alert.case_id)
    latest = case_rows.latest_evaluation(s, case.id)
    decided_on = alert.approved_revision or ((alert.decision_brief or {}).get("case") or {}).get("revision") \
        or alert.case_revision
    evaluation = None
    if latest is not None and (latest.case_revision > decided_on or latest.evaluated_at > alert.decided_at):
        evaluation = {"profile": latest.profile, "version": latest.version, "met": latest.met,
                      "results": latest.results}
    changed = (facts.differences(alert.facts, facts.snapshot(case))
               if alert.facts is not None and case.purged_at is None else [])
    return {"case_revision": case.revision, "evaluation": evaluation, "facts_changed_since_approval": changed}


def brief(rt: Runtime, s: Session, alert: Alert) -> dict[str, Any] | None:
    """Everything a supervisor needs on one screen: the facts to publish, criteria, who may not decide, area,
    reach, territory budget, SMS size. Computed while the alert awaits a decision; once approved or rejected,
    the brief stored at the decision (None for alerts withdrawn undecided or decided before 0007)."""
    if alert.status == AlertStatus.PENDING_APPROVAL:
        return _pending_brief(rt, s, alert, rt.clock.now())
    return alert.decision_brief  # exactly as it stood (None: withdrawn undecided, or decided before 0007)


@dataclass(frozen=True)
class UpdateRecord:
    update: AlertUpdate
    preview: dict[str, dict[str, Any]] | None
    deliveries: dict[str, int] | None


@dataclass(frozen=True)
class AlertRecord:
    """An alert as staff read it: its overrides, updates, delivery counts, the brief and staff names by id."""
    alert: Alert
    overrides: list[AlertOverride]
    updates: list[UpdateRecord]
    deliveries: dict[str, int]
    brief: dict[str, Any] | None
    since_decision: dict[str, Any] | None
    names: dict[int, str]


def _update_record(rt: Runtime, s: Session, alert: Alert, upd: AlertUpdate, with_preview: bool) -> UpdateRecord:
    shown = None
    if with_preview and upd.status == UpdateStatus.PENDING_APPROVAL:
        shown = preview(rt, alert, upd.facts or alert.facts or {}, "update", upd.text)
    counts = delivery_counts(s, alert.id, upd.kind, upd.id) if upd.status == UpdateStatus.SENT else None
    return UpdateRecord(upd, shown, counts)


def read_alert(rt: Runtime, alert_id: str) -> AlertRecord:
    with store.read(rt) as s:
        alert = get_alert(s, alert_id)
        ovs = overrides(s, alert.id)
        ups = updates(s, alert.id)
        names = usernames(s, alert.requested_by, alert.decided_by, *(o.granted_by for o in ovs),
                          *(u.created_by for u in ups), *(u.decided_by for u in ups))
        return AlertRecord(alert, ovs, [_update_record(rt, s, alert, u, False) for u in ups],
                           delivery_counts(s, alert.id), brief(rt, s, alert), since_decision(s, alert), names)


def read_update(rt: Runtime, alert_id: str, update_id: int) -> tuple[Alert, UpdateRecord, dict[int, str]]:
    """One update of an alert, with a preview of its message while it waits, and staff names by id."""
    with store.read(rt) as s:
        alert = get_alert(s, alert_id)
        upd = get_update(s, alert_id, update_id)
        names = usernames(s, upd.created_by, upd.decided_by)
        return alert, _update_record(rt, s, alert, upd, True), names


def list_deliveries(rt: Runtime, alert_id: str) -> list[delivery_rows.DeliveryRow]:
    """Every delivery of the alert, in id order (``NotFound`` for an unknown alert)."""
    with store.read(rt) as s:
        get_alert(s, alert_id)
        return delivery_rows.alert_deliveries(s, alert_id)


def delivery_counts(s: Session, alert_id: str, kind: str | None = "alert",
                    update_id: int | None = None) -> dict[str, int]:
    return delivery_rows.counts(s, alert_id, kind, update_id)


# --- lists -------------------------------------------------------------------------------------------
DELIVERED_STATUSES = (AlertStatus.ACTIVE, AlertStatus.RESOLVED, AlertStatus.EXPIRED)  # approved: a fan-out ran


@dataclass(frozen=True)
class AlertSummary:
    """One alert in a queue: who asked and decided, where, how far its delivery got, updates waiting."""
    id: str
    case_id: str
    case_reference: str
    status: str
    requested_at: datetime
    requested_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    activated_at: datetime | None
    expires_at: datetime | None
    resolved_at: datetime | None
    territories: list[str]
    estimated_recipients: dict[str, int]
    deliveries: dict[str, int] | None  # the alert message's deliveries by status; None when never approved
    pending_updates: int  # updates waiting for a supervisor


@dataclass(frozen=True)
class AlertPage:
    items: list[AlertSummary]
    next_cursor: str | None  # None on the last page


def list_alerts(rt: Runtime, *, statuses: Sequence[str] = (), district: str | None = None,
                case_id: str | None = None, limit: int = 50, cursor: str | None = None,
                oldest_first: bool = False) -> AlertPage:
    """Alerts by request time, newest first (``oldest_first``: the longest waiting first), a page of ``limit``:
    in ``statuses`` (all when empty), whose territories include ``district`` (a catalogue code; 422 on
    ``district`` otherwise), of ``case_id``, after ``cursor`` (the previous page's ``next_cursor`` in the same
    order; 422 on ``cursor`` otherwise). Delivery counts and waiting updates take one grouped query each for the
    whole page. Reads no personal data: not audited."""
    paging.check_limit(limit)
    wanted = paging.statuses(AlertStatus, statuses)
    check_region(rt.regions, district)
    kind = "alerts:oldest" if oldest_first else "alerts:newest"
    after = paging.decode(kind, cursor)
    with store.read(rt) as s:
        rows = alert_rows.page(s, statuses=wanted, district=district, case_id=case_id,
                               after=(after.at, after.id) if after is not None else None,
                               oldest_first=oldest_first, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r.id for r in rows]
        progress = delivery_rows.counts_by_alert(s, [r.id for r in rows if r.status in DELIVERED_STATUSES])
        waiting = alert_rows.pending_update_counts(s, ids)
        names = usernames(s, *(r.requested_by for r in rows), *(r.decided_by for r in rows))
    zeros = dict.fromkeys(delivery_rows.STATUS_ORDER, 0)
    items = [AlertSummary(
        id=r.id, case_id=r.case_id, case_reference=r.case_reference, status=r.status, requested_at=r.requested_at,
        requested_by=names.get(r.requested_by), decided_at=r.decided_at, decided_by=names.get(r.decided_by or 0),
        activated_at=r.activated_at, expires_at=r.expires_at, resolved_at=r.resolved_at, territories=r.territories,
        estimated_recipients={k: int(v) for k, v in r.estimated_recipients.items()},
        deliveries=dict(progress.get(r.id, zeros)) if r.status in DELIVERED_STATUSES else None,
        pending_updates=waiting.get(r.id, 0)) for r in rows]
    next_cursor = paging.encode(kind, paging.Position(rows[-1].requested_at, rows[-1].id)) if more else None
    return AlertPage(items, next_cursor)
