"""The staff console's alert pages: request an alert for a case (check your answers), the supervisor's decision
screen, the live alert page. Routes on the ``console`` blueprint.

========  ==================================================  =====================  ==========================
method    path (under /console)                               roles                  does
========  ==================================================  =====================  ==========================
GET/POST  /cases/<case_id>/alerts/new                         operator               the request form; POST
                                                                                     ``action``: check (the
                                                                                     check-your-answers step),
                                                                                     change (back to the form),
                                                                                     request (requests it)
GET       /alerts/<alert_id>                                  every staff role       decision screen (pending)
                                                                                     or live page
GET       /alerts/<alert_id>/progress                         every staff role       delivery counts alone
POST      /alerts/<alert_id>/approve | /reject | /override    supervisor             decide, lift the budget
POST      /alerts/<alert_id>/updates                          operator, supervisor   preview, change, request
POST      /alerts/<alert_id>/updates/<id>/approve | /reject   supervisor             decide on an update
POST      /alerts/<alert_id>/resolve                          operator, supervisor   end it with an outcome
POST      /alerts/<alert_id>/renew                            supervisor             extend its expiry
========  ==================================================  =====================  ==========================

Every decision calls the service the JSON API calls; a refusal (four eyes, a stale page, the criteria, the
budget, the state) re-renders the page with the reason and every typed value, with the refusal's status.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2

from .. import audit
from ..context import runtime
from ..errors import Conflict, CriteriaNotMet, DomainError, FatigueLimitReached, Forbidden, ValidationFailed
from ..messages import LANGUAGES
from ..models import AlertStatus, CaseStatus
from ..services import alert_preview, alerts, cases
from . import ui
from .alert_forms import (
    OUTCOMES,
    REQUEST_ERRORS,
    AlertRequestForm,
    DecisionForm,
    OverrideForm,
    RenewForm,
    ResolveForm,
    UpdateDecisionForm,
    UpdateForm,
    checklist_field_name,
    decision_form,
    place_errors,
)
from .console import bp
from .i18n import html_lang

SUPERVISOR = "supervisor"
REQUESTERS = ("operator",)  # as POST /api/v1/cases/{id}/alerts: the operator requests, a supervisor decides
UPDATERS = ("operator", "supervisor")  # as POST .../updates and .../resolve
POLL_SECONDS = 5  # the live page's refresh while messages are on their way
DELIVERY_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "suppressed", "cancelled")

# --- labels ------------------------------------------------------------------------------------------------
STATUS_LABELS = {
    "pending_approval": _l("waiting for approval"), "rejected": _l("rejected"), "active": _l("active"),
    "resolved": _l("resolved"), "expired": _l("expired"), "withdrawn": _l("withdrawn"), "open": _l("open"),
    "closed": _l("closed"), "sent": _l("sent"), "queued": _l("queued"), "sending": _l("sending"),
    "delivered": _l("delivered"), "failed": _l("failed"), "suppressed": _l("suppressed"),
    "cancelled": _l("cancelled"), "met": _l("met"), "not_met": _l("not met"), "unknown": _l("unknown"),
}
LANGUAGE_LABELS = {"sr-Latn": _l("Serbian (Latin script)"), "sr-Cyrl": _l("Serbian (Cyrillic script)"),
                   "en": _l("English")}
CHANNEL_LABELS = {"sms": _l("SMS"), "email": _l("Email")}
OUTCOME_LABELS = {"found": _l("The child was found"), "withdrawn": _l("The alert is withdrawn"),
                  "other": _l("Other"), "expired": _l("Expired")}
SMS_FIELD_LABELS = {"area": _l("alert area"), "suspect": _l("suspect"), "description": _l("description"),
                    "vehicle": _l("vehicle"), "seen": _l("last seen"), "child": _l("child"),
                    "custom": _l("your text"), "update": _l("update text"), "unsubscribe_link": _l("unsubscribe link")}
KIND_LABELS = {"alert": _l("The alert"), "update": _l("Updates"), "closing": _l("Closing message")}
ACTION_LABELS = {
    "case.opened": _l("Case opened"), "case.updated": _l("Case facts changed"),
    "case.evaluated": _l("Case evaluated against the criteria"), "case.closed": _l("Case closed"),
    "case.purged": _l("Case's personal data deleted"),
    "alert.requested": _l("Alert requested"), "alert.approved": _l("Alert approved"),
    "alert.rejected": _l("Alert rejected"), "alert.withdrawn": _l("Alert withdrawn"),
    "alert.fatigue_override": _l("Fatigue budget lifted"), "alert.update_requested": _l("Update requested"),
    "alert.updated": _l("Update approved and sent"), "alert.update_rejected": _l("Update rejected"),
    "alert.resolved": _l("Alert resolved"), "alert.expired": _l("Alert expired"),
    "alert.renewed": _l("Alert renewed"), "alert.criteria_no_longer_met": _l("Case no longer meets the criteria"),
    "alert.approval_refused": _l("Approval refused"), "alert.rejection_refused": _l("Rejection refused"),
    "alert.fatigue_override_refused": _l("Budget override refused"),
    "alert.update_approval_refused": _l("Update approval refused"),
    "alert.update_rejection_refused": _l("Update rejection refused"), "alert.renewal_refused": _l("Renewal refused"),
    "deliveries.suppressed": _l("Messages held back by the subscriber budget"),
}
DONE_MESSAGES = {
    "approved": _l("Alert approved: the messages are on their way."),
    "rejected": _l("Alert rejected."),
    "override": _l("Fatigue budget lifted for this alert. Another supervisor must approve it."),
    "update_requested": _l("Update requested. Another supervisor must approve it before it is sent."),
    "update_approved": _l("Update approved: it is on its way."),
    "update_rejected": _l("Update rejected."),
    "resolved": _l("Alert resolved: the closing message is on its way."),
    "renewed": _l("Alert renewed."),
}


EXCLUSIONS = {  # services.alerts' reasons why someone may not approve, as the page says them
    "requested this alert": _l("you requested this alert"),
    "granted a fatigue override for this alert": _l("you lifted the fatigue budget for this alert"),
    "changed the case's facts after the alert was requested": _l("you changed the case's facts after the alert "
                                                                  "was requested"),
    "requested this update": _l("you requested this update"),
    "changed the case's facts this update publishes": _l("you changed the case's facts this update publishes"),
}


def exclusion_label(why: str | None) -> str:
    return str(EXCLUSIONS.get(why or "", why or ""))


def event_summary(event: Any) -> str:
    """A line about what an audit event records (names and numbers only, as the audit chain holds)."""
    d = event.details or {}
    parts: list[str] = []
    if d.get("fields") and event.action == "case.updated":
        parts.append(_("fields: %(fields)s", fields=", ".join(d["fields"])))
    if d.get("case_revision") and event.action in ("case.updated", "alert.requested", "alert.approved"):
        parts.append(_("case revision %(revision)s", revision=d["case_revision"]))
    if "met" in d and event.action == "case.evaluated":
        parts.append(_("criteria met") if d["met"] else _("criteria not met"))
    if d.get("territories") and isinstance(d["territories"], list):
        parts.append(region_names(d["territories"]))
    if isinstance(d.get("estimated_recipients"), dict):
        parts.append(people_text(int(d["estimated_recipients"].get("total", 0))))
    if isinstance(d.get("deliveries"), dict):
        parts.append(", ".join(f"{status_label(k)} {v}" for k, v in d["deliveries"].items() if v))
    if d.get("outcome"):
        parts.append(str(OUTCOME_LABELS.get(d["outcome"], d["outcome"])))
    if d.get("update_id"):
        parts.append(_("update %(id)s", id=d["update_id"]))
    if d.get("why"):
        parts.append(str(d["why"]))
    if d.get("changed"):
        parts.append(_("changed: %(fields)s", fields=", ".join(d["changed"])))
    return "; ".join(p for p in parts if p)


def sms_fields(names: Any) -> str:
    return ", ".join(str(SMS_FIELD_LABELS.get(n, n)) for n in names)


def as_datetime(value: Any) -> datetime | None:
    """An RFC 3339 string (as the case's JSON stores times) as a datetime, for the ``datetimeformat`` filter."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def change_label(field: str) -> str:
    """A line of the "changed since you opened this page" table: what the decision-state key names."""
    head, _dot, rest = field.partition(".")
    if field == "case.revision":
        return _("Case revision")
    if field == "case.status":
        return _("Case status")
    if field == "alert.status":
        return _("Alert status")
    if field == "alert.overrides":
        return _("Fatigue budget overrides")
    if field == "checklist":
        return _("Approval checklist")
    if field == "criteria.profile":
        return _("Criteria profile and version")
    if head == "criteria":
        return _("Criterion: %(criterion)s", criterion=criterion_label(rest))
    if head == "fatigue":
        return _("Fatigue budget of %(district)s", district=region_name(rest))
    if head == "case":
        return _("Case fact %(field)s", field=rest)
    return field


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


def region_name(code: str) -> str:
    region = runtime().regions.get(code)
    if region is None:
        return code
    return str(region.names.get(html_lang(), region.name))


def region_names(codes: Any) -> str:
    return ", ".join(region_name(str(c)) for c in codes)


def criterion_label(criterion_id: str) -> str:
    for criterion in runtime().active_profile.criteria:
        if criterion.id == criterion_id:
            return criterion.text
    return criterion_id


def _labels() -> dict[str, Any]:
    return {"status_label": status_label, "region_name": region_name, "region_names": region_names,
            "criterion_label": criterion_label,
            "language_labels": LANGUAGE_LABELS, "channel_labels": CHANNEL_LABELS, "outcome_labels": OUTCOME_LABELS,
            "action_labels": ACTION_LABELS, "kind_labels": KIND_LABELS, "message_languages": LANGUAGES,
            "channels": tuple(CHANNEL_LABELS), "exclusion_label": exclusion_label, "event_summary": event_summary,
            "people_text": people_text, "delivery_statuses": DELIVERY_STATUSES, "sms_fields": sms_fields,
            "as_datetime": as_datetime, "change_label": change_label}


def _refusal(exc: DomainError) -> str:
    """The page's words for a refused decision (the service's own detail follows in English where it names
    specifics the page cannot word)."""
    if isinstance(exc, Forbidden):
        return _("You cannot do this: %(detail)s", detail=exc.detail)
    if isinstance(exc, CriteriaNotMet):
        unmet = ", ".join(criterion_label(u["criterion"]) for u in exc.extra.get("unmet", []))
        return _("The case does not meet the active criteria now: %(unmet)s", unmet=unmet)
    if isinstance(exc, FatigueLimitReached):
        names = region_names(t["territory"] for t in exc.extra.get("territories", []))
        return _("The fatigue budget of %(territories)s is used up. Another supervisor can lift it for this "
                 "alert below.", territories=names)
    if isinstance(exc, Conflict) and "changes" in exc.extra:
        return _("The alert or its case changed after you opened this page. Read what changed, then decide again.")
    if isinstance(exc, Conflict):
        return _("This could not be done now: %(detail)s", detail=exc.detail)
    return exc.detail


# --- requesting an alert -----------------------------------------------------------------------------------
def _request_form(case: Any) -> AlertRequestForm:
    form = AlertRequestForm()
    form.regions.choices = [SelectChoice(r.code, region_name(r.code)) for r in runtime().regions]
    if request.method == "GET":
        seen = case.last_seen or {}
        if seen.get("lat") is not None and seen.get("lon") is not None:
            form.lat.data, form.lon.data = f"{seen['lat']:.5f}", f"{seen['lon']:.5f}"
    return form


def _point(form: AlertRequestForm) -> tuple[float, float] | None:
    """The circle's centre as typed, when it is one (for the server-drawn map)."""
    try:
        lat = float((form.lat.data or "").strip().replace(",", "."))
        lon = float((form.lon.data or "").strip().replace(",", "."))
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _render_request(case: Any, form: AlertRequestForm, status: int = 200) -> Response:
    return ui.page("web/console/alert_request.html", status=status, case=case, form=form, point=_point(form),
                   **_labels())


def _case_for_request(case_id: str) -> Any:
    case = cases.read_case(runtime(), case_id).case
    if case.status != CaseStatus.OPEN:
        raise Conflict(_("Case %(reference)s is closed: alerts need an open case.", reference=case.reference))
    return case


@bp.route("/cases/<case_id>/alerts/new", methods=["GET", "POST"])
@ui.staff_required(*REQUESTERS)
def request_alert(actor: audit.Actor, case_id: str) -> ResponseReturnValue:
    rt = runtime()
    case = _case_for_request(case_id)
    form = _request_form(case)
    if request.method == "GET":
        return _render_request(case, form)
    action = request.form.get("action", "check")
    if action == "change":
        return _render_request(case, form)
    parsed = form.parse()
    if parsed is None:
        return _render_request(case, form)
    area, text = parsed
    if action == "request":
        try:
            alert_id = alerts.request_alert(rt, actor, case.id, area, text)
        except ValidationFailed as exc:
            place_errors(form, exc.errors, REQUEST_ERRORS, form.area_field())
            return _render_request(case, form)
        except Conflict as exc:
            form.add_error(None, _refusal(exc))
            return _render_request(case, form, status=exc.status)
        return redirect(url_for("console.alert", alert_id=alert_id, done="requested"), code=303)
    try:
        preview = alert_preview.preview_request(rt, case.id, area, text)
    except ValidationFailed as exc:
        place_errors(form, exc.errors, REQUEST_ERRORS, form.area_field())
        return _render_request(case, form)
    cases.record_view(rt, actor, case.id, "alert_preview")  # the previews carry the case's facts
    return ui.page("web/console/alert_check.html", case=case, form=form, preview=preview, **_labels())


# --- the alert page ------------------------------------------------------------------------------------------
def _checklist() -> list[tuple[str, str]]:
    return [(item.id, item.text) for item in runtime().active_profile.approval_checklist]


def _people(screen: alert_preview.AlertScreen) -> int:
    if screen.reach is not None:
        return screen.reach.total
    return int(screen.alert.estimated_recipients.get("total", 0))


def _decision_form(screen: alert_preview.AlertScreen, **kwargs: Any) -> DecisionForm:
    return decision_form(_checklist(), _people(screen), **kwargs)


def _screen(alert_id: str) -> alert_preview.AlertScreen:
    return alert_preview.alert_screen(runtime(), alert_id)


def _render_alert(actor: audit.Actor, screen: alert_preview.AlertScreen, status: int = 200, *,
                  decision: DecisionForm | None = None, override: OverrideForm | None = None,
                  update: UpdateForm | None = None, update_preview: list[Any] | None = None,
                  update_decisions: dict[int, UpdateDecisionForm] | None = None, resolve: ResolveForm | None = None,
                  renew: RenewForm | None = None, problems: list[tuple[str, str]] | None = None,
                  changes: list[dict[str, Any]] | None = None) -> Response:
    alert = screen.alert
    pending = alert.status == AlertStatus.PENDING_APPROVAL
    active = alert.status == AlertStatus.ACTIVE
    supervisor = actor.role == SUPERVISOR
    failed = [f for f in (decision, override, update, resolve, renew, *(update_decisions or {}).values())
              if f is not None and f.has_errors]
    if decision is None:
        decision = _decision_form(screen, formdata=None)
    if screen.state is not None:
        posted = decision.seen_state() if decision.seen.data else None
        if posted is not None and changes is None:
            changes = alerts.state_changes(posted, screen.state) or None
        decision.seen.data = json.dumps(screen.state, ensure_ascii=False, separators=(",", ":"))
    brief = screen.record.brief or {}
    blocked = list(brief.get("fatigue_blocked") or [])
    decisions = dict(update_decisions or {})
    for pu in screen.pending_updates:
        uid = pu.update.id or 0
        decisions.setdefault(uid, UpdateDecisionForm(prefix=f"upd{uid}", formdata=None))
    context: dict[str, Any] = {
        "screen": screen, "alert": alert, "case": screen.case, "brief": brief, "names": screen.names,
        "pending": pending, "active": active,
        "is_requester": actor.id == alert.requested_by,
        "my_exclusion": screen.excluded.get(actor.id or 0),
        "can_decide": pending and supervisor and (actor.id or 0) not in screen.excluded,
        "can_reject": pending and supervisor,
        "can_override": pending and supervisor and bool(blocked) and actor.id != alert.requested_by,
        "blocked": blocked,
        "can_update": active and actor.role in UPDATERS,
        "can_resolve": active and actor.role in UPDATERS,
        "can_renew": active and supervisor,
        "can_decide_update": {pu.update.id: supervisor and (actor.id or 0) not in pu.excluded
                              for pu in screen.pending_updates},
        "decision": decision, "override": override or OverrideForm(prefix="override", formdata=None),
        "update": update or UpdateForm(prefix="update", formdata=None), "update_preview": update_preview,
        "update_decisions": decisions, "resolve": resolve or ResolveForm(prefix="resolve", formdata=None),
        "renew": renew or RenewForm(prefix="renew", formdata=None), "outcomes": OUTCOMES,
        "failed_forms": failed, "problems": list(problems or []), "changes": changes or [],
        "people": _people(screen), "done": DONE_MESSAGES.get(request.args.get("done", "")),
        "requested_banner": request.args.get("done") == "requested",
        "poll_seconds": POLL_SECONDS,
    }
    return ui.page("web/console/alert_view.html", status=status, **context, **_labels())


@bp.get("/alerts/<alert_id>")
@ui.staff_required()
def alert(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    screen = _screen(alert_id)
    cases.record_view(runtime(), actor, screen.case.id, "alert")
    return _render_alert(actor, screen)


@bp.get("/alerts/<alert_id>/progress")
@ui.staff_required()
def alert_progress(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    """The delivery counts alone: a small page the live page's script reads every few seconds while messages are
    on their way (and a page of its own without JavaScript). No personal data: not audited."""
    shown = alert_preview.progress(runtime(), alert_id)
    return ui.page("web/console/alert_progress.html", progress=shown, poll_seconds=POLL_SECONDS, **_labels())


def _refused(actor: audit.Actor, alert_id: str, exc: DomainError, **forms: Any) -> Response:
    """The page again, after a refusal, with the reason and the typed values (a stale page: what changed)."""
    changes = exc.extra.get("changes") if isinstance(exc, Conflict) else None
    target = "changes" if changes else ("budget" if isinstance(exc, FatigueLimitReached) else "")
    return _render_alert(actor, _screen(alert_id), exc.status, problems=[(target, _refusal(exc))], changes=changes,
                         **forms)


@bp.post("/alerts/<alert_id>/approve")
@ui.staff_required(SUPERVISOR)
def approve_alert(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    screen = _screen(alert_id)
    form = _decision_form(screen)
    parsed = form.parse_approval()
    if parsed is None:
        return _render_alert(actor, screen, decision=form)
    reason, checklist, seen = parsed
    if seen is None:  # a form without what it showed: read the screen again
        form.add_error(None, _("This page is out of date. Read the alert again, then decide."))
        return _render_alert(actor, screen, 409, decision=form)
    try:
        alerts.approve_alert(runtime(), actor, alert_id, reason, checklist, seen=seen)
    except ValidationFailed as exc:
        where = {f"checklist.{item_id}": checklist_field_name(item_id) for item_id, _t in _checklist()}
        place_errors(form, exc.errors, {**where, "reason": "reason"})
        return _render_alert(actor, _screen(alert_id), decision=form)
    except (Forbidden, Conflict, FatigueLimitReached) as exc:
        return _refused(actor, alert_id, exc, decision=form)
    return redirect(url_for("console.alert", alert_id=alert_id, done="approved"), code=303)


@bp.post("/alerts/<alert_id>/reject")
@ui.staff_required(SUPERVISOR)
def reject_alert(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    screen = _screen(alert_id)
    form = _decision_form(screen)
    reason = form.parse_rejection()
    if reason is None:
        return _render_alert(actor, screen, decision=form)
    try:
        alerts.reject_alert(runtime(), actor, alert_id, reason)
    except (Forbidden, Conflict) as exc:
        return _refused(actor, alert_id, exc, decision=form)
    return redirect(url_for("console.alert", alert_id=alert_id, done="rejected"), code=303)


@bp.post("/alerts/<alert_id>/override")
@ui.staff_required(SUPERVISOR)
def override_fatigue(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    form = OverrideForm(prefix="override")
    reason = form.parse()
    if reason is None:
        return _render_alert(actor, _screen(alert_id), override=form)
    try:
        alerts.grant_override(runtime(), actor, alert_id, reason)
    except (Forbidden, Conflict) as exc:
        return _refused(actor, alert_id, exc, override=form)
    return redirect(url_for("console.alert", alert_id=alert_id, done="override"), code=303)


# --- the live alert ------------------------------------------------------------------------------------------
@bp.post("/alerts/<alert_id>/updates")
@ui.staff_required(*UPDATERS)
def request_alert_update(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    rt = runtime()
    form = UpdateForm(prefix="update")
    action = request.form.get("action", "preview")
    if action == "change":
        return _render_alert(actor, _screen(alert_id), update=form)
    parsed = form.parse()
    if parsed is None:
        return _render_alert(actor, _screen(alert_id), update=form)
    text, refresh = parsed
    try:
        if action == "request":
            alerts.request_update(rt, actor, alert_id, text, refresh)
            return redirect(url_for("console.alert", alert_id=alert_id, done="update_requested", _anchor="updates"),
                            code=303)
        shown = alert_preview.preview_update(rt, alert_id, text, refresh)
    except CriteriaNotMet as exc:
        form.add_error(form.facts, _refusal(exc))
        return _render_alert(actor, _screen(alert_id), exc.status, update=form)
    except Conflict as exc:
        form.add_error(form.facts if refresh else None, exc.detail)
        return _render_alert(actor, _screen(alert_id), exc.status, update=form)
    return _render_alert(actor, _screen(alert_id), update=form, update_preview=shown)


def _update_decision(actor: audit.Actor, alert_id: str, update_id: int, approve: bool) -> ResponseReturnValue:
    form = UpdateDecisionForm(prefix=f"upd{update_id}")
    reason = form.parse()
    if reason is None:
        return _render_alert(actor, _screen(alert_id), update_decisions={update_id: form})
    try:
        if approve:
            alerts.approve_update(runtime(), actor, alert_id, update_id, reason)
        else:
            alerts.reject_update(runtime(), actor, alert_id, update_id, reason)
    except (Forbidden, Conflict) as exc:
        return _refused(actor, alert_id, exc, update_decisions={update_id: form})
    done = "update_approved" if approve else "update_rejected"
    return redirect(url_for("console.alert", alert_id=alert_id, done=done, _anchor="updates"), code=303)


@bp.post("/alerts/<alert_id>/updates/<int:update_id>/approve")
@ui.staff_required(SUPERVISOR)
def approve_update(actor: audit.Actor, alert_id: str, update_id: int) -> ResponseReturnValue:
    return _update_decision(actor, alert_id, update_id, approve=True)


@bp.post("/alerts/<alert_id>/updates/<int:update_id>/reject")
@ui.staff_required(SUPERVISOR)
def reject_update(actor: audit.Actor, alert_id: str, update_id: int) -> ResponseReturnValue:
    return _update_decision(actor, alert_id, update_id, approve=False)


@bp.post("/alerts/<alert_id>/resolve")
@ui.staff_required(*UPDATERS)
def resolve_alert(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    form = ResolveForm(prefix="resolve")
    parsed = form.parse()
    if parsed is None:
        return _render_alert(actor, _screen(alert_id), resolve=form)
    outcome, note = parsed
    try:
        alerts.end_alert(runtime(), actor, alert_id, outcome, note)
    except Conflict as exc:
        return _refused(actor, alert_id, exc, resolve=form)
    return redirect(url_for("console.alert", alert_id=alert_id, done="resolved"), code=303)


@bp.post("/alerts/<alert_id>/renew")
@ui.staff_required(SUPERVISOR)
def renew_alert(actor: audit.Actor, alert_id: str) -> ResponseReturnValue:
    form = RenewForm(prefix="renew")
    try:
        alerts.renew_alert(runtime(), actor, alert_id)
    except (Forbidden, Conflict) as exc:
        return _refused(actor, alert_id, exc, renew=form)
    return redirect(url_for("console.alert", alert_id=alert_id, done="renewed"), code=303)


def people_text(n: int) -> str:
    return ngettext("%(num)d person", "%(num)d people", n)
