"""The staff console: the queue (the home page of a signed-in user) and cases: intake, the case page, edit facts,
close. The alert pages (console_alerts.py) are routes of this blueprint too.

Every page works without JavaScript; intake.js only makes the criteria panel follow the typing. The queue reads
no personal data (the list services return none); every page showing a case's facts records the read, as
``GET /api/v1/cases/{id}`` does (``cases.record_view``). Forms are the API's input models filled from the page
(``case_forms``), so a page and the API accept and refuse the same things.

After a successful POST the browser is redirected (303) to the case page, which shows what happened once (a
notice kept in the session until that page is read: the case opened, what changed, the case closed). "What
changed" keeps the old values of the changed facts there: the service keeps only the current facts, and the
session cookie is the only place that outlives the redirect; each value is cut to ``NOTICE_TEXT`` characters so
the cookie stays small, and the notice is dropped as soon as it is shown.

Edits carry the revision they were filled from: a form filled from an older revision is refused (409) with what
changed meanwhile, checked before saving and again by ``cases.update_case`` under the case's row lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import criteria

from .. import audit
from ..context import runtime
from ..errors import ValidationFailed
from ..models import AlertStatus, CaseStatus
from ..services import alerts as alert_service
from ..services import audit_trail, cases, closing, criteria_check
from . import case_forms, ui
from .case_forms import BELGRADE, FACT_LABELS, CaseForm, CloseForm
from .i18n import html_lang

bp = Blueprint("console", __name__, url_prefix="/console")

EDITORS = ("operator", "supervisor")  # edit and close cases (as PATCH /cases/{id} and POST .../close)
OPENERS = ("operator",)  # open cases (as POST /api/v1/cases): the hotline operator on the call
# The case page shows the case's own audit trail to every staff member who may read the case (the operators who
# work it included); the whole chain (GET /api/v1/audit) stays with supervisors and admins.
AUDIT_READERS = ("operator", "supervisor", "admin")
QUEUE_LIMIT = 20  # items per list and page on the queue
DONE_LIMIT = 10  # recently resolved and rejected alerts
NOTICE = "console_notice"  # the session's one-time notice for the case page
NOTICE_TEXT = 80  # characters of an old value kept for "What changed"
QUEUE_CURSORS = ("pending", "active", "cases", "done")  # the queue's lists, each paged by its own cursor

# --- labels ----------------------------------------------------------------------------------------------------
STATUS_LABELS: dict[str, Any] = {
    "pending_approval": _l("Waiting for approval"), "rejected": _l("Rejected"), "active": _l("Active"),
    "resolved": _l("Resolved"), "expired": _l("Expired"), "withdrawn": _l("Withdrawn"),
    "open": _l("Open"), "closed": _l("Closed"),
}
VERDICT_LABELS: dict[str, Any] = {"met": _l("Met"), "not_met": _l("Not met"), "unknown": _l("Not known")}
VERDICT_TAGS = {"met": "govuk-tag--green", "not_met": "govuk-tag--red", "unknown": "govuk-tag--grey"}
TRIGGER_LABELS: dict[str, Any] = {"opened": _l("case opened"), "updated": _l("facts changed"),
                                  "requested": _l("evaluated again")}
ACTION_LABELS: dict[str, Any] = {
    "case.opened": _l("Case opened"),
    "case.evaluated": _l("Criteria evaluated"),
    "case.updated": _l("Facts changed"),
    "case.viewed": _l("Case read"),
    "case.closed": _l("Case closed"),
    "case.purged": _l("Personal data purged"),
    "alert.requested": _l("Alert requested"),
    "alert.approved": _l("Alert approved"),
    "alert.rejected": _l("Alert rejected"),
    "alert.fatigue_override": _l("Fatigue limit overridden"),
    "alert.update_requested": _l("Alert update requested"),
    "alert.updated": _l("Alert update sent"),
    "alert.update_rejected": _l("Alert update rejected"),
    "alert.resolved": _l("Alert resolved"),
    "alert.expired": _l("Alert expired"),
    "alert.withdrawn": _l("Alert withdrawn"),
    "alert.renewed": _l("Alert renewed"),
    "alert.criteria_no_longer_met": _l("Active alert: criteria no longer met"),
    "alert.approval_refused": _l("Approval refused"),
    "alert.rejection_refused": _l("Rejection refused"),
    "alert.fatigue_override_refused": _l("Fatigue override refused"),
    "alert.update_approval_refused": _l("Update approval refused"),
    "alert.update_rejection_refused": _l("Update rejection refused"),
    "alert.renewal_refused": _l("Renewal refused"),
    "deliveries.suppressed": _l("Messages held back by subscribers' limits"),
}
SECTION_TITLES: dict[str, Any] = {"child": _l("The child"), "last_seen": _l("Last seen"),
                                  "circumstances": _l("Circumstances"), "police": _l("Police"),
                                  "reporter": _l("Reporter")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def verdict_label(verdict: str | None) -> str:
    return str(VERDICT_LABELS.get(verdict or "", _("Not checked yet")))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def outcome_label(outcome: str) -> str:
    return str(case_forms.OUTCOME_LABELS.get(outcome, outcome))


def fact_label(fact: str) -> str:
    return str(FACT_LABELS.get(fact, fact))


def when(moment: datetime | None) -> str:
    """A moment as Belgrade reads it (the app's Babel timezone)."""
    return format_datetime(moment, "d MMM y HH:mm") if moment is not None else ""


def fact_value(fact: str, value: Any) -> str:
    """A stored fact as the page shows it."""
    if value is None or value == "":
        return _("Not given")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if fact == "child.sex":
        return str(next((c.label for c in case_forms.SEXES if c.value == value), value))
    if fact == "last_seen.at":
        at = case_forms.stored_at(value)
        return format_datetime(at, "d MMM y HH:mm:ss" if at and at.second else "d MMM y HH:mm") if at else str(value)
    return str(value)


def district_label(code: str | None) -> str:
    return case_forms.district_name(runtime().regions, code, html_lang()) if code else _("Outside every district")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"status_label": status_label, "verdict_label": verdict_label, "verdict_tags": VERDICT_TAGS,
            "action_label": action_label, "fact_label": fact_label, "fact_value": fact_value, "when": when,
            "district_label": district_label, "trigger_labels": TRIGGER_LABELS, "outcome_label": outcome_label}


