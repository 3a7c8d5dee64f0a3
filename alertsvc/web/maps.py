"""Maps without the internet: the region catalogue as GeoJSON for the Leaflet enhancement
(``/static/js/map.js``), and ``area_svg`` for templates (the server-rendered map every page shows, with or
without JavaScript; see :mod:`geo.svg`).

- ``GET /map/regions.geojson``: the runtime's catalogue, simplified (shared borders stay shared), properties
  ``code`` and ``name``; ``Cache-Control: public, max-age=3600``, an ETag, and 304 on ``If-None-Match``.
- ``area_svg(area, ..., title=..., id_prefix=...)``: ``Markup`` of :func:`geo.svg.render_map` with the
  runtime's catalogue.
- ``area_geometry_json(area)``: the area's GeoJSON geometry for the ``data-area`` attribute map.js reads.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from flask import Blueprint, Response, request
from markupsafe import Markup
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo import Area, RegionCatalogue
from geo.svg import Fit, render_map

from ..context import runtime

__all__ = ["GEOJSON_MAX_AGE", "GEOJSON_PRECISION", "area_geometry_json", "area_svg", "bp", "regions_geojson"]

bp = Blueprint("maps", __name__)

GEOJSON_MAX_AGE = 3600
GEOJSON_PRECISION = 1e-4
"""Coordinates of the served GeoJSON are snapped to this grid (degrees; ~10 m)."""
_COVERAGE_TOLERANCE = 0.006  # shapely.coverage_simplify (shapely >= 2.1): about half the vertices go
_SIMPLIFY_TOLERANCE = 0.002  # per-region simplify where coverage_simplify is missing (degrees, ~200 m)


@dataclass(frozen=True)
class _Document:
    body: bytes
    etag: str


_DOCUMENTS: weakref.WeakKeyDictionary[RegionCatalogue, _Document] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _simplified(catalogue: RegionCatalogue) -> list[BaseGeometry]:
    geometries = np.array([r.geometry for r in catalogue], dtype=object)
    coverage_simplify = getattr(shapely, "coverage_simplify", None)
    if coverage_simplify is not None and shapely.coverage_is_valid(geometries):
        simple = coverage_simplify(geometries, _COVERAGE_TOLERANCE)
    else:
        simple = shapely.simplify(geometries, _SIMPLIFY_TOLERANCE, preserve_topology=True)
    return list(shapely.set_precision(simple, GEOJSON_PRECISION))


def regions_geojson(catalogue: RegionCatalogue) -> _Document:
    """The catalogue as a compact GeoJSON FeatureCollection and its ETag (computed once per catalogue)."""
    with _LOCK:
        found = _DOCUMENTS.get(catalogue)
        if found is not None:
            return found
        features = [
            {"type": "Feature", "id": region.code, "properties": {"code": region.code, "name": region.name},
             "geometry": mapping(geometry)}
            for region, geometry in zip(catalogue, _simplified(catalogue), strict=True)
        ]
        document = {"type": "FeatureCollection", "name": catalogue.name, "features": features}
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        found = _DOCUMENTS[catalogue] = _Document(body, hashlib.sha256(body).hexdigest()[:32])
        return found


@bp.get("/map/regions.geojson")
def regions() -> Response:
    document = regions_geojson(runtime().regions)
    resp = Response(document.body, mimetype="application/geo+json")
    resp.set_etag(document.etag)
    resp.headers["Cache-Control"] = f"public, max-age={GEOJSON_MAX_AGE}"
    resp.make_conditional(request)  # 304 without a body when If-None-Match names the ETag
    return resp


def area_svg(
    area: Area | None,
    *,
    selected: Iterable[str] = (),
    point: tuple[float, float] | None = None,
    fit: Fit = "country",
    title: str,
    description: str = "",
    id_prefix: str,
    labels: bool = False,
    language: str | None = None,
) -> Markup:
    """The map of ``area`` on the runtime's catalogue as an inline ``<svg>`` (``point`` is (lat, lon)); for
    templates: ``{{ area_svg(alert.area, title=..., id_prefix="alert-map") }}``."""
    svg = render_map(runtime().regions, area=area, selected=selected, point=point, fit=fit, title=title,
                     description=description, id_prefix=id_prefix, labels=labels, language=language)
    return Markup(svg)  # built from escaped text only (geo.svg escapes every name, title and description)


def area_geometry_json(area: Area | None) -> str:
    """``area``'s lon/lat GeoJSON geometry (coordinates to 5 decimals) as JSON, ``"null"`` for none: the value of
    map.js's ``data-area`` attribute (autoescaping quotes it safely inside the attribute)."""
    if area is None or area.geometry.is_empty:
        return "null"
    geometry: dict[str, Any] = mapping(shapely.set_precision(area.geometry, 1e-5))
    return json.dumps(geometry, separators=(",", ":"))
