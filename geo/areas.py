"""Parse and validate an area (alert or subscription) into an immutable :class:`Area`.

An area in the API's JSON is exactly one of::

    {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5}}
    {"regions": ["RS-00", "RS-06"]}
    {"polygon": <GeoJSON Polygon or MultiPolygon, lon/lat>}

:func:`parse_area` collects *all* problems before raising one
:class:`~geo.AreaError`.  Limits: radius in (0, :data:`MAX_RADIUS_KM`];
at most :data:`MAX_POLYGON_POSITIONS` positions per polygon and
:data:`MAX_REGIONS` region codes, so hostile input cannot exhaust the CPU.

Geometry conventions
--------------------
* ``Area.geometry`` is lon/lat WGS84.  A circle's geometry is a regular
  :data:`CIRCLE_SEGMENTS`-gon built around the projected centre in the metric
  plane, *circumscribed* about the disc (vertices at ``r / cos(π/128)``), then
  projected back: it contains the disc and exceeds it by at most
  ``r · (sec(π/128) − 1) ≈ 0.03 %`` of the radius (15 m at 50 km), plus the
  projection's own ≤ 0.03 % (see :mod:`geo.projection`).  The exact centre and
  radius are kept in ``Area.circle`` and all matching uses them, not the
  polygon.
* ``Area.metric_geometry`` is the same area in the catalogue's metric plane
  (prepared, for fast repeated predicates).  Polygons are clipped to the
  catalogue's bounding box widened by :data:`CLIP_MARGIN_DEG` before being
  projected, and their edges are straight lines in the plane (the difference
  from lon/lat-straight edges is centimetres for edges of a few km).
* Intersection is closed-set: touching counts (a disc tangent to an area
  intersects it).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import AreaError, Problem
from .projection import TransverseMercator

if TYPE_CHECKING:
    from .regions import RegionCatalogue

__all__ = [
    "CIRCLE_SEGMENTS",
    "CLIP_MARGIN_DEG",
    "KINDS",
    "MAX_POLYGON_POSITIONS",
    "MAX_RADIUS_KM",
    "MAX_REGIONS",
    "Area",
    "AreaKind",
    "Circle",
    "circle_polygon",
    "parse_area",
]

AreaKind = Literal["circle", "regions", "polygon"]
KINDS: tuple[AreaKind, ...] = ("circle", "regions", "polygon")
MAX_RADIUS_KM = 500.0
MAX_POLYGON_POSITIONS = 10_000
MAX_REGIONS = 1_000
CIRCLE_SEGMENTS = 128
CLIP_MARGIN_DEG = 10.0

Coordinates = tuple[Any, ...]  # nested tuples of (lon, lat) floats


@dataclass(frozen=True)
class Circle:
    """An exact disc on the ground: centre (``lat``, ``lon``) in degrees, ``radius_km``."""

    lat: float
    lon: float
    radius_km: float

    @property
    def radius_m(self) -> float:
        """The radius in metres (``radius_km * 1000``)."""
        return self.radius_km * 1000.0


@dataclass(frozen=True, kw_only=True)
class Area:
    """A validated area.  Equality compares the normalised spec, not the geometries.

    Exactly one of ``circle`` / ``regions`` / ``polygon_coordinates`` is set,
    according to ``kind``.
    """

    kind: AreaKind
    circle: Circle | None = None
    regions: tuple[str, ...] = ()
    polygon_type: str | None = None
    polygon_coordinates: Coordinates | None = None
    geometry: BaseGeometry = field(compare=False, repr=False)
    metric_geometry: BaseGeometry = field(compare=False, repr=False)
    projection: TransverseMercator = field(compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The normalised API JSON (floats, sorted region codes, 2-D positions)."""
        if self.kind == "circle":
            assert self.circle is not None
            return {"circle": {"lat": self.circle.lat, "lon": self.circle.lon, "radius_km": self.circle.radius_km}}
        if self.kind == "regions":
            return {"regions": list(self.regions)}
        return {"polygon": {"type": self.polygon_type, "coordinates": _to_lists(self.polygon_coordinates)}}

    def territories(self, catalogue: RegionCatalogue) -> list[str]:
        """Sorted codes of the catalogue regions this area intersects (touching counts).

        A regions area returns exactly its own codes: neighbouring regions only
        share a border with it, they do not overlap it.  Circles are exact
        (distance from the centre), not via the polygon approximation.
        """
        if self.kind == "circle":
            assert self.circle is not None
            return catalogue.regions_within(self.circle.lat, self.circle.lon, self.circle.radius_km)
        if self.kind == "regions":
            return list(self.regions)
        return catalogue.regions_intersecting(self.geometry)


