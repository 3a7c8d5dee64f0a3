"""A region catalogue and an alert area drawn as an inline SVG map (no tiles, no network, no JavaScript).

::

    from geo.svg import render_map

    svg = render_map(catalogue, area=area, selected=["RS-00"], point=(44.81, 20.46), fit="area",
                     title="Alert area", description="A 10 km circle around Trg republike", id_prefix="alert-map")

The result is an ``<svg role="img">`` element for an HTML page (it is also well-formed XML). The page styles it
with classes only, never inline styles (the pages' CSP forbids them)::

    path.app-map__district[data-code]    one per district drawn, with a <title> naming it
    path.app-map__district--selected     added to the selected districts
    path.app-map__area                   the area (holes and several parts: fill-rule evenodd)
    circle.app-map__point                the optional point
    text.app-map__label                  district names, when ``labels=True``

A few presentation attributes (fill, stroke) on the groups keep the map readable where the stylesheet is not
loaded; any CSS rule overrides them.

Projection: equirectangular, x scaled by the cosine of the catalogue's mid latitude (a few per cent off at
Serbia's edges: fine for a picture, never used for matching), y growing downward. The plane is fixed per
catalogue (its extent is :data:`PLANE_WIDTH` units wide) so that the district paths are computed once per
catalogue (:func:`map_renderer` caches a :class:`MapRenderer` per catalogue object) and ``fit`` only moves the
``viewBox``. Coordinates are rounded to 0.1 unit; outlines are simplified (topology preserved) to
:data:`COUNTRY_TOLERANCE` units for the whole country and :data:`DETAIL_TOLERANCE` units when zoomed in.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    from .areas import Area
    from .regions import Region, RegionCatalogue

__all__ = [
    "COUNTRY_TOLERANCE",
    "DETAIL_TOLERANCE",
    "MIN_AREA_VIEW_KM",
    "PLANE_WIDTH",
    "Fit",
    "MapRenderer",
    "map_renderer",
    "render_map",
]

Fit = Literal["country", "area"]

PLANE_WIDTH = 1000.0
"""Width of the catalogue's extent in SVG user units."""
COUNTRY_TOLERANCE = 1.0
"""Simplification of the district outlines for the whole country (units; for Serbia ~0.33 km, under a pixel
at 640 px)."""
DETAIL_TOLERANCE = 0.1
"""Simplification when zoomed in to less than half the country's width (units)."""
MIN_AREA_VIEW_KM = 30.0
"""``fit="area"`` shows at least this many kilometres across, however small the area."""
_KM_PER_DEGREE = 111.195  # one degree of latitude (mean Earth radius), in km
_PADDING = 0.02  # of the larger side, around the country
_MARGIN = 0.15  # of the area's size, around the area
_MAX_ASPECT = 2.0  # fit="area": the view is at most twice as wide as high, or as high as wide
_POINT_RADIUS = 6.0  # pixels, at the map's rendered width
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# characters XML 1.0 does not allow (they would make the SVG unparsable); dropped from every text
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    """``value`` as XML character data or a double-quoted attribute value."""
    value = _NOT_XML.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _num(value: float) -> str:
    text = f"{round(value, 1) + 0.0:.1f}"  # + 0.0: no "-0.0"
    return text[:-2] if text.endswith(".0") else text


def _width(value: float) -> str:
    """A stroke width or radius: never rounded down to nothing."""
    return _num(max(value, 0.1))


def _ring_path(coords: NDArray[np.float64]) -> str:
    """One closed subpath, rounded to 0.1 unit, repeated points dropped."""
    rounded = np.round(coords, 1) + 0.0
    keep = np.ones(len(rounded), dtype=bool)
    keep[1:] = np.any(rounded[1:] != rounded[:-1], axis=1)
    rounded = rounded[keep]
    if len(rounded) > 1 and np.array_equal(rounded[0], rounded[-1]):
        rounded = rounded[:-1]  # "Z" closes it
    if len(rounded) < 3:
        return ""
    pairs = [f"{_num(x)} {_num(y)}" for x, y in rounded]
    return "M" + " ".join(pairs) + "Z"


def _path_data(geometry: BaseGeometry) -> str:
    """SVG path data of the polygons in ``geometry`` (every ring a subpath; lines and points are ignored)."""
    parts: list[str] = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, shapely.Polygon):
            polygons: Sequence[shapely.Polygon] = [part]
        elif isinstance(part, shapely.MultiPolygon | shapely.GeometryCollection):
            polygons = [p for p in shapely.get_parts(part) if isinstance(p, shapely.Polygon)]
        else:
            continue
        for polygon in polygons:
            if polygon.is_empty:
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                parts.append(_ring_path(np.asarray(ring.coords, dtype=float)[:, :2]))
    return "".join(parts)


