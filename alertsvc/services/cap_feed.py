"""CAP 1.2 for each published alert (Alert, then Update / Cancel with references) and the Atom index of the
current ones. What is said comes from the approved snapshot (``public.public_view``); the wording in each language
from ``templates/cap/<language>.toml``; the XML from ``alertsvc.cap``."""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from urllib.parse import urlparse

import shapely

from .. import store
from ..cap import AtomEntry, CapArea, CapInfo, CapMessage, render_atom_index, render_cap
from ..errors import NotFound
from ..messages import LANGUAGES
from ..models import Alert, AlertStatus
from ..runtime import Runtime
from ..store import alerts as alert_rows
from ..templating import templates_dir
from . import public


@cache
def wording(language: str) -> dict[str, str]:
    """``headline``, ``ended`` and ``instruction`` (with ``{hotline}``) in ``language``."""
    with (templates_dir() / "cap" / f"{language}.toml").open("rb") as f:
        return tomllib.load(f)


def _sender(rt: Runtime) -> str:
    return f"alertsvc@{urlparse(rt.settings.server.base_url).hostname or 'localhost'}"


def _areas(rt: Runtime, alert: Alert) -> tuple[CapArea, ...]:
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


def _infos(rt: Runtime, alert: Alert, ended: bool, update_text: str | None) -> tuple[CapInfo, ...]:
    base = rt.settings.server.base_url
    hotline = rt.settings.alerts.hotline
    view = public.public_view(rt, alert)
    infos = []
    for lang in LANGUAGES:
        words = wording(lang)
        if ended:
            infos.append(CapInfo(language=lang, event=words["headline"], headline=words["headline"],
                                 description=words["ended"], instruction=words["ended"],
                                 web=f"{base}/alerts/{alert.id}", contact=hotline, urgency="Past",
                                 severity="Minor", certainty="Observed", response_types=("AllClear",)))
            continue
        child = view["child"] or {}
        parts = [f"{child.get('name') or ''} ({child.get('age')})".strip(), child.get("description") or "",
                 (view["last_seen"] or {}).get("place") or "", view.get("vehicle") or "", view.get("plate") or ""]
        if update_text:
            parts.insert(0, update_text)
        infos.append(CapInfo(language=lang, event=words["headline"],
                             headline=f"{words['headline']}: {child.get('name') or view.get('reference')}",
                             description=" · ".join(p for p in parts if p),
                             instruction=words["instruction"].format(hotline=hotline),
                             web=f"{base}/alerts/{alert.id}", contact=hotline, expires=alert.expires_at))
    return tuple(infos)


def cap_document(rt: Runtime, alert_id: str) -> bytes:
    """The alert's CAP document: ``Alert``, then ``Update`` after each sent update, ``Cancel`` once it has ended;
    each references the messages before it. ``NotFound`` unless the alert is published."""
    with store.read(rt) as s:
        alert = public.public_alert(s, alert_id)
        if alert is None:
            raise NotFound(f"no published alert with id {alert_id}")
        updates = alert_rows.sent_updates(s, alert.id)
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


def atom_index(rt: Runtime) -> bytes:
    """The Atom index of the active alerts, each entry updated when its last update went out (one query)."""
    base = rt.settings.server.base_url
    with store.read(rt) as s:
        rows = alert_rows.active_with_last_published(s)
    entries = []
    for a, published_at in rows:
        updated: datetime = published_at or a.activated_at or a.requested_at
        entries.append(AtomEntry(id=f"{base}/cap/{a.id}.xml", title=f"Nestalo dete / Missing child ({a.id[:8]})",
                                 updated=updated, cap_url=f"{base}/cap/{a.id}.xml"))
    updated_all = max((e.updated for e in entries), default=rt.clock.now())
    return render_atom_index(feed_id=f"{base}/cap/index.atom", title="alertsvc: current missing-child alerts",
                             self_url=f"{base}/cap/index.atom", updated=updated_all, entries=entries)