# --- criteria: one shape for a check and a stored evaluation --------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    criterion: str
    text: str  # the criterion's text in the active profile (its id when the profile differs)
    required: bool
    verdict: str | None  # met, not_met, unknown; None: not checked yet
    reason: str


@dataclass(frozen=True)
class Verdicts:
    profile: str
    title: str
    version: str
    met: bool | None  # None: not checked yet
    results: list[Verdict]
    evaluated_at: datetime | None
    trigger: str | None = None
    case_revision: int | None = None


def _verdicts(profile: criteria.Profile, profile_id: str, version: str, met: bool | None,
              results: Sequence[Mapping[str, Any]], evaluated_at: datetime | None, **extra: Any) -> Verdicts:
    known = {c.id: c for c in profile.criteria} if profile_id == profile.id else {}
    rows = [Verdict(str(r["criterion"]), known[r["criterion"]].text if r["criterion"] in known else
                    str(r["criterion"]), known[r["criterion"]].required if r["criterion"] in known else True,
                    str(r["verdict"]) if r.get("verdict") is not None else None, str(r.get("reason") or ""))
            for r in results]
    title = profile.title if profile_id == profile.id else profile_id
    return Verdicts(profile_id, title, version, met, rows, evaluated_at, **extra)


def unchecked(profile: criteria.Profile) -> Verdicts:
    """The panel before the first check: every criterion of the active profile, no verdict."""
    return _verdicts(profile, profile.id, profile.version, None,
                     [{"criterion": c.id, "verdict": None, "reason": ""} for c in profile.criteria], None)


