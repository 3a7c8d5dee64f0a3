"""Region catalogues: named administrative areas loaded from GeoJSON.

File format (a GeoJSON FeatureCollection)::

    {"type": "FeatureCollection",
     "properties": {"name": "Serbia", ...},          # optional; name used in messages
     "features": [
       {"type": "Feature",
        "properties": {"code": "RS-00",              # required, unique, non-empty
                       "name": "Grad Beograd",       # required, non-empty
                       "names": {"sr-Latn": "Grad Beograd",   # optional: BCP 47 tag -> name
                                 "sr-Cyrl": "Град Београд"}},
        "geometry": {"type": "MultiPolygon", ...}}   # Polygon or MultiPolygon, valid
     ]}

Localised names use one ``names`` object keyed by BCP 47 language tags rather
than one property per language, so adding a language needs no code change.

:func:`default_catalogue` is Serbia's 29 districts plus the City of Belgrade
(ISO 3166-2:RS codes RS-00 … RS-29), built by ``scripts/build_regions.py``.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import IO, Any

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from .errors import CatalogueError, Problem
from .projection import TransverseMercator

__all__ = ["DEFAULT_CATALOGUE_RESOURCE", "Region", "RegionCatalogue", "default_catalogue", "load_catalogue"]

DEFAULT_CATALOGUE_RESOURCE = "data/serbia-districts.geojson"
"""Path of the default catalogue inside the ``geo`` package."""


@dataclass(frozen=True)
class Region:
    """One region: ISO-style ``code``, display ``name``, localised ``names`` and lon/lat ``geometry``."""

    code: str
    name: str
    names: Mapping[str, str]
    geometry: shapely.Polygon | shapely.MultiPolygon = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))

    def __hash__(self) -> int:
        return hash((self.code, self.name))


@dataclass(frozen=True, eq=False)
class RegionCatalogue:
    """An immutable set of regions with spatial indexes, built by :meth:`from_regions`.

    ``extent`` is the union of all regions (lon/lat), ``bounds`` its bounding
    box and ``projection`` the metric plane used for distances (centred on
    ``bounds``; see :mod:`geo.projection`).
    """

    name: str
    regions: Mapping[str, Region]
    extent: BaseGeometry = field(repr=False)
    bounds: tuple[float, float, float, float]
    projection: TransverseMercator
    metadata: Mapping[str, Any] = field(repr=False)
    _codes: tuple[str, ...] = field(repr=False)
    _index: Mapping[str, int] = field(repr=False)
    _geometries: np.ndarray = field(repr=False)
    _metric_geometries: np.ndarray = field(repr=False)
    _tree: shapely.STRtree = field(repr=False)
    _metric_tree: shapely.STRtree = field(repr=False)

    @classmethod
    def from_regions(
        cls, regions: Iterable[Region], *, name: str, metadata: Mapping[str, Any] | None = None
    ) -> RegionCatalogue:
        """Index ``regions`` (sorted by code); codes must be unique and geometries valid."""
        items = sorted(regions, key=lambda r: r.code)
        if not items:
            raise CatalogueError([Problem("features", "a catalogue needs at least one region")])
        problems = []
        seen: set[str] = set()
        for region in items:
            if region.code in seen:
                problems.append(Problem(f"regions[{region.code!r}]", "duplicate region code"))
            seen.add(region.code)
            if region.geometry.geom_type not in ("Polygon", "MultiPolygon") or region.geometry.is_empty:
                problems.append(Problem(f"regions[{region.code!r}]", "geometry must be a non-empty (Multi)Polygon"))
            elif not region.geometry.is_valid:
                problems.append(
                    Problem(
                        f"regions[{region.code!r}]", f"invalid geometry: {shapely.is_valid_reason(region.geometry)}"
                    )
                )
        if problems:
            raise CatalogueError(problems)
        geometries = np.array([r.geometry for r in items], dtype=object)
        extent = shapely.union_all(geometries)
        min_x, min_y, max_x, max_y = (float(v) for v in shapely.total_bounds(geometries))
        bounds = (min_x, min_y, max_x, max_y)
        projection = TransverseMercator.for_bounds(bounds)
        metric = np.array([projection.to_metric(g) for g in geometries], dtype=object)
        metric = np.where(shapely.is_valid(metric), metric, shapely.make_valid(metric))
        shapely.prepare(geometries)
        shapely.prepare(metric)
        shapely.prepare(extent)
        geometries.flags.writeable = False
        metric.flags.writeable = False
        return cls(
            name=name,
            regions=MappingProxyType({r.code: r for r in items}),
            extent=extent,
            bounds=bounds,
            projection=projection,
            metadata=MappingProxyType(dict(metadata or {})),
            _codes=tuple(r.code for r in items),
            _index=MappingProxyType({r.code: i for i, r in enumerate(items)}),
            _geometries=geometries,
            _metric_geometries=metric,
            _tree=shapely.STRtree(geometries),
            _metric_tree=shapely.STRtree(metric),
        )

    # -- mapping-like access -------------------------------------------------
    def codes(self) -> tuple[str, ...]:
        """All region codes, sorted."""
        return self._codes

    def get(self, code: str) -> Region | None:
        """The region with ``code``, or None."""
        return self.regions.get(code)

    def __getitem__(self, code: str) -> Region:
        return self.regions[code]

    def __contains__(self, code: object) -> bool:
        return code in self.regions

    def __iter__(self) -> Iterator[Region]:
        return iter(self.regions.values())

    def __len__(self) -> int:
        return len(self._codes)

    def index_of(self, code: str) -> int:
        """Position of ``code`` in :meth:`codes` (KeyError if unknown)."""
        return self._index[code]

    # -- spatial queries ---------------------------------------------------------
    def metric_geometry(self, code: str) -> BaseGeometry:
        """The region's geometry in the catalogue's metric plane (prepared)."""
        geometry: BaseGeometry = self._metric_geometries[self.index_of(code)]
        return geometry

    def regions_intersecting(self, geometry: BaseGeometry) -> list[str]:
        """Codes (sorted) of the regions whose lon/lat geometry intersects ``geometry``.

        Closed-set semantics: a geometry that only touches a region's border
        counts as intersecting it.
        """
        hits = self._tree.query(geometry, predicate="intersects")
        return sorted(self._codes[i] for i in hits)

    def regions_within(self, lat: float, lon: float, radius_km: float) -> list[str]:
        """Codes (sorted) of the regions intersecting the disc of ``radius_km`` around (lat, lon).

        Exact in the metric plane (``dwithin`` of the projected centre), no
        polygon approximation of the disc.
        """
        x, y = self.projection.project(lon, lat)
        point = shapely.Point(float(x), float(y))
        hits = self._metric_tree.query(point, predicate="dwithin", distance=radius_km * 1000.0)
        return sorted(self._codes[i] for i in hits)

    # -- export ------------------------------------------------------------------
    def to_geojson(self) -> dict[str, Any]:
        """The catalogue as a GeoJSON FeatureCollection (same format :func:`load_catalogue` reads)."""
        features = [
            {
                "type": "Feature",
                "id": r.code,
                "properties": {"code": r.code, "name": r.name, "names": dict(r.names)},
                "geometry": mapping(r.geometry),
            }
            for r in self
        ]
        return {
            "type": "FeatureCollection",
            "properties": {**self.metadata, "name": self.name},
            "features": features,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegionCatalogue):
            return NotImplemented
        return self.name == other.name and dict(self.regions) == dict(other.regions)

    def __hash__(self) -> int:
        return hash((self.name, self._codes))


def _feature_label(index: int, props: Any) -> str:
    if isinstance(props, Mapping):
        for key in ("code", "name"):
            if isinstance(props.get(key), str) and props.get(key):
                return f"feature {index} ({props[key]!r})"
    return f"feature {index}"


def _parse_feature(index: int, feature: Any, problems: list[Problem]) -> Region | None:
    path = f"features[{index}]"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        problems.append(Problem(path, f"feature {index}: must be a GeoJSON Feature object"))
        return None
    props = feature.get("properties")
    label = _feature_label(index, props)
    if not isinstance(props, Mapping):
        problems.append(Problem(f"{path}.properties", f"{label}: properties must be an object"))
        return None
    before = len(problems)
    code, name, names = props.get("code"), props.get("name"), props.get("names", {})
    for key, value in (("code", code), ("name", name)):
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(f"{path}.properties.{key}", f"{label}: '{key}' must be a non-empty string"))
    if not isinstance(names, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in names.items()
    ):
        problems.append(
            Problem(f"{path}.properties.names", f"{label}: 'names' must map language tags to non-empty strings")
        )
    geometry = None
    raw = feature.get("geometry")
    if not isinstance(raw, Mapping) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        problems.append(Problem(f"{path}.geometry", f"{label}: geometry must be a GeoJSON Polygon or MultiPolygon"))
    else:
        try:
            geometry = shape(dict(raw))
        except (ValueError, TypeError, IndexError, KeyError, AttributeError, ShapelyError) as exc:
            problems.append(Problem(f"{path}.geometry", f"{label}: unreadable coordinates ({exc})"))
        else:
            if geometry.is_empty:
                problems.append(Problem(f"{path}.geometry", f"{label}: geometry is empty"))
            elif not geometry.is_valid:
                reason = shapely.is_valid_reason(geometry)
                problems.append(Problem(f"{path}.geometry", f"{label}: invalid geometry: {reason}"))
    if len(problems) > before or geometry is None:
        return None
    # checked above (a problem otherwise): both are non-empty strings, and the GeoJSON type was a (Multi)Polygon
    assert isinstance(code, str) and isinstance(name, str)
    assert isinstance(geometry, shapely.Polygon | shapely.MultiPolygon)
    return Region(code=code, name=name, names=names, geometry=geometry)


def load_catalogue(source: str | os.PathLike[str] | IO[str] | IO[bytes], *, name: str | None = None) -> RegionCatalogue:
    """Read a catalogue from a GeoJSON file path or an open (text or binary) file.

    ``name`` defaults to the collection's ``properties.name`` (else
    ``"region catalogue"``).  Raises :class:`~geo.CatalogueError` naming the
    offending feature(s) (all problems, not only the first).
    """
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as fh:
                data = json.load(fh)
        else:
            data = json.load(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError([Problem("$", f"not valid JSON: {exc}")]) from exc
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise CatalogueError([Problem("type", "a catalogue must be a GeoJSON FeatureCollection")])
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise CatalogueError([Problem("features", "must be a non-empty array of features")])
    problems: list[Problem] = []
    regions: list[Region] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        region = _parse_feature(index, feature, problems)
        if region is None:
            continue
        if region.code in first_index:
            problems.append(
                Problem(
                    f"features[{index}].properties.code",
                    f"feature {index}: duplicate code {region.code!r} (also features[{first_index[region.code]}])",
                )
            )
            continue
        first_index[region.code] = index
        regions.append(region)
    if problems:
        raise CatalogueError(problems)
    properties = data.get("properties")
    metadata = properties if isinstance(properties, Mapping) else {}
    title = name or (metadata.get("name") if isinstance(metadata.get("name"), str) else None) or "region catalogue"
    return RegionCatalogue.from_regions(regions, name=title, metadata=metadata)


@functools.cache
def default_catalogue() -> RegionCatalogue:
    """Serbia's districts (RS-00 … RS-29), loaded once from the package data.

    Uses :mod:`importlib.resources`, so it works from an installed wheel or
    zip as well as from the source tree.
    """
    resource = importlib.resources.files("geo").joinpath(DEFAULT_CATALOGUE_RESOURCE)
    with resource.open("rb") as fh:
        return load_catalogue(fh)