@dataclass(frozen=True)
class _View:
    min_x: float
    min_y: float
    width: float
    height: float

    @property
    def box(self) -> str:
        return " ".join(_num(v) for v in (self.min_x, self.min_y, self.width, self.height))

    def intersects(self, bounds: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = bounds
        max_x, max_y = self.min_x + self.width, self.min_y + self.height
        return x1 >= self.min_x and x0 <= max_x and y1 >= self.min_y and y0 <= max_y


@dataclass(frozen=True)
class _District:
    code: str
    path: str
    bounds: tuple[float, float, float, float]
    label_at: tuple[float, float]


class MapRenderer:
    """Draws maps of one catalogue; the district paths are computed on first use and kept.

    It keeps the catalogue's regions, not the catalogue (so that :func:`map_renderer`'s weak cache lets a
    catalogue go).
    """

    def __init__(self, catalogue: RegionCatalogue) -> None:
        self.regions: Mapping[str, Region] = dict(catalogue.regions)
        min_lon, min_lat, max_lon, max_lat = catalogue.bounds
        self._lon0, self._lat0 = min_lon, max_lat
        self._cos = math.cos(math.radians((min_lat + max_lat) / 2))
        self._scale = PLANE_WIDTH / max((max_lon - min_lon) * self._cos, 1e-9)  # units per degree of latitude
        self.units_per_km = self._scale / _KM_PER_DEGREE
        self.extent = self._to_plane(catalogue.extent)
        self._lock = threading.Lock()

    # -- plane -----------------------------------------------------------------------------------------------
    def _xy(self, coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x = (coords[:, 0] - self._lon0) * self._cos * self._scale
        y = (self._lat0 - coords[:, 1]) * self._scale
        return np.column_stack([x, y])

    def _to_plane(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self._xy)

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        """(lat, lon) in degrees -> (x, y) in SVG user units."""
        x, y = self._xy(np.array([[lon, lat]], dtype=float))[0]
        return float(x), float(y)

    # -- districts (cached) ------------------------------------------------------------------------------------
    def _districts(self, tolerance: float) -> tuple[_District, ...]:
        out = []
        for region in self.regions.values():
            plane = self._to_plane(region.geometry)
            simple = shapely.simplify(plane, tolerance, preserve_topology=True)
            label = shapely.point_on_surface(plane)
            x0, y0, x1, y1 = plane.bounds
            out.append(_District(region.code, _path_data(simple), (x0, y0, x1, y1), (label.x, label.y)))
        return tuple(out)

    @cached_property
    def country_districts(self) -> tuple[_District, ...]:
        with self._lock:
            return self._districts(COUNTRY_TOLERANCE)

    @cached_property
    def detail_districts(self) -> tuple[_District, ...]:
        with self._lock:
            return self._districts(DETAIL_TOLERANCE)

    # -- views -----------------------------------------------------------------------------------------------
    def country_view(self) -> _View:
        x0, y0, x1, y1 = self.extent.bounds
        pad = max(x1 - x0, y1 - y0) * _PADDING
        return _View(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)

    def area_view(self, bounds: tuple[float, float, float, float]) -> _View:
        """A view around ``bounds`` (plane units) with a margin, at least MIN_AREA_VIEW_KM across."""
        x0, y0, x1, y1 = bounds
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        least = MIN_AREA_VIEW_KM * self.units_per_km
        w = max((x1 - x0) * (1 + 2 * _MARGIN), least)
        h = max((y1 - y0) * (1 + 2 * _MARGIN), least)
        w, h = max(w, h / _MAX_ASPECT), max(h, w / _MAX_ASPECT)
        return _View(cx - w / 2, cy - h / 2, w, h)

    # -- drawing ----------------------------------------------------------------------------------------------
    def render(
        self,
        *,
        area: Area | None = None,
        selected: Iterable[str] = (),
        point: tuple[float, float] | None = None,
        fit: Fit = "country",
        title: str,
        description: str = "",
        width: int = 640,
        id_prefix: str = "map",
        labels: bool = False,
        language: str | None = None,
    ) -> str:
        """The map as an ``<svg>`` string; see :func:`render_map`."""
        if not _ID.fullmatch(id_prefix):
            raise ValueError(f"id_prefix must be a letter then letters, digits, '-' or '_' (got {id_prefix!r})")
        if fit not in ("country", "area"):
            raise ValueError(f"fit must be 'country' or 'area' (got {fit!r})")
        if width <= 0:
            raise ValueError(f"width must be positive (got {width})")
        chosen = frozenset(selected)
        area_plane = None
        if area is not None and not area.geometry.is_empty:
            area_plane = self._to_plane(area.geometry)
        point_xy = self.project(*point) if point is not None else None

        country = self.country_view()
        view = country
        if fit == "area":
            if area_plane is not None:
                x0, y0, x1, y1 = area_plane.bounds
                view = self.area_view((x0, y0, x1, y1))
            elif point_xy is not None:
                view = self.area_view((*point_xy, *point_xy))
        detailed = view.width < country.width / 2
        districts = self.detail_districts if detailed else self.country_districts
        drawn = [d for d in districts if view.intersects(d.bounds)]
        px = view.width / width  # one pixel of the rendered map, in units
        height = max(1, round(width * view.height / view.width))

        t_id, d_id = f"{id_prefix}-title", f"{id_prefix}-desc"
        labelled_by = f"{t_id} {d_id}" if description else t_id
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="app-map__svg" viewBox="{view.box}" '
            f'width="{width}" height="{height}" role="img" aria-labelledby="{labelled_by}" focusable="false" '
            f'fill-rule="evenodd" stroke-linejoin="round">',
            f'<title id="{t_id}">{_text(title)}</title>',
        ]
        if description:
            out.append(f'<desc id="{d_id}">{_text(description)}</desc>')
        out.append(f'<g class="app-map__districts" fill="#f3f2f1" stroke="#505a5f" stroke-width="{_width(px)}">')
        for district in sorted(drawn, key=lambda d: (d.code in chosen, d.code)):  # selected last: outline on top
            region = self.regions[district.code]
            name = region.names.get(language, region.name) if language else region.name
            if district.code in chosen:
                cls, fill = "app-map__district app-map__district--selected", ' fill="#9cb8da"'
            else:
                cls, fill = "app-map__district", ""
            out.append(f'<path class="{cls}" data-code="{_text(district.code)}"{fill} d="{district.path}">'
                       f"<title>{_text(name)}</title></path>")
        out.append("</g>")
        if area_plane is not None:
            simple = shapely.simplify(area_plane, px / 2, preserve_topology=True)
            data = _path_data(simple)
            if data:
                out.append(f'<path class="app-map__area" fill="#d4351c" fill-opacity="0.35" stroke="#7f2011" '
                           f'stroke-width="{_width(2 * px)}" d="{data}"/>')
        if point_xy is not None:
            out.append(f'<circle class="app-map__point" cx="{_num(point_xy[0])}" cy="{_num(point_xy[1])}" '
                       f'r="{_width(_POINT_RADIUS * px)}"/>')
        if labels:
            out.append(f'<g class="app-map__labels" text-anchor="middle" font-size="{_width(12 * px)}" '
                       f'dominant-baseline="central" fill="#0b0c0c" stroke="#ffffff" stroke-width="{_width(3 * px)}" '
                       'paint-order="stroke">')
            for district in sorted(drawn, key=lambda d: d.code):
                region = self.regions[district.code]
                name = region.names.get(language, region.name) if language else region.name
                x, y = district.label_at
                out.append(f'<text class="app-map__label" x="{_num(x)}" y="{_num(y)}">{_text(name)}</text>')
            out.append("</g>")
        out.append("</svg>")
        return "".join(out)


_RENDERERS: weakref.WeakKeyDictionary[RegionCatalogue, MapRenderer] = weakref.WeakKeyDictionary()
_RENDERERS_LOCK = threading.Lock()


def map_renderer(catalogue: RegionCatalogue) -> MapRenderer:
    """The renderer of ``catalogue`` (made once, kept while the catalogue lives; an equal catalogue shares it)."""
    with _RENDERERS_LOCK:
        renderer = _RENDERERS.get(catalogue)
        if renderer is None:
            renderer = _RENDERERS[catalogue] = MapRenderer(catalogue)
        return renderer


def render_map(
    catalogue: RegionCatalogue,
    *,
    area: Area | None = None,
    selected: Iterable[str] = (),
    point: tuple[float, float] | None = None,
    fit: Fit = "country",
    title: str,
    description: str = "",
    width: int = 640,
    id_prefix: str = "map",
    labels: bool = False,
    language: str | None = None,
) -> str:
    """The catalogue's districts, ``area`` and ``point`` as an inline ``<svg role="img">`` string.

    ``selected``: district codes to highlight (unknown codes are ignored). ``point``: **(lat, lon)** in
    degrees, like :class:`~geo.Circle`. ``fit="area"`` zooms to the area (else to the point; with neither it
    shows the country) with a margin, at least :data:`MIN_AREA_VIEW_KM` across, drawing every district in view.
    ``title`` (required) and ``description`` name the image for assistive technology through
    ``aria-labelledby``; ``id_prefix`` makes their ids unique on the page (``<prefix>-title``,
    ``<prefix>-desc``). ``width`` is the intrinsic width in pixels (the height follows the view's aspect).
    ``labels`` writes district names on the map, in ``language`` (a BCP 47 tag of ``Region.names``) when
    given. Every text is XML-escaped; no ``style`` attribute is written.
    """
    return map_renderer(catalogue).render(
        area=area, selected=selected, point=point, fit=fit, title=title, description=description, width=width,
        id_prefix=id_prefix, labels=labels, language=language,
    )