def checked(got: criteria_check.FactsEvaluation) -> Verdicts:
    return _verdicts(runtime().active_profile, got.profile, got.version, got.met, [r.to_dict() for r in got.results],
                     got.evaluated_at)


def stored(row: Any) -> Verdicts:
    """A stored evaluation (``CaseEvaluation``)."""
    return _verdicts(runtime().active_profile, row.profile, row.version, row.met, row.results, row.evaluated_at,
                     trigger=row.trigger, case_revision=row.case_revision)


# --- notices (one-time, for the case page) ---------------------------------------------------------------------
def _notice(kind: str, case_id: str, **extra: Any) -> None:
    session[NOTICE] = {"kind": kind, "case": case_id, **extra}


def _take_notice(case_id: str) -> dict[str, Any] | None:
    found = session.get(NOTICE)
    if not isinstance(found, dict) or found.get("case") != case_id:
        return None
    session.pop(NOTICE, None)
    return found


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > NOTICE_TEXT:
        return value[:NOTICE_TEXT - 1] + "…"
    return value


# --- the queue -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueList:
    items: list[Any]
    next_url: str | None


def _queue_url(**changes: str | None) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in (*QUEUE_CURSORS, "district") and v}
    args.update({k: v for k, v in changes.items() if v})
    return url_for("console.queue", **args)


def progress(deliveries: Mapping[str, int] | None) -> dict[str, int]:
    """An active alert's delivery counts, with ``total`` and ``done`` (no longer queued or sending)."""
    counts = dict(deliveries or {})
    total = sum(counts.values())
    return {**counts, "total": total, "done": total - counts.get("queued", 0) - counts.get("sending", 0)}


@bp.get("")
@ui.staff_required()
def queue(actor: audit.Actor) -> Response:
    rt = runtime()
    args = request.args
    district = (args.get("district") or "").strip() or None
    filter_errors: list[tuple[str, str]] = []
    if district is not None and district not in rt.regions:
        filter_errors.append(("district", _("Choose a district from the list")))
        district = None

    def cursor(key: str) -> str | None:
        return (args.get(key) or "").strip() or None

    def alerts_list(key: str, statuses: list[str], limit: int, oldest_first: bool = False) -> QueueList:
        page = alert_service.list_alerts(rt, statuses=statuses, district=district, limit=limit,
                                         cursor=cursor(key), oldest_first=oldest_first)
        return QueueList(page.items, _queue_url(**{key: page.next_cursor}) if page.next_cursor else None)

    pending = alerts_list("pending", [AlertStatus.PENDING_APPROVAL], QUEUE_LIMIT, oldest_first=True)
    active = alerts_list("active", [AlertStatus.ACTIVE], QUEUE_LIMIT)
    done = alerts_list("done", [AlertStatus.RESOLVED, AlertStatus.REJECTED], DONE_LIMIT)
    case_page = cases.list_cases(rt, statuses=[CaseStatus.OPEN], district=district, limit=QUEUE_LIMIT,
                                 cursor=cursor("cases"))
    open_cases = QueueList(case_page.items,
                           _queue_url(cases=case_page.next_cursor) if case_page.next_cursor else None)
    return ui.page("web/console/queue.html", pending=pending, active=active, done=done, open_cases=open_cases,
                   district=district, districts=case_forms.districts(rt.regions, html_lang()),
                   filter_errors=filter_errors, now=rt.clock.now(), progress=progress,
                   paged=any(cursor(k) for k in QUEUE_CURSORS), can_open=actor.role in OPENERS)


# --- intake ----------------------------------------------------------------------------------------------------
def _case_form(**kwargs: Any) -> CaseForm:
    form = CaseForm(**kwargs)
    form.last_seen_district.choices = case_forms.district_choices(runtime().regions, html_lang())
    return form