def _to_lists(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_lists(v) for v in value]
    return value


def _fmt(value: float) -> str:
    return repr(round(float(value), 6))


_REASON = re.compile(r"^(?P<text>.*?)\s*\[(?P<x>\S+)\s+(?P<y>\S+)\]\s*$")


def describe_invalidity(geometry: BaseGeometry) -> str:
    """GEOS's validity reason, with the location as "at lon X, lat Y"."""
    reason = shapely.is_valid_reason(geometry) or "invalid geometry"
    match = _REASON.match(reason)
    if not match:
        return reason
    try:
        x, y = float(match["x"]), float(match["y"])
    except ValueError:
        return reason
    return f"{match['text']} at lon {_fmt(x)}, lat {_fmt(y)}"


# -- numbers -------------------------------------------------------------------


def _number(value: Any, path: str, problems: list[Problem], what: str = "value") -> float | None:
    if isinstance(value, bool):
        problems.append(Problem(path, f"{what} must be a number, not a boolean"))
        return None
    if isinstance(value, (str, bytes)):
        problems.append(Problem(path, f"{what} must be a number, not a string"))
        return None
    if not isinstance(value, numbers.Real):
        problems.append(Problem(path, f"{what} must be a number (got {type(value).__name__})"))
        return None
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        problems.append(Problem(path, f"{what} must be a finite number (got {number})"))
        return None
    return number


def _lat(value: Any, path: str, problems: list[Problem], what: str = "latitude") -> float | None:
    number = _number(value, path, problems, what)
    if number is not None and not -90.0 <= number <= 90.0:
        problems.append(Problem(path, f"{what} {_fmt(number)} is out of range [-90, 90]"))
        return None
    return number


def _lon(value: Any, path: str, problems: list[Problem], what: str = "longitude") -> float | None:
    number = _number(value, path, problems, what)
    if number is not None and not -180.0 <= number <= 180.0:
        problems.append(Problem(path, f"{what} {_fmt(number)} is out of range [-180, 180]"))
        return None
    return number


