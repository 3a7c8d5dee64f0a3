"""Bulk import of pre-confirmed subscribers from CSV (migration from an existing list).

Streams the file in batches: every bad row is reported by its line number and skipped, good rows go in.
Re-importing the same file adds nothing (rows are keyed by an HMAC of channel, address and area, the same
key the API uses). Circle areas are checked against the catalogue in one vectorised call per batch.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
import shapely

from .. import audit, store
from ..errors import ValidationFailed
from ..inputs import string_problem
from ..messages import CHANNELS, LANGUAGES
from ..models import SubscriptionStatus, new_id
from ..runtime import Runtime
from ..store import subscriptions as subscription_rows
from .subscriptions import normalise_address

CIRCLE_COLUMNS = ["channel", "address", "language", "lat", "lon", "radius_km"]
REGION_COLUMNS = ["channel", "address", "language", "regions"]


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)


@dataclass
class _Row:
    line: int
    channel: str
    address: str
    language: str
    area: dict[str, Any]
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    regions: list[str] | None = None


class ImportFormatError(Exception):
    pass


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} is not a finite number")
    return number


def _check_text(rec: dict[str, Any]) -> None:
    """A row whose text cannot be stored: NUL, or bytes that are not UTF-8 (read as lone surrogates)."""
    for value in rec.values():
        for text in (value if isinstance(value, list) else [value]):
            problem = string_problem(text) if isinstance(text, str) else None
            if problem and "NUL" in problem:
                raise ValueError("the row contains the NUL character")
            if problem:
                raise ValueError("the row is not UTF-8 text")


def _safe_reason(message: str, address: str) -> str:
    """The validator's reason, unless it quotes any part of the address (personal data): then a generic one."""
    parts = {p for p in re.split(r"\W+", address.lower()) if len(p) >= 3}
    return "is not a valid address" if any(p in message.lower() for p in parts) else message


def _parse(rt: Runtime, line: int, rec: dict[str, str], circles: bool, codes: frozenset[str]) -> _Row:
    _check_text(rec)
    channel = (rec.get("channel") or "").strip().lower()
    if channel not in CHANNELS:
        raise ValueError("channel must be sms or email")
    language = (rec.get("language") or "").strip() or "sr-Latn"
    if language not in LANGUAGES:
        raise ValueError("language must be sr-Latn, sr-Cyrl or en")
    raw_address = (rec.get("address") or "").strip()
    try:
        address = normalise_address(rt, channel, raw_address)
    except ValidationFailed as exc:
        raise ValueError(f"address {_safe_reason(exc.errors[0]['message'], raw_address)}") from None
    if circles:
        lat, lon = _float(rec.get("lat") or "", "lat"), _float(rec.get("lon") or "", "lon")
        radius = _float(rec.get("radius_km") or "", "radius_km")
        if not -90 <= lat <= 90:
            raise ValueError("lat must be within ±90")
        if not -180 <= lon <= 180:
            raise ValueError("lon must be within ±180")
        if not 0 < radius <= 500:
            raise ValueError("radius_km must be more than 0 and at most 500")
        return _Row(line, channel, address, language, {"circle": {"lat": lat, "lon": lon, "radius_km": radius}},
                    lat=lat, lon=lon, radius_km=radius)
    regions = sorted({c for c in (rec.get("regions") or "").replace(";", " ").replace("|", " ").split() if c})
    if not regions:
        raise ValueError("regions is empty")
    unknown = [c for c in regions if c not in codes]
    if unknown:
        raise ValueError(f"unknown region code(s): {', '.join(unknown)}")
    return _Row(line, channel, address, language, {"regions": regions}, regions=regions)


def _batches(reader: csv.DictReader, size: int) -> Iterator[list[tuple[int, dict[str, str]]]]:
    batch: list[tuple[int, dict[str, str]]] = []
    for rec in reader:
        batch.append((reader.line_num, rec))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_csv(rt: Runtime, stream: TextIO, *, batch_size: int = 5000,
               progress: Callable[[ImportReport], None] | None = None) -> ImportReport:
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if header[:6] == CIRCLE_COLUMNS:
        circles = True
    elif header[:4] == REGION_COLUMNS:
        circles = False
    else:
        raise ImportFormatError("the header must be channel,address,language,lat,lon,radius_km "
                                "or channel,address,language,regions")
    catalogue = rt.regions
    codes = frozenset(catalogue.codes())
    projection = catalogue.projection
    extent = projection.to_metric(catalogue.extent)
    shapely.prepare(extent)
    report = ImportReport()
    seen: set[str] = set()
    for batch in _batches(reader, batch_size):
        rows: list[_Row] = []
        for line, rec in batch:
            report.rows += 1
            try:
                rows.append(_parse(rt, line, rec, circles, codes))
            except ValueError as exc:
                report.errors.append((line, str(exc)))
        if circles and rows:
            lon = np.fromiter((r.lon for r in rows), float, len(rows))
            lat = np.fromiter((r.lat for r in rows), float, len(rows))
            x, y = projection.project(lon, lat)
            radius = np.fromiter((r.radius_km for r in rows), float, len(rows)) * 1000.0
            # one distance per point (shapely broadcasts; its stubs type the distance as one float)
            inside = shapely.dwithin(extent, shapely.points(x, y), radius)  # type: ignore[call-overload]
            for r, ok in zip(rows, inside, strict=True):
                if not ok:
                    report.errors.append((r.line, "area lies outside the region catalogue"))
            rows = [r for r, ok in zip(rows, inside, strict=True) if ok]
        report.imported += _insert(rt, rows, seen, report)
        if progress:
            progress(report)
    report.errors.sort()
    with store.write(rt) as s:
        audit.record(s, audit.SYSTEM, "subscribers.imported", object_type="subscription", object_id="import",
                     now=rt.clock.now(), details={"rows": report.rows, "imported": report.imported,
                                                  "duplicates": report.duplicates, "rejected": report.rejected})
    return report


def _insert(rt: Runtime, rows: list[_Row], seen: set[str], report: ImportReport) -> int:
    if not rows:
        return 0
    now = rt.clock.now()
    keyed = []
    for r in rows:
        key = rt.keyed_hash("dedupe", f"{r.channel}|{r.address}|{json.dumps(r.area, sort_keys=True)}")
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        keyed.append((key, r))
    with store.write(rt) as s:
        existing = subscription_rows.active_dedupe_keys(s, [k for k, _ in keyed])
        fresh = []
        for key, r in keyed:
            if key in existing:
                report.duplicates += 1
                continue
            fresh.append((key, r, rt.keyed_hash("address", r.address)))
        numbers = subscription_rows.address_numbers(s, [(r.channel, address_key) for _, r, address_key in fresh],
                                                    bulk=True)
        values = []
        for (key, r, address_key), seq in zip(fresh, subscription_rows.next_numbers(s, len(fresh)), strict=True):
            address_no = numbers.setdefault((r.channel, address_key), seq)
            values.append({"id": new_id(), "seq": seq, "address_no": address_no, "channel": r.channel,
                           "address": r.address, "address_key": address_key,
                           "dedupe_key": key,
                           "language": r.language, "area": r.area, "lat": r.lat, "lon": r.lon,
                           "radius_km": r.radius_km, "regions": r.regions, "status": SubscriptionStatus.ACTIVE,
                           "code_attempts": 0, "source": "import", "created_at": now, "confirmed_at": now})
        subscription_rows.insert_many(s, values)
        return len(values)