def _quiet_check(form: CaseForm) -> Verdicts:
    """The panel beside a refused form: the verdicts on what could be read of it (its errors are shown already)."""
    rt = runtime()
    facts = case_forms.case_facts(form, rt.regions, html_lang())
    if facts.model is not None:
        try:
            return checked(criteria_check.evaluate_facts(rt, facts.model))
        except ValidationFailed:
            pass
    return unchecked(rt.active_profile)


def _intake(form: CaseForm, panel: Verdicts, district_point: bool = False) -> Response:
    return ui.page("web/console/case_new.html", form=form, panel=panel, district_point=district_point)


@bp.route("/cases/new", methods=["GET", "POST"])
@ui.staff_required(*OPENERS)
def new_case(actor: audit.Actor) -> ResponseReturnValue:
    """GET: the empty form (today's date filled in). POST ``action=check``: the criteria on the facts so far,
    nothing stored; ``action=open``: open the case, then its page."""
    rt = runtime()
    language = html_lang()
    form = _case_form()
    if request.method == "GET":
        form.last_seen_date.data = rt.clock.now().astimezone(BELGRADE).date().isoformat()
        return _intake(form, unchecked(rt.active_profile))
    if request.form.get("action") != "open":  # "Check criteria", and the Enter key (the form's first button)
        facts = case_forms.case_facts(form, rt.regions, language)
        if facts.model is None:
            case_forms.show_errors(form, facts.errors)
            return _intake(form, unchecked(rt.active_profile))
        try:
            got = criteria_check.evaluate_facts(rt, facts.model)
        except ValidationFailed as exc:
            case_forms.show_errors(form, case_forms.service_errors(exc, form))
            return _intake(form, unchecked(rt.active_profile))
        return _intake(form, checked(got), district_point=facts.district_point)
    built = case_forms.case_in(form, rt.regions, language)
    if built.model is None:
        case_forms.show_errors(form, built.errors)
        return _intake(form, _quiet_check(form))
    try:
        case_id = cases.open_case(rt, actor, built.model)
    except ValidationFailed as exc:
        case_forms.show_errors(form, case_forms.service_errors(exc, form))
        return _intake(form, _quiet_check(form))
    _notice("opened", case_id)
    return redirect(url_for("console.case", case_id=case_id), code=303)


# --- the case page -----------------------------------------------------------------------------------------------
def sections_of(case: Any) -> dict[str, dict[str, Any]]:
    return {section: dict(getattr(case, section) or {}) for section in case_forms.SECTIONS}