def _is_array(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _unknown_keys(data: Mapping[Any, Any], allowed: Sequence[str], path: str, problems: list[Problem]) -> None:
    for key in data:
        if key not in allowed:
            problems.append(Problem(f"{path}.{key}", f"unknown key; expected {', '.join(allowed)}"))


# -- circle ----------------------------------------------------------------------


def _parse_circle(spec: Any, problems: list[Problem]) -> Circle | None:
    path = "area.circle"
    if not isinstance(spec, Mapping):
        problems.append(Problem(path, "must be an object with lat, lon and radius_km"))
        return None
    _unknown_keys(spec, ("lat", "lon", "radius_km"), path, problems)
    values: dict[str, float | None] = {}
    for key, check in (("lat", _lat), ("lon", _lon), ("radius_km", _number)):
        if key not in spec:
            problems.append(Problem(f"{path}.{key}", "is required"))
            values[key] = None
        else:
            values[key] = check(spec[key], f"{path}.{key}", problems, key)
    radius = values["radius_km"]
    if radius is not None and not 0.0 < radius <= MAX_RADIUS_KM:
        problems.append(
            Problem(f"{path}.radius_km", f"radius_km must be > 0 and <= {MAX_RADIUS_KM:g} (got {_fmt(radius)})")
        )
        return None
    lat, lon = values["lat"], values["lon"]
    if lat is None or lon is None or radius is None:
        return None
    return Circle(lat=lat, lon=lon, radius_km=radius)


def circle_polygon(
    circle: Circle, projection: TransverseMercator, segments: int = CIRCLE_SEGMENTS
) -> tuple[shapely.Polygon, shapely.Polygon]:
    """(metric polygon, lon/lat polygon) approximating ``circle``; circumscribed about the disc."""
    x0, y0 = (float(v) for v in projection.project(circle.lon, circle.lat))
    angles = np.arange(segments) * (2 * math.pi / segments)
    reach = circle.radius_m / math.cos(math.pi / segments)
    ring = np.column_stack([x0 + reach * np.cos(angles), y0 + reach * np.sin(angles)])
    metric = shapely.Polygon(np.vstack([ring, ring[:1]]))
    return metric, projection.to_lonlat(metric)


# -- regions ---------------------------------------------------------------------


def _parse_regions(spec: Any, catalogue: RegionCatalogue, problems: list[Problem]) -> tuple[str, ...] | None:
    path = "area.regions"
    if not _is_array(spec):
        problems.append(Problem(path, "must be a list of region codes"))
        return None
    if not spec:
        problems.append(Problem(path, "must list at least one region"))
        return None
    if len(spec) > MAX_REGIONS:
        problems.append(Problem(path, f"too many regions: {len(spec)} (at most {MAX_REGIONS})"))
        return None
    before = len(problems)
    first_seen: dict[str, int] = {}
    for index, code in enumerate(spec):
        item = f"{path}[{index}]"
        if not isinstance(code, str):
            problems.append(Problem(item, f"must be a region code string (got {type(code).__name__})"))
        elif code not in catalogue:
            problems.append(Problem(item, f"unknown region code {code!r} (not in the {catalogue.name} catalogue)"))
        elif code in first_seen:
            problems.append(Problem(item, f"duplicate region code {code!r} (already at {path}[{first_seen[code]}])"))
        else:
            first_seen[code] = index
    if len(problems) > before:
        return None
    return tuple(sorted(spec))


# -- polygon ---------------------------------------------------------------------


def _count_positions(coordinates: Any, depth: int, limit: int) -> int:
    """Positions + containers below ``coordinates``; stops early once above ``limit``."""
    if depth == 0 or not _is_array(coordinates):
        return 1
    total = 0
    for child in coordinates:
        if depth == 1:
            total += 1
        else:
            total += 1 + _count_positions(child, depth - 1, limit - total)
        if total > limit:
            break
    return total


def _parse_ring(ring: Any, path: str, problems: list[Problem]) -> tuple[tuple[float, float], ...] | None:
    if not _is_array(ring):
        problems.append(Problem(path, "must be an array of [lon, lat] positions (a linear ring)"))
        return None
    before = len(problems)
    positions: list[tuple[float, float] | None] = []
    for index, position in enumerate(ring):
        where = f"{path}[{index}]"
        if not _is_array(position) or len(position) not in (2, 3):
            problems.append(Problem(where, "position must be [lon, lat] (an array of 2 or 3 numbers)"))
            positions.append(None)
            continue
        lon = _lon(position[0], where, problems)
        lat = _lat(position[1], where, problems)
        if len(position) == 3:
            _number(position[2], where, problems, "altitude")
        positions.append(None if lon is None or lat is None else (lon, lat))
    if len(ring) < 4:
        problems.append(Problem(path, f"a linear ring needs at least 4 positions (has {len(ring)})"))
    elif positions[0] is not None and positions[-1] is not None and positions[0] != positions[-1]:
        first, last = positions[0], positions[-1]
        problems.append(
            Problem(
                path,
                "ring is not closed: the first position "
                f"[{_fmt(first[0])}, {_fmt(first[1])}] differs from the last [{_fmt(last[0])}, {_fmt(last[1])}]",
            )
        )
    if len(problems) > before:
        return None
    return tuple(p for p in positions if p is not None)


def _parse_polygon_rings(rings: Any, path: str, problems: list[Problem]) -> tuple[Any, ...] | None:
    if not _is_array(rings):
        problems.append(Problem(path, "must be an array of linear rings (exterior first, then holes)"))
        return None
    if not rings:
        problems.append(Problem(path, "a polygon needs at least its exterior ring"))
        return None
    parsed = [_parse_ring(ring, f"{path}[{i}]", problems) for i, ring in enumerate(rings)]
    if any(r is None for r in parsed):
        return None
    return tuple(parsed)


def _check_polygon_part(rings: tuple[Any, ...], path: str, problems: list[Problem]) -> shapely.Polygon | None:
    """Build one polygon, reporting self-intersecting rings at the ring's path."""
    ok = True
    for index, ring in enumerate(rings):
        linear = shapely.LinearRing(ring)
        if not linear.is_valid or not linear.is_simple:
            reason = describe_invalidity(shapely.Polygon(ring))
            if reason == "Valid Geometry":  # pragma: no cover - defensive, GEOS flags these as invalid
                reason = "ring crosses or touches itself"
            problems.append(Problem(f"{path}[{index}]", reason))
            ok = False
    if not ok:
        return None
    polygon = shapely.Polygon(rings[0], rings[1:])
    if not polygon.is_valid:
        problems.append(Problem(path, describe_invalidity(polygon)))
        return None
    return polygon


def _parse_polygon(spec: Any, problems: list[Problem]) -> tuple[str, Coordinates, BaseGeometry] | None:
    path = "area.polygon"
    if not isinstance(spec, Mapping):
        problems.append(Problem(path, "must be a GeoJSON Polygon or MultiPolygon object"))
        return None
    _unknown_keys(spec, ("type", "coordinates", "bbox"), path, problems)
    kind = spec.get("type")
    if "type" not in spec:
        problems.append(Problem(f"{path}.type", "is required ('Polygon' or 'MultiPolygon')"))
    elif kind not in ("Polygon", "MultiPolygon"):
        problems.append(Problem(f"{path}.type", f"must be 'Polygon' or 'MultiPolygon' (got {kind!r})"))
    cpath = f"{path}.coordinates"
    if "coordinates" not in spec:
        problems.append(Problem(cpath, "is required"))
        return None
    coordinates = spec["coordinates"]
    if not _is_array(coordinates):
        problems.append(Problem(cpath, "must be an array"))
        return None
    if kind not in ("Polygon", "MultiPolygon"):
        return None
    depth = 3 if kind == "Polygon" else 4
    if _count_positions(coordinates, depth - 1, MAX_POLYGON_POSITIONS) > MAX_POLYGON_POSITIONS:
        problems.append(Problem(cpath, f"polygon is too large: more than {MAX_POLYGON_POSITIONS} positions"))
        return None
    if kind == "Polygon":
        rings = _parse_polygon_rings(coordinates, cpath, problems)
        if rings is None:
            return None
        polygon = _check_polygon_part(rings, cpath, problems)
        return None if polygon is None else ("Polygon", rings, polygon)
    if not coordinates:
        problems.append(Problem(cpath, "a MultiPolygon needs at least one polygon"))
        return None
    parts = [_parse_polygon_rings(p, f"{cpath}[{i}]", problems) for i, p in enumerate(coordinates)]
    if any(p is None for p in parts):
        return None
    polygons = [_check_polygon_part(p, f"{cpath}[{i}]", problems) for i, p in enumerate(parts) if p is not None]
    if any(p is None for p in polygons):
        return None
    multi = shapely.MultiPolygon(polygons)
    if not multi.is_valid:
        problems.append(Problem(cpath, describe_invalidity(multi)))
        return None
    return "MultiPolygon", tuple(parts), multi


# -- entry point -------------------------------------------------------------------


def _outside(catalogue: RegionCatalogue) -> Problem:
    return Problem("area", f"area lies outside the region catalogue ({catalogue.name})")


def _metric(geometry: BaseGeometry, catalogue: RegionCatalogue) -> BaseGeometry:
    min_lon, min_lat, max_lon, max_lat = catalogue.bounds
    window = shapely.box(
        max(min_lon - CLIP_MARGIN_DEG, -180.0),
        max(min_lat - CLIP_MARGIN_DEG, -90.0),
        min(max_lon + CLIP_MARGIN_DEG, 180.0),
        min(max_lat + CLIP_MARGIN_DEG, 90.0),
    )
    if not window.contains(geometry):
        geometry = shapely.intersection(geometry, window)
    metric = catalogue.projection.to_metric(geometry)
    if not metric.is_valid:
        metric = shapely.make_valid(metric)
    return metric


def parse_area(data: Mapping[str, Any], catalogue: RegionCatalogue) -> Area:
    """Validate API JSON into an :class:`Area` or raise :class:`~geo.AreaError` listing every problem."""
    if not isinstance(data, Mapping):
        raise AreaError([Problem("area", "must be an object with exactly one of: circle, regions, polygon")])
    problems: list[Problem] = []
    present = [k for k in KINDS if k in data]
    _unknown_keys(data, KINDS, "area", problems)
    if len(present) != 1:
        got = ", ".join(present) if present else "none"
        problems.append(Problem("area", f"must have exactly one of: circle, regions, polygon (got {got})"))
    circle = _parse_circle(data["circle"], problems) if "circle" in data else None
    regions = _parse_regions(data["regions"], catalogue, problems) if "regions" in data else None
    polygon = _parse_polygon(data["polygon"], problems) if "polygon" in data else None
    if problems:
        raise AreaError(problems)

    projection = catalogue.projection
    geometry: BaseGeometry
    if circle is not None:
        if not catalogue.regions_within(circle.lat, circle.lon, circle.radius_km):
            raise AreaError([_outside(catalogue)])
        metric, geometry = circle_polygon(circle, projection)
        area = Area(kind="circle", circle=circle, geometry=geometry, metric_geometry=metric, projection=projection)
    elif regions is not None:
        geometry = shapely.union_all([catalogue[c].geometry for c in regions])
        area = Area(
            kind="regions",
            regions=regions,
            geometry=geometry,
            metric_geometry=_metric(geometry, catalogue),
            projection=projection,
        )
    else:
        assert polygon is not None
        kind, coordinates, geometry = polygon
        if not catalogue.extent.intersects(geometry):
            raise AreaError([_outside(catalogue)])
        area = Area(
            kind="polygon",
            polygon_type=kind,
            polygon_coordinates=coordinates,
            geometry=geometry,
            metric_geometry=_metric(geometry, catalogue),
            projection=projection,
        )
    shapely.prepare(area.geometry)
    shapely.prepare(area.metric_geometry)
    return area
