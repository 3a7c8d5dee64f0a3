"""Vectorised matching of many subscription areas against one alert area (the hot path).

A subscription matches when its area *intersects* the alert's area
(closed-set: touching counts; a circle is a disc on the ground):

========================  ===========================================================
subscription \\ alert      rule
========================  ===========================================================
circle vs circle          centre distance ``<= r_sub + r_alert`` in the metric plane
circle vs polygon/regions ``shapely.dwithin(alert_metric_geometry, centre, r_sub)``
region vs any alert       the region's code is in ``alert.territories(catalogue)``
========================  ===========================================================

so a region subscription matches a circle alert when the disc reaches the
region, a polygon alert when the polygon intersects the region (border
contact included), and a regions alert when it names the same region
(neighbouring districts only share a border; they are not matched).

Circle subscriptions are stored as numpy columns, with their centres
projected once at build time; a match is a numpy bounding-box prefilter, one
``shapely.contains_xy`` on the candidates (centres inside the area match
outright, no Point objects needed) and one ``shapely.dwithin`` call on the
remaining points with the *prepared* alert geometry as the first argument:
no Python loop per subscriber.
Region subscriptions are a boolean ``(n, len(catalogue))`` membership matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from .areas import MAX_RADIUS_KM, Area
from .errors import AreaError, Problem
from .regions import RegionCatalogue

__all__ = ["SubscriptionAreas", "match_areas", "subscriptions_matching"]

_PREFILTER_PAD_M = 1e-3
"""The bbox prefilter is widened by 1 mm so that float rounding in ``x ± r``
can never drop a subscription that ``dwithin`` would accept at a tie."""

_MAX_LISTED = 20  # offending rows listed per column before summarising


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def _ids(circle_ids: ArrayLike, region_ids: ArrayLike) -> NDArray[Any]:
    a, b = np.asarray(circle_ids), np.asarray(region_ids)
    if a.ndim != 1 or b.ndim != 1:
        raise AreaError([Problem("subscriptions.ids", "ids must be one-dimensional")])
    if a.size == 0:
        return b.copy()
    if b.size == 0:
        return a.copy()
    if a.dtype.kind == b.dtype.kind and a.dtype.kind in "iuU":
        return np.concatenate([a, b])
    return np.fromiter(itertools.chain(a.tolist(), b.tolist()), dtype=object, count=a.size + b.size)


def _rows(mask: NDArray[np.bool_]) -> str:
    bad = np.flatnonzero(mask)
    listed = ", ".join(str(i) for i in bad[:_MAX_LISTED])
    more = f" and {bad.size - _MAX_LISTED} more" if bad.size > _MAX_LISTED else ""
    return f"rows {listed}{more}"


def _column(
    values: ArrayLike, name: str, low: float, high: float, problems: list[Problem], *, low_open: bool = False
) -> NDArray[np.float64]:
    raw = np.asarray(values)
    path = f"subscriptions.circles.{name}"
    if raw.ndim != 1:
        problems.append(Problem(path, "must be a one-dimensional array"))
        return np.zeros(0)
    if raw.size and raw.dtype.kind not in "iuf":
        problems.append(Problem(path, f"must be numbers (got dtype {raw.dtype})"))
        return np.zeros(raw.size)
    column = raw.astype(np.float64)
    with np.errstate(invalid="ignore"):
        too_low = column <= low if low_open else column < low
        bad = ~np.isfinite(column) | too_low | (column > high)
    if bad.any():
        bracket = "(" if low_open else "["
        problems.append(Problem(path, f"must be finite and in {bracket}{low:g}, {high:g}]: {_rows(bad)}"))
    return column


@dataclass(frozen=True, eq=False)
class SubscriptionAreas:
    """A columnar, read-only set of subscription areas, built once and matched many times.

    Rows are the circle subscriptions (in the order given) followed by the
    region subscriptions; ``ids[i]`` identifies row ``i`` and every result of
    :func:`match_areas` is aligned with ``ids``.  Arrays are read-only.

    * ``lat``, ``lon``, ``radius_km``: the circles, shape ``(n_circles,)``;
    * ``x``, ``y``, ``radius_m``: the same in the catalogue's metric plane;
    * ``region_members``: bool ``(n_region_subscriptions, len(catalogue))``,
      column ``j`` is ``catalogue.codes()[j]``.
    """

    catalogue: RegionCatalogue = field(repr=False)
    ids: NDArray[Any]
    lat: NDArray[np.float64] = field(repr=False)
    lon: NDArray[np.float64] = field(repr=False)
    radius_km: NDArray[np.float64] = field(repr=False)
    x: NDArray[np.float64] = field(repr=False)
    y: NDArray[np.float64] = field(repr=False)
    radius_m: NDArray[np.float64] = field(repr=False)
    region_members: NDArray[np.bool_] = field(repr=False)
    _reach: NDArray[np.float64] = field(repr=False)  # (4, n): x-r, x+r, y-r, y+r (padded)

    @classmethod
    def build(
        cls,
        catalogue: RegionCatalogue,
        *,
        circle_ids: ArrayLike = (),
        lat: ArrayLike = (),
        lon: ArrayLike = (),
        radius_km: ArrayLike = (),
        region_ids: ArrayLike = (),
        region_codes: Sequence[Sequence[str]] = (),
    ) -> SubscriptionAreas:
        """Validate and index the columns; raises :class:`~geo.AreaError` listing bad rows.

        ``circle_ids``/``lat``/``lon``/``radius_km`` are parallel arrays;
        ``region_ids[i]`` subscribes to the region codes ``region_codes[i]``
        (a non-empty list of known codes).
        """
        problems: list[Problem] = []
        lat_c = _column(lat, "lat", -90.0, 90.0, problems)
        lon_c = _column(lon, "lon", -180.0, 180.0, problems)
        rad_c = _column(radius_km, "radius_km", 0.0, MAX_RADIUS_KM, problems, low_open=True)
        n_circ_ids = np.asarray(circle_ids).shape[0] if np.ndim(circle_ids) else -1
        if len({n_circ_ids, lat_c.size, lon_c.size, rad_c.size}) != 1:
            problems.append(
                Problem(
                    "subscriptions.circles",
                    "circle_ids, lat, lon and radius_km must have the same length "
                    f"(got {n_circ_ids}, {lat_c.size}, {lon_c.size}, {rad_c.size})",
                )
            )
        n_region_ids = np.asarray(region_ids).shape[0] if np.ndim(region_ids) else -1
        if n_region_ids != len(region_codes):
            problems.append(
                Problem(
                    "subscriptions.regions",
                    f"region_ids and region_codes must have the same length (got {n_region_ids}, {len(region_codes)})",
                )
            )
        members = np.zeros((len(region_codes), len(catalogue)), dtype=bool)
        for row, codes in enumerate(region_codes):
            path = f"subscriptions.regions[{row}]"
            if isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
                problems.append(Problem(path, "must be a list of region codes"))
                continue
            codes = list(codes)
            if not codes:
                problems.append(Problem(path, "must list at least one region"))
            for code in codes:
                if isinstance(code, str) and code in catalogue:
                    members[row, catalogue.index_of(code)] = True
                else:
                    problems.append(Problem(path, f"unknown region code {code!r}"))
        if problems:
            raise AreaError(problems)

        x, y = catalogue.projection.project(lon_c, lat_c)
        radius_m = rad_c * 1000.0
        pad = radius_m + _PREFILTER_PAD_M
        reach = np.stack([x - pad, x + pad, y - pad, y + pad])
        return cls(
            catalogue=catalogue,
            ids=_readonly(_ids(circle_ids, region_ids)),
            lat=_readonly(lat_c),
            lon=_readonly(lon_c),
            radius_km=_readonly(rad_c),
            x=_readonly(np.ascontiguousarray(x)),
            y=_readonly(np.ascontiguousarray(y)),
            radius_m=_readonly(radius_m),
            region_members=_readonly(members),
            _reach=_readonly(reach),
        )

    @classmethod
    def from_areas(cls, catalogue: RegionCatalogue, items: Iterable[tuple[Any, Area]]) -> SubscriptionAreas:
        """Build from ``(id, Area)`` pairs (circle or regions areas; polygons are not supported)."""
        circles: list[tuple[Any, float, float, float]] = []
        regions: list[tuple[Any, tuple[str, ...]]] = []
        problems: list[Problem] = []
        for index, (sub_id, area) in enumerate(items):
            if area.kind == "circle" and area.circle is not None:
                circles.append((sub_id, area.circle.lat, area.circle.lon, area.circle.radius_km))
            elif area.kind == "regions":
                regions.append((sub_id, area.regions))
            else:
                problems.append(Problem(f"subscriptions[{index}]", f"{area.kind} subscriptions are not supported"))
        if problems:
            raise AreaError(problems)
        ids_c = np.fromiter((c[0] for c in circles), dtype=object, count=len(circles))
        ids_r = np.fromiter((r[0] for r in regions), dtype=object, count=len(regions))
        return cls.build(
            catalogue,
            circle_ids=ids_c,
            lat=[c[1] for c in circles],
            lon=[c[2] for c in circles],
            radius_km=[c[3] for c in circles],
            region_ids=ids_r,
            region_codes=[r[1] for r in regions],
        )

    @property
    def n_circles(self) -> int:
        """Number of circle subscriptions (the first rows)."""
        return int(self.x.size)

    @property
    def n_region_subscriptions(self) -> int:
        """Number of region subscriptions (the last rows)."""
        return int(self.region_members.shape[0])

    def __len__(self) -> int:
        return self.n_circles + self.n_region_subscriptions


def _match_circles(alert: Area, subs: SubscriptionAreas) -> NDArray[np.bool_]:
    if alert.kind == "circle":
        assert alert.circle is not None
        ax, ay = (float(v) for v in subs.catalogue.projection.project(alert.circle.lon, alert.circle.lat))
        dx = subs.x - ax
        dy = subs.y - ay
        return np.sqrt(dx * dx + dy * dy) <= subs.radius_m + alert.circle.radius_m
    geometry = alert.metric_geometry
    min_x, min_y, max_x, max_y = geometry.bounds
    lo_x, hi_x, lo_y, hi_y = subs._reach
    candidates = np.flatnonzero((hi_x >= min_x) & (lo_x <= max_x) & (hi_y >= min_y) & (lo_y <= max_y))
    hits = np.zeros(subs.n_circles, dtype=bool)
    if candidates.size:
        # centres inside the area match whatever their radius; contains_xy needs no Point objects
        inside = shapely.contains_xy(geometry, subs.x[candidates], subs.y[candidates])
        hits[candidates[inside]] = True
        rest = candidates[~inside]
        if rest.size:
            points = shapely.points(subs.x[rest], subs.y[rest])
            # types-shapely types `distance` as one float; the ufunc takes an array of them (one per point)
            hits[rest] = shapely.dwithin(geometry, points, subs.radius_m[rest])  # type: ignore[call-overload]
    return hits


def _match_region_subscriptions(alert: Area, subs: SubscriptionAreas) -> NDArray[np.bool_]:
    catalogue = subs.catalogue
    try:
        columns = [catalogue.index_of(code) for code in alert.territories(catalogue)]
    except KeyError as exc:
        raise ValueError(f"alert area names region {exc} unknown to the subscriptions' catalogue") from None
    if not columns:
        return np.zeros(subs.n_region_subscriptions, dtype=bool)
    return np.asarray(subs.region_members[:, columns].any(axis=1))


def match_areas(alert_area: Area, subs: SubscriptionAreas) -> NDArray[np.bool_]:
    """Boolean mask, aligned with ``subs.ids``, of the subscriptions whose area intersects ``alert_area``.

    ``alert_area`` must have been parsed with the same catalogue (projection)
    as ``subs`` (ValueError otherwise).
    """
    if alert_area.projection != subs.catalogue.projection:
        raise ValueError("alert area and subscriptions were built with different region catalogues")
    result = np.zeros(len(subs), dtype=bool)
    if subs.n_circles:
        result[: subs.n_circles] = _match_circles(alert_area, subs)
    if subs.n_region_subscriptions:
        result[subs.n_circles :] = _match_region_subscriptions(alert_area, subs)
    return result


def subscriptions_matching(alert_area: Area, subs: SubscriptionAreas) -> NDArray[Any]:
    """The ``ids`` of the subscriptions matching ``alert_area``, in row order."""
    return subs.ids[match_areas(alert_area, subs)]