def _facts(sections: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The case's facts by section, each as (label, shown value); the coordinates as one row with their district."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for section in case_forms.SECTIONS:
        rows: list[tuple[str, str]] = []
        for fact in case_forms.FACTS:
            sec, key = fact.split(".")
            if sec != section or fact == "last_seen.lon":
                continue
            if fact == "last_seen.lat":
                point = case_forms.stored_point_of(sections)
                if point is None:
                    rows.append((_("Coordinates"), _("Not given")))
                else:
                    district = cases.district_of(runtime().regions, *point)
                    rows.append((_("Coordinates"), _("%(lat)s, %(lon)s (%(district)s)", lat=point[0], lon=point[1],
                                                     district=district_label(district))))
                continue
            rows.append((fact_label(fact), fact_value(fact, (sections.get(section) or {}).get(key))))
        out.append((str(SECTION_TITLES[section]), rows))
    return out


@dataclass(frozen=True)
class WhatChanged:
    changes: list[tuple[str, str, str]]  # (fact label, old shown, new shown)
    before: Verdicts | None
    after: Verdicts | None


def _what_changed(notice: Mapping[str, Any], sections: Mapping[str, Mapping[str, Any]],
                  evaluations: Sequence[Any]) -> WhatChanged:
    rows = []
    for fact, old in (notice.get("old") or {}).items():
        section, key = fact.split(".")
        rows.append((fact_label(fact), fact_value(fact, old), fact_value(fact, (sections.get(section) or {}).get(key))))
    revision = notice.get("revision")
    at = next((i for i in range(len(evaluations) - 1, -1, -1)
               if evaluations[i].case_revision == revision and evaluations[i].trigger == "updated"), None)
    after = stored(evaluations[at]) if at is not None else None
    before = stored(evaluations[at - 1]) if at else None
    return WhatChanged(rows, before, after)


@bp.get("/cases/<case_id>")
@ui.staff_required()
def case(actor: audit.Actor, case_id: str) -> Response:
    """The case: its facts, every evaluation, its alerts, its audit trail (supervisors and administrators, as
    the API's audit), and what was just done to it. An audited read of personal data."""
    rt = runtime()
    record = cases.read_case(rt, case_id)
    cases.record_view(rt, actor, case_id)
    sections = sections_of(record.case)
    notice = _take_notice(case_id)
    what_changed = _what_changed(notice, sections, record.evaluations) \
        if notice and notice.get("kind") == "updated" else None
    case_alerts = alert_service.list_alerts(rt, case_id=case_id, limit=200).items
    trail = audit_trail.events(rt, case_id=case_id) if actor.role in AUDIT_READERS else None
    point = case_forms.stored_point_of(sections)
    return ui.page("web/console/case_page.html", case=record.case, facts=_facts(sections), point=point,
                   evaluations=[stored(e) for e in reversed(record.evaluations)], alerts=case_alerts,
                   trail=trail, notice=notice, what_changed=what_changed, can_edit=actor.role in EDITORS,
                   is_open=record.case.status == CaseStatus.OPEN)


# --- edit facts ------------------------------------------------------------------------------------------------
def _closed_page(reference: str) -> Response:
    return ui.error_page(409, _("This case is closed"),
                         _("Case %(reference)s is closed: its facts can no longer change.", reference=reference))


def _changed_meanwhile(case_id: str, since: int, sections: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What others changed after revision ``since`` (the audit trail names the facts), as sentences."""
    lines = []
    for event in audit_trail.events(runtime(), case_id=case_id):
        details = event.details or {}
        if event.action != "case.updated" or int(details.get("case_revision") or 0) <= since:
            continue
        for fact in details.get("fields") or []:
            section, _dot, key = str(fact).partition(".")
            lines.append(_("%(who)s changed %(fact)s at %(when)s; it is now: %(value)s", who=event.actor,
                           fact=fact_label(fact), when=when(event.at),
                           value=fact_value(fact, (sections.get(section) or {}).get(key))))
    return lines


def _edit(form: CaseForm, case: Any, panel: Verdicts, status: int = 200, meanwhile: Sequence[str] = (),
          district_point: bool = False) -> Response:
    return ui.page("web/console/case_edit.html", status=status, form=form, case=case, panel=panel,
                   meanwhile=meanwhile, district_point=district_point)


@bp.route("/cases/<case_id>/edit", methods=["GET", "POST"])
@ui.staff_required(*EDITORS)
def edit_case(actor: audit.Actor, case_id: str) -> ResponseReturnValue:
    """The intake form filled with the case's facts. POST ``action=check``: the criteria on the facts typed,
    nothing stored; otherwise save: what changed becomes a ``CasePatch``, the service evaluates the case again,
    and the case page shows what changed."""
    rt = runtime()
    record = cases.read_case(rt, case_id)
    case_row = record.case
    if case_row.status != CaseStatus.OPEN:
        return _closed_page(case_row.reference)
    sections = sections_of(case_row)
    latest = stored(record.evaluations[-1])
    if request.method == "GET":
        cases.record_view(rt, actor, case_id, what="edit")
        form = _case_form(data={**case_forms.form_data(sections, rt.regions), "revision": str(case_row.revision)})
        return _edit(form, case_row, latest)
    form = _case_form()
    if request.form.get("action") == "check":
        facts = case_forms.case_facts(form, rt.regions, html_lang())
        if facts.model is None:
            case_forms.show_errors(form, facts.errors)
            return _edit(form, case_row, latest)
        try:
            got = criteria_check.evaluate_facts(rt, facts.model)
        except ValidationFailed as exc:
            case_forms.show_errors(form, case_forms.service_errors(exc, form))
            return _edit(form, case_row, latest)
        return _edit(form, case_row, checked(got), district_point=facts.district_point)
    built = case_forms.case_in(form, rt.regions, html_lang(), case_forms.stored_point_of(sections))
    if built.model is None:
        case_forms.show_errors(form, built.errors)
    if form.revision.data != str(case_row.revision):
        return _stale(form, case_id, case_row, sections, latest)
    if built.model is None:
        return _edit(form, case_row, _quiet_check(form))
    found = case_forms.changes(sections, built.model)
    if not found:
        _notice("unchanged", case_id)
        return redirect(url_for("console.case", case_id=case_id), code=303)
    try:
        cases.update_case(rt, actor, case_id, case_forms.patch_of(found, built.model),
                          expected_revision=case_row.revision)
    except cases.StaleRevision:  # changed between this page's read and the save
        record = cases.read_case(rt, case_id)
        return _stale(form, case_id, record.case, sections_of(record.case), stored(record.evaluations[-1]))
    except ValidationFailed as exc:
        case_forms.show_errors(form, case_forms.service_errors(exc, form))
        return _edit(form, case_row, _quiet_check(form))
    _notice("updated", case_id, revision=case_row.revision + 1, old={c.fact: _cut(c.old) for c in found})
    return redirect(url_for("console.case", case_id=case_id), code=303)


def _stale(form: Any, case_id: str, case_row: Any, sections: Any, latest: Any) -> ResponseReturnValue:
    """409: the case changed since the form was filled; what was typed stays, with what changed meanwhile."""
    try:
        since = int(form.revision.data or 0)
    except ValueError:
        since = 0
    form.problems.insert(0, _("Someone changed this case while you were editing it, so nothing was saved. "
                              "What you typed is below: check it against what changed, then save again."))
    meanwhile = _changed_meanwhile(case_id, since, sections)
    form.revision.data = str(case_row.revision)  # saving again, after reading this, is a decision
    return _edit(form, case_row, latest, status=409, meanwhile=meanwhile)


# --- close -----------------------------------------------------------------------------------------------------
@bp.route("/cases/<case_id>/close", methods=["GET", "POST"])
@ui.staff_required(*EDITORS)
def close_case(actor: audit.Actor, case_id: str) -> ResponseReturnValue:
    """What closing does to the case's alerts, the outcome and a note, then ``closing.close_case``."""
    rt = runtime()
    record = cases.read_case(rt, case_id)
    if record.case.status != CaseStatus.OPEN:
        return ui.error_page(409, _("This case is already closed"),
                             _("Case %(reference)s was closed at %(when)s.", reference=record.case.reference,
                               when=when(record.case.closed_at)))
    form = CloseForm()
    active = sum(1 for a in record.alerts if a.status == AlertStatus.ACTIVE)
    pending = sum(1 for a in record.alerts if a.status == AlertStatus.PENDING_APPROVAL)
    if request.method == "POST":
        built = case_forms.close_in(form)
        if built.model is not None:
            closing.close_case(rt, actor, case_id, built.model.outcome, built.model.note)
            _notice("closed", case_id, outcome=built.model.outcome)
            return redirect(url_for("console.case", case_id=case_id), code=303)
        case_forms.show_errors(form, built.errors)
    return ui.page("web/console/case_close.html", form=form, case=record.case, active=active, pending=pending)
