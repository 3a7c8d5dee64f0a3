"""CAP 1.2 for each alert (Alert, then Update / Cancel with references) and an Atom index of current alerts."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse

import shapely
import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlmodel import Session, col, select

from ..errors import NotFound
from ..models import Alert, AlertStatus, AlertUpdate, UpdateStatus
from ..services import public

bp = Blueprint("cap", __name__)
CAP_TYPE = "application/cap+xml"
HEADLINE = {"sr-Latn": "Nestalo dete", "sr-Cyrl": "Нестало дете", "en": "Missing child"}
ENDED = {"sr-Latn": "Upozorenje o nestalom detetu je završeno. Hvala na pomoći.",
         "sr-Cyrl": "Упозорење о несталом детету је завршено. Хвала на помоћи.",
         "en": "The missing-child alert has ended. Thank you for your help."}
INSTRUCTION = {"sr-Latn": "Ako vidite dete, odmah pozovite policiju (192) ili {hotline}. Ne prilazite osumnjičenom.",
               "sr-Cyrl": "Ако видите дете, одмах позовите полицију (192) или {hotline}. Не прилазите осумњиченом.",
               "en": "If you see the child, call the police (192) or {hotline} at once. Do not approach a suspect."}


def _sender(rt) -> str:  # noqa: ANN001
    return f"alertsvc@{urlparse(rt.settings.server.base_url).hostname or 'localhost'}"


def _areas(rt, alert: Alert):  # noqa: ANN001, ANN202
    from ..cap import CapArea

    area = alert.area
    names = ", ".join(rt.regions[c].name for c in alert.territories if c in rt.regions) or "Srbija"
    if "circle" in area:
        c = area["circle"]
        return (CapArea(description=names, circles=((c["lat"], c["lon"], c["radius_km"]),)),)
    geoms = ([rt.regions[c].geometry for c in area["regions"]] if "regions" in area
             else [shapely.geometry.shape(area["polygon"])])
    rings = []
    for g in geoms:
        for poly in getattr(g, "geoms", [g]):
            rings.append(tuple((round(y, 5), round(x, 5)) for x, y in poly.exterior.coords))
    codes = tuple(("ISO3166-2", c) for c in alert.territories)
    return (CapArea(description=names, polygons=tuple(rings), geocodes=codes),)


def _infos(rt, alert: Alert, ended: bool, update_text: str | None):  # noqa: ANN001, ANN202
    from ..cap import CapInfo

    base = rt.settings.server.base_url
    view = public.public_view(rt, alert)
    infos = []
    for lang in ("sr-Latn", "sr-Cyrl", "en"):
        if ended:
            infos.append(CapInfo(language=lang, event=HEADLINE[lang], headline=HEADLINE[lang],
                                 description=ENDED[lang], instruction=ENDED[lang], web=f"{base}/alerts/{alert.id}",
                                 contact=rt.settings.alerts.hotline, urgency="Past", severity="Minor",
                                 certainty="Observed", response_types=("AllClear",)))
            continue
        child = view["child"] or {}
        parts = [f"{child.get('name') or ''} ({child.get('age')})".strip(), child.get("description") or "",
                 (view["last_seen"] or {}).get("place") or "", view.get("vehicle") or "", view.get("plate") or ""]
        if update_text:
            parts.insert(0, update_text)
        infos.append(CapInfo(language=lang, event=HEADLINE[lang],
                             headline=f"{HEADLINE[lang]}: {child.get('name') or view.get('reference')}",
                             description=" · ".join(p for p in parts if p),
                             instruction=INSTRUCTION[lang].format(hotline=rt.settings.alerts.hotline),
                             web=f"{base}/alerts/{alert.id}", contact=rt.settings.alerts.hotline,
                             expires=alert.expires_at))
    return tuple(infos)


def cap_document(rt, s: Session, alert_id: str) -> bytes:  # noqa: ANN001
    from ..cap import CapMessage, render_cap

    alert = public.public_alert(s, alert_id)
    if alert is None:
        raise NotFound(f"no published alert with id {alert_id}")
    updates = s.exec(select(AlertUpdate).where(AlertUpdate.alert_id == alert.id,
                                               AlertUpdate.status == UpdateStatus.SENT)
                     .order_by(col(AlertUpdate.id))).all()
    sender = _sender(rt)
    assert alert.activated_at is not None
    history = [(sender, f"alertsvc-{alert.id}", alert.activated_at)]
    history += [(sender, f"alertsvc-{alert.id}-{u.kind}-{u.id}", u.decided_at or u.created_at) for u in updates]
    ended = alert.status != AlertStatus.ACTIVE
    last = updates[-1] if updates else None
    msg_type = "Cancel" if ended else ("Update" if last else "Alert")
    identifier, sent = history[-1][1], history[-1][2]
    message = CapMessage(identifier=identifier, sender=sender, sent=sent, msg_type=msg_type,
                         references=tuple(history[:-1]), infos=_infos(rt, alert, ended,
                                                                      last.text if last and not ended else None),
                         areas=_areas(rt, alert), note=None)
    return render_cap(message)


@bp.get("/cap/<alert_id>.xml")
def cap_alert(alert_id: str) -> Response:
    rt = current_app.extensions["alertsvc"]
    with Session(rt.engine) as s:
        return Response(cap_document(rt, s, alert_id), mimetype=CAP_TYPE)


@bp.get("/cap/index.atom")
def cap_index() -> Response:
    from ..cap import AtomEntry, render_atom_index

    rt = current_app.extensions["alertsvc"]
    base = rt.settings.server.base_url
    with Session(rt.engine) as s:
        rows = s.exec(select(Alert).where(Alert.status == AlertStatus.ACTIVE)
                      .order_by(col(Alert.activated_at).desc())).all()
        entries = []
        for a in rows:
            published_at = sa.func.coalesce(AlertUpdate.decided_at, AlertUpdate.created_at)
            upd = s.exec(select(published_at).where(AlertUpdate.alert_id == a.id,
                                                    AlertUpdate.status == UpdateStatus.SENT)
                         .order_by(col(AlertUpdate.id).desc())).first()
            updated: datetime = upd or a.activated_at or a.requested_at
            entries.append(AtomEntry(id=f"{base}/cap/{a.id}.xml", title=f"Nestalo dete / Missing child ({a.id[:8]})",
                                     updated=updated, cap_url=f"{base}/cap/{a.id}.xml"))
    updated_all = max((e.updated for e in entries), default=rt.clock.now())
    body = render_atom_index(feed_id=f"{base}/cap/index.atom", title="alertsvc: current missing-child alerts",
                             self_url=f"{base}/cap/index.atom", updated=updated_all, entries=entries)
    return Response(body, mimetype="application/atom+xml")
