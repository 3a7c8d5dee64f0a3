"""What an alert will do, computed without storing anything: for the staff pages that show it before a decision.

* ``preview_request``: the "check your answers" step of an alert request: the area parsed by the API's own
  parser (``alerts.parse_alert_area``), the recipients it would reach per channel and language, the fatigue
  budget of every territory it touches, and each message as each recipient will read it.
* ``render_messages``: the alert, update or closing message in every language, SMS and e-mail, with each SMS's
  encoding (GSM-7 or UCS-2) and segment count. It calls the renderer the dispatcher calls, on the facts
  ``facts.message_facts`` builds for it, with the same placeholder opt-out link, so what is shown is what is
  sent (but for the subscriber's own opt-out link, which the dispatcher fills in).
* ``alert_screen``: everything the alert page shows, read in one go (the decision screen while the alert waits,
  the live page after): the reach, the previews, the state the supervisor decides on, who may not decide,
  delivery counts by channel, pending updates with their previews, and the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

import criteria
import geo

from .. import audit, facts, store
from ..dispatch import fanout
from ..dispatch.worker import PLACEHOLDER_ID
from ..errors import Conflict
from ..messages import CHANNELS, LANGUAGES
from ..models import Alert, AlertStatus, AlertUpdate, AuditEvent, Case, CaseStatus, UpdateStatus
from ..runtime import Runtime
from ..store import deliveries as delivery_rows
from ..store import recipients as recipient_rows
from ..unsubscribe import unsubscribe_url
from . import alerts, cases, fatigue

HIDDEN_ACTIONS = frozenset({"case.viewed"})  # reads, not acts: left out of an alert's history


# --- messages ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmsShown:
    text: str
    encoding: str  # "GSM-7" | "UCS-2"
    segments: int
    characters: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    dropped: tuple[str, ...]  # optional fields left out to fit the segment budget
    truncated: tuple[str, ...]  # required fields cut at a word boundary (the last resort)
    over_budget: bool


@dataclass(frozen=True)
class MessageShown:
    """One message in one language as its recipients will read it."""
    language: str
    sms: SmsShown
    email_subject: str | None
    email_text: str


def render_messages(rt: Runtime, alert: Alert, published: Mapping[str, Any], kind: str = "alert", *,
                    update_text: str | None = None, outcome: str | None = None) -> list[MessageShown]:
    """``kind`` ("alert", "update" or "closing") of ``alert`` from the ``published`` facts, in every language."""
    url = unsubscribe_url(rt, PLACEHOLDER_ID)  # as the dispatcher renders: each subscriber's link replaces it
    mf = facts.message_facts(rt, alert, dict(published), update_text=update_text, outcome=outcome)
    render = getattr(rt.renderer, kind)
    out: list[MessageShown] = []
    for lang in LANGUAGES:
        sms = render("sms", lang, mf, unsubscribe_url=url)
        email = render("email", lang, mf, unsubscribe_url=url)
        assert sms.sms is not None
        out.append(MessageShown(lang, SmsShown(sms.text, sms.sms.encoding, sms.sms.segments, sms.sms.characters,
                                               sms.sms.units, tuple(sms.dropped), tuple(sms.truncated),
                                               sms.over_budget),
                                email.subject, email.text))
    return out


# --- reach -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """Estimated recipients (one per address) by channel, and by language and channel; each with a "total"."""
    by_channel: dict[str, int]
    by_language: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return self.by_channel.get("total", 0)


def _reach(s: Session, rt: Runtime, area: geo.Area) -> Reach:
    rec = fanout.recipients(s, rt.regions, area)
    by_language = {lang: {**dict.fromkeys(CHANNELS, 0), "total": 0} for lang in LANGUAGES}
    if len(rec):
        rows = recipient_rows.language_codes(s.connection(), int(rec.seq.min()), int(rec.seq.max()), LANGUAGES)
        order = np.argsort(rows["seq"])
        seqs, langs = rows["seq"][order], rows["language"][order]
        at = np.clip(np.searchsorted(seqs, rec.seq), 0, max(len(seqs) - 1, 0))
        found = (seqs[at] == rec.seq) if len(seqs) else np.zeros(len(rec), bool)
        codes = np.where(found, langs[at] if len(seqs) else 0, len(LANGUAGES))
        counts = np.zeros((len(LANGUAGES) + 1, len(CHANNELS)), np.int64)
        np.add.at(counts, (codes, rec.channel.astype(np.int64)), 1)
        for i, lang in enumerate(LANGUAGES):
            row = {c: int(counts[i, j]) for j, c in enumerate(CHANNELS)}
            by_language[lang] = {**row, "total": sum(row.values())}
    return Reach(rec.per_channel(), by_language)


def estimate_reach(rt: Runtime, area: geo.Area) -> Reach:
    """Who ``area`` would reach now, without storing anything."""
    with store.read(rt) as s:
        return _reach(s, rt, area)


# --- the check-your-answers step of a request ----------------------------------------------------------
@dataclass(frozen=True)
class RequestPreview:
    case_id: str
    case_reference: str
    area: geo.Area
    territories: list[str]
    reach: Reach
    budgets: list[fatigue.TerritoryUse]
    blocked: list[str]  # territories whose budget is used up: the approval needs an override
    evaluation: criteria.Evaluation
    messages: list[MessageShown]
    custom_text: str | None


def preview_request(rt: Runtime, case_id: str, area_data: dict[str, Any], text: str | None) -> RequestPreview:
    """What ``alerts.request_alert(rt, actor, case_id, area_data, text)`` would request, and what its approval
    would send, now; nothing is stored. Raises as the request would: ``ValidationFailed`` (fields under
    ``area``), ``NotFound``, ``Conflict`` (the case is not open)."""
    area = alerts.parse_alert_area(rt, area_data)
    now = rt.clock.now()
    with store.read(rt) as s:
        case = cases.get_case(s, case_id)
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is {case.status}; alerts need an open case")
        territories = area.territories(rt.regions)
        draft = Alert(case_id=case.id, area=area.to_json(), territories=territories, message_text=text,
                      requested_by=0, requested_at=now, case_revision=case.revision)  # never added: not stored
        uses = fatigue.territory_use(s, rt.settings.fatigue, now, territories)
        return RequestPreview(
            case_id=case.id, case_reference=case.reference, area=area, territories=territories,
            reach=_reach(s, rt, area), budgets=list(uses.values()),
            blocked=[u.territory for u in fatigue.blocked(uses)],
            evaluation=criteria.evaluate(rt.active_profile, cases.facts_of(case), now=now),
            messages=render_messages(rt, draft, facts.snapshot(case)), custom_text=text)


def preview_update(rt: Runtime, alert_id: str, text: str, refresh_facts: bool = False) -> list[MessageShown]:
    """The update ``alerts.request_update(rt, actor, alert_id, text, refresh_facts)`` would send, in every
    language; nothing is stored. ``Conflict`` when the alert is not active, or (``refresh_facts``) when the case's
    public facts are the ones already published, as the request would answer."""
    with store.read(rt) as s:
        alert = alerts.get_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; updates go to active alerts")
        published = alert.facts or {}
        if refresh_facts:
            published = facts.snapshot(cases.get_case(s, alert.case_id))
            if not facts.differences(alert.facts, published):
                raise Conflict("The case's public facts are the ones already published; send the text alone.")
        return render_messages(rt, alert, published, "update", update_text=text)


# --- the alert page ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PendingUpdate:
    update: AlertUpdate
    messages: list[MessageShown]
    excluded: dict[int, str]  # who may not approve it, with why
    changed_facts: list[str]  # the published facts it replaces (with ``facts``)


@dataclass(frozen=True)
class AlertScreen:
    """Everything the alert page shows. ``record`` is what the API returns (``alerts.read_alert``)."""
    record: alerts.AlertRecord
    case: Case
    area: geo.Area
    excluded: dict[int, str]  # who may not approve the alert (pending), with why
    reach: Reach | None  # estimated now (pending only)
    messages: list[MessageShown]  # the alert message: as it would go (pending) or as it went
    state: dict[str, str] | None  # ``alerts.decision_state`` (pending only)
    deliveries: dict[str, dict[str, dict[str, int]]]  # kind -> channel -> status -> count
    pending_updates: list[PendingUpdate]
    history: list[AuditEvent]
    fatigue_limit: int
    names: dict[int, str] = field(default_factory=dict)

    @property
    def alert(self) -> Alert:
        return self.record.alert

    @property
    def sending(self) -> bool:
        """Messages still waiting or on their way."""
        return _sending(self.deliveries)


def _history(s: Session, alert: Alert) -> list[AuditEvent]:
    """The acts on the alert and on its case (not on the case's other alerts), oldest first."""
    events = audit.events(s, case_id=alert.case_id, limit=100_000)
    return [e for e in events if e.action not in HIDDEN_ACTIONS
            and (e.object_type != "alert" or e.object_id == alert.id)]


def _sending(deliveries: Mapping[str, Mapping[str, Mapping[str, int]]]) -> bool:
    return any(by_status.get("queued", 0) or by_status.get("sending", 0)
               for by_channel in deliveries.values() for by_status in by_channel.values())


@dataclass(frozen=True)
class Progress:
    """How far an alert's messages got (no personal data: reading it is not audited)."""
    alert_id: str
    status: str
    case_id: str
    case_reference: str
    deliveries: dict[str, dict[str, dict[str, int]]]  # kind -> channel -> status -> count

    @property
    def sending(self) -> bool:
        return _sending(self.deliveries)


def progress(rt: Runtime, alert_id: str) -> Progress:
    """The alert's status and its deliveries by kind, channel and status (``NotFound`` for an unknown alert)."""
    with store.read(rt) as s:
        alert = alerts.get_alert(s, alert_id)
        case = cases.get_case(s, alert.case_id)
        return Progress(alert.id, str(alert.status), case.id, case.reference,
                        delivery_rows.counts_by_channel(s, alert.id))


def alert_screen(rt: Runtime, alert_id: str) -> AlertScreen:
    """The alert page's content (``NotFound`` for an unknown alert). Reads only; the caller audits the view."""
    record = alerts.read_alert(rt, alert_id)
    now: datetime = rt.clock.now()
    with store.read(rt) as s:
        alert = alerts.get_alert(s, alert_id)
        case = cases.get_case(s, alert.case_id)
        area = alerts.parse_alert_area(rt, alert.area)
        pending = alert.status == AlertStatus.PENDING_APPROVAL
        excluded = alerts.excluded_approvers(s, alert) if pending else {}
        reach = _reach(s, rt, area) if pending else None
        state = alerts.decision_state_in(rt, s, alert, case, now) if pending else None
        published = facts.snapshot(case) if pending else alert.facts
        messages = render_messages(rt, alert, published) if published and case.purged_at is None else []
        waiting = []
        for upd in alerts.updates(s, alert.id):
            if upd.status != UpdateStatus.PENDING_APPROVAL:
                continue
            shown = upd.facts or alert.facts or {}
            waiting.append(PendingUpdate(upd, render_messages(rt, alert, shown, "update", update_text=upd.text),
                                         alerts.excluded_update_approvers(s, alert, upd),
                                         facts.differences(alert.facts, upd.facts) if upd.facts else []))
        names = alerts.usernames(s, *excluded, *(i for p in waiting for i in p.excluded))
        return AlertScreen(record=record, case=case, area=area, excluded=excluded, reach=reach, messages=messages,
                           state=state, deliveries=delivery_rows.counts_by_channel(s, alert.id),
                           pending_updates=waiting, history=_history(s, alert),
                           fatigue_limit=rt.settings.fatigue.territory_max_alerts,
                           names={**record.names, **names})
