"""parse_area: normalisation, geometry, territories and precise validation errors."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
import shapely
from geo_reference import vincenty_m

from geo import CIRCLE_SEGMENTS, MAX_POLYGON_POSITIONS, Area, AreaError, parse_area

BELGRADE = (44.8125, 20.4612)
NOVI_SAD = (45.2671, 19.8335)
NIS = (43.3209, 21.8958)


def square(lon: float, lat: float, d: float = 0.1) -> list[list[float]]:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


# -- valid areas --------------------------------------------------------------------


def test_circle_is_normalised_and_exact(catalogue):
    area = parse_area({"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5}}, catalogue)
    assert area.kind == "circle"
    assert area.to_json() == {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5.0}}
    assert isinstance(area.to_json()["circle"]["radius_km"], float)
    assert (area.circle.lat, area.circle.lon, area.circle.radius_km) == (44.81, 20.46, 5.0)
    assert area.circle.radius_m == 5000.0


def test_regions_are_sorted_and_equal_regardless_of_order(catalogue):
    a = parse_area({"regions": ["RS-06", "RS-00"]}, catalogue)
    b = parse_area({"regions": ["RS-00", "RS-06"]}, catalogue)
    assert a.to_json() == {"regions": ["RS-00", "RS-06"]}
    assert a == b and hash(a) == hash(b)
    assert a.geometry.equals(shapely.union_all([catalogue["RS-00"].geometry, catalogue["RS-06"].geometry]))


def test_polygon_is_normalised(catalogue):
    spec = {
        "type": "Polygon",
        "bbox": [20.0, 44.0, 20.1, 44.1],
        "coordinates": [[[20, 44, 120], [20.1, 44, 0], [20.1, 44.1, 0], [20, 44.1, 0], [20, 44, 120]]],
    }
    area = parse_area({"polygon": spec}, catalogue)
    assert area.to_json() == {"polygon": {"type": "Polygon", "coordinates": [square(20.0, 44.0)]}}
    assert area.geometry.equals(shapely.box(20, 44, 20.1, 44.1))
    assert area.territories(catalogue) == catalogue.regions_intersecting(shapely.box(20, 44, 20.1, 44.1))


def test_multipolygon_with_hole(catalogue):
    outer = [[20.0, 44.0], [21.0, 44.0], [21.0, 45.0], [20.0, 45.0], [20.0, 44.0]]
    hole = [[20.4, 44.4], [20.4, 44.6], [20.6, 44.6], [20.6, 44.4], [20.4, 44.4]]
    spec = {"type": "MultiPolygon", "coordinates": [[outer, hole], [square(22.0, 43.0)]]}
    area = parse_area({"polygon": spec}, catalogue)
    assert area.geometry.geom_type == "MultiPolygon"
    assert area.geometry.area == pytest.approx(1.0 - 0.04 + 0.01)
    assert area.to_json()["polygon"] == spec


def test_area_is_frozen_and_numbers_may_be_numpy_or_fractions(catalogue):
    area = parse_area(
        {"circle": {"lat": np.float64(44.81), "lon": Fraction(2046, 100), "radius_km": np.int64(5)}}, catalogue
    )
    assert area.to_json() == {"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5.0}}
    with pytest.raises(dataclasses.FrozenInstanceError):
        area.kind = "regions"  # type: ignore[misc]


def test_circle_polygon_approximation(catalogue):
    lat, lon, r_km = 44.5, 21.2, 50.0
    area = parse_area({"circle": {"lat": lat, "lon": lon, "radius_km": r_km}}, catalogue)
    ring = np.asarray(area.geometry.exterior.coords)
    assert len(ring) == CIRCLE_SEGMENTS + 1
    assert area.geometry.is_valid and area.metric_geometry.is_valid
    d = vincenty_m(lat, lon, ring[:, 1], ring[:, 0])
    r = r_km * 1000
    # circumscribed: vertices at r / cos(pi/N); allow the projection's 0.03 %
    assert d.min() >= r * (1 - 3e-4)
    assert d.max() <= r / math.cos(math.pi / CIRCLE_SEGMENTS) * (1 + 3e-4)
    # so the polygon contains the whole disc (to within the projection error)
    assert area.metric_geometry.area >= math.pi * r * r


@pytest.mark.parametrize(
    ("point", "code"), [(BELGRADE, "RS-00"), (NOVI_SAD, "RS-06"), (NIS, "RS-20")]
)
def test_small_circle_in_a_city_has_one_territory(catalogue, point, code):
    area = parse_area({"circle": {"lat": point[0], "lon": point[1], "radius_km": 1}}, catalogue)
    assert area.territories(catalogue) == [code]


def test_circle_spanning_a_border_includes_both_districts(catalogue):
    # a point on the shared border of Belgrade (RS-00) and Srem (RS-07)
    border = catalogue["RS-00"].geometry.boundary.intersection(catalogue["RS-07"].geometry.boundary)
    assert not border.is_empty
    p = shapely.line_interpolate_point(shapely.line_merge(border), 0.5, normalized=True)
    area = parse_area({"circle": {"lat": p.y, "lon": p.x, "radius_km": 2}}, catalogue)
    assert {"RS-00", "RS-07"} <= set(area.territories(catalogue))


def test_regions_territories_are_exactly_the_codes(catalogue):
    area = parse_area({"regions": ["RS-07"]}, catalogue)
    # RS-00 shares a border with RS-07 but is not covered by it
    assert area.territories(catalogue) == ["RS-07"]


def test_circle_outside_serbia_reaching_in_is_accepted(catalogue):
    # Szeged, Hungary (46.25 N, 20.15 E) is outside; 30 km reaches Serbia
    with pytest.raises(AreaError):
        parse_area({"circle": {"lat": 46.25, "lon": 20.15, "radius_km": 1}}, catalogue)
    area = parse_area({"circle": {"lat": 46.25, "lon": 20.15, "radius_km": 30}}, catalogue)
    assert area.territories(catalogue)


def test_large_polygon_is_clipped_for_the_metric_plane(catalogue):
    spec = {"type": "Polygon", "coordinates": [[[-10, 30], [60, 30], [60, 60], [-10, 60], [-10, 30]]]}
    area = parse_area({"polygon": spec}, catalogue)
    assert area.territories(catalogue) == list(catalogue.codes())
    x0, y0, x1, y1 = area.metric_geometry.bounds
    assert max(abs(x0), abs(x1), abs(y0), abs(y1)) < 3_000_000


# -- invalid areas ------------------------------------------------------------------

BOWTIE = [[20.0, 44.0], [21.0, 45.0], [21.0, 44.0], [20.0, 45.0], [20.0, 44.0]]
OUTSIDE = square(2.35, 48.85)  # Paris


INVALID = [
    # shape of the object
    ("not-a-mapping", [1, 2], "area", "exactly one of"),
    ("empty", {}, "area", "exactly one of: circle, regions, polygon (got none)"),
    ("two kinds", {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": 1}, "regions": ["RS-00"]}, "area",
     "(got circle, regions)"),
    ("unknown key", {"regions": ["RS-00"], "square": 1}, "area.square", "unknown key"),
    # circle
    ("circle not object", {"circle": [44.8, 20.4, 5]}, "area.circle", "must be an object"),
    ("circle missing lat", {"circle": {"lon": 20.4, "radius_km": 5}}, "area.circle.lat", "is required"),
    ("circle unknown key", {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": 5, "r": 1}}, "area.circle.r",
     "unknown key"),
    ("lat too big", {"circle": {"lat": 90.5, "lon": 20.4, "radius_km": 5}}, "area.circle.lat",
     "out of range [-90, 90]"),
    ("lat too small", {"circle": {"lat": -91, "lon": 20.4, "radius_km": 5}}, "area.circle.lat", "out of range"),
    ("lon too big", {"circle": {"lat": 44.8, "lon": 180.01, "radius_km": 5}}, "area.circle.lon",
     "out of range [-180, 180]"),
    ("lat NaN", {"circle": {"lat": float("nan"), "lon": 20.4, "radius_km": 5}}, "area.circle.lat",
     "must be a finite number"),
    ("lon inf", {"circle": {"lat": 44.8, "lon": float("inf"), "radius_km": 5}}, "area.circle.lon", "finite"),
    ("huge int", {"circle": {"lat": 44.8, "lon": 10**400, "radius_km": 5}}, "area.circle.lon", "finite"),
    ("lat bool", {"circle": {"lat": True, "lon": 20.4, "radius_km": 5}}, "area.circle.lat", "not a boolean"),
    ("lat string", {"circle": {"lat": "44.8", "lon": 20.4, "radius_km": 5}}, "area.circle.lat", "not a string"),
    ("lat None", {"circle": {"lat": None, "lon": 20.4, "radius_km": 5}}, "area.circle.lat",
     "must be a number (got NoneType)"),
    ("radius zero", {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": 0}}, "area.circle.radius_km",
     "must be > 0 and <= 500"),
    ("radius negative", {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": -1}}, "area.circle.radius_km", "> 0"),
    ("radius too big", {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": 500.001}}, "area.circle.radius_km",
     "<= 500"),
    ("radius nan", {"circle": {"lat": 44.8, "lon": 20.4, "radius_km": float("nan")}}, "area.circle.radius_km",
     "finite"),
    ("circle outside", {"circle": {"lat": 48.85, "lon": 2.35, "radius_km": 100}}, "area",
     "area lies outside the region catalogue (Serbia)"),
    # regions
    ("regions not list", {"regions": "RS-00"}, "area.regions", "must be a list of region codes"),
    ("regions empty", {"regions": []}, "area.regions", "at least one region"),
    ("regions unknown", {"regions": ["RS-00", "RS-99"]}, "area.regions[1]", "unknown region code 'RS-99'"),
    ("regions lower-case", {"regions": ["rs-00"]}, "area.regions[0]", "unknown region code 'rs-00'"),
    ("regions duplicate", {"regions": ["RS-00", "RS-06", "RS-00"]}, "area.regions[2]",
     "duplicate region code 'RS-00' (already at area.regions[0])"),
    ("regions non-string", {"regions": [6]}, "area.regions[0]", "must be a region code string"),
    ("regions too many", {"regions": ["RS-00"] * 1001}, "area.regions", "too many regions"),
    # polygon
    ("polygon not object", {"polygon": [[20, 44]]}, "area.polygon", "GeoJSON Polygon or MultiPolygon"),
    ("polygon wrong type", {"polygon": {"type": "Point", "coordinates": [20, 44]}}, "area.polygon.type",
     "must be 'Polygon' or 'MultiPolygon' (got 'Point')"),
    ("polygon no type", {"polygon": {"coordinates": [square(20, 44)]}}, "area.polygon.type", "is required"),
    ("polygon no coordinates", {"polygon": {"type": "Polygon"}}, "area.polygon.coordinates", "is required"),
    ("polygon coordinates not array", {"polygon": {"type": "Polygon", "coordinates": "x"}},
     "area.polygon.coordinates", "must be an array"),
    ("polygon no rings", {"polygon": {"type": "Polygon", "coordinates": []}}, "area.polygon.coordinates",
     "needs at least its exterior ring"),
    ("ring too short", {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], [21, 44], [20, 44]]]}},
     "area.polygon.coordinates[0]", "at least 4 positions (has 3)"),
    ("ring not closed",
     {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], [21, 44], [21, 45], [20, 45]]]}},
     "area.polygon.coordinates[0]", "ring is not closed: the first position [20.0, 44.0] differs from the last"),
    ("position not pair",
     {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], [21], [21, 45], [20, 44]]]}},
     "area.polygon.coordinates[0][1]", "position must be [lon, lat]"),
    ("position out of range",
     {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], [200, 44], [21, 45], [20, 44]]]}},
     "area.polygon.coordinates[0][1]", "longitude 200.0 is out of range [-180, 180]"),
    ("position lat out of range",
     {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], [21, 95], [21, 45], [20, 44]]]}},
     "area.polygon.coordinates[0][1]", "latitude 95.0 is out of range [-90, 90]"),
    ("position nan",
     {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], [21, float("nan")], [21, 45], [20, 44]]]}},
     "area.polygon.coordinates[0][1]", "latitude must be a finite number"),
    ("position string",
     {"polygon": {"type": "Polygon", "coordinates": [[[20, 44], ["21", 44], [21, 45], [20, 44]]]}},
     "area.polygon.coordinates[0][1]", "longitude must be a number, not a string"),
    ("self-intersection", {"polygon": {"type": "Polygon", "coordinates": [BOWTIE]}},
     "area.polygon.coordinates[0]", "Self-intersection at lon 20.5, lat 44.5"),
    ("self-intersecting hole",
     {"polygon": {"type": "Polygon", "coordinates": [square(19.5, 43.5, 2.0), BOWTIE]}},
     "area.polygon.coordinates[1]", "Self-intersection at lon 20.5, lat 44.5"),
    ("hole outside shell",
     {"polygon": {"type": "Polygon", "coordinates": [square(20, 44, 0.5), square(21, 44, 0.1)]}},
     "area.polygon.coordinates", "Hole lies outside shell at lon 21.0, lat 44.0"),
    ("multipolygon bad part",
     {"polygon": {"type": "MultiPolygon", "coordinates": [[square(20, 44)], [BOWTIE]]}},
     "area.polygon.coordinates[1][0]", "Self-intersection at lon 20.5, lat 44.5"),
    ("multipolygon overlapping parts",
     {"polygon": {"type": "MultiPolygon", "coordinates": [[square(20, 44, 0.5)], [square(20.2, 44.2, 0.5)]]}},
     "area.polygon.coordinates", "Self-intersection at lon"),
    ("multipolygon empty", {"polygon": {"type": "MultiPolygon", "coordinates": []}}, "area.polygon.coordinates",
     "at least one polygon"),
    ("polygon outside", {"polygon": {"type": "Polygon", "coordinates": [OUTSIDE]}}, "area",
     "area lies outside the region catalogue (Serbia)"),
    ("polygon too large",
     {"polygon": {"type": "Polygon", "coordinates": [[[20 + i * 1e-5, 44] for i in range(MAX_POLYGON_POSITIONS)]
                                                     + [[20.5, 44.5], [20, 44]]]}},
     "area.polygon.coordinates", f"more than {MAX_POLYGON_POSITIONS} positions"),
    ("multipolygon too many parts",
     {"polygon": {"type": "MultiPolygon", "coordinates": [[]] * 1_000_000}},
     "area.polygon.coordinates", "too large"),
]


@pytest.mark.parametrize(("data", "field", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_area(catalogue, data, field, fragment):
    with pytest.raises(AreaError) as info:
        parse_area(data, catalogue)
    err = info.value
    assert isinstance(err, ValueError)
    matching = [p for p in err.problems if p.field == field]
    assert matching, f"no problem for {field!r}: {err.problems}"
    assert any(fragment in p.message for p in matching), err.problems


def test_all_problems_are_collected(catalogue):
    with pytest.raises(AreaError) as info:
        parse_area({"circle": {"lat": 95, "lon": "x", "radius_km": 0, "extra": 1}, "other": 2}, catalogue)
    assert set(info.value.fields) == {
        "area.other",
        "area.circle.extra",
        "area.circle.lat",
        "area.circle.lon",
        "area.circle.radius_km",
    }
    assert "area.circle.lat: latitude" not in str(info.value)  # message names the key as given
    assert "area.circle.lat: lat 95.0 is out of range" in str(info.value)


def test_all_polygon_problems_are_collected(catalogue):
    rings = [
        [[20, 44], [21, 44], [21, 45], [20, 45]],  # not closed
        [[20, 44], [300, 44], [21, 45], [20, -100], [20, 44]],  # two bad positions
        [[20, 44], [20, 44]],  # too short
    ]
    with pytest.raises(AreaError) as info:
        parse_area({"polygon": {"type": "Polygon", "coordinates": rings}}, catalogue)
    assert info.value.fields == (
        "area.polygon.coordinates[0]",
        "area.polygon.coordinates[1][1]",
        "area.polygon.coordinates[1][3]",
        "area.polygon.coordinates[2]",
    )


def test_area_error_caps_the_number_of_problems(catalogue):
    ring = [[20, 44]] + [["x", "y"]] * 500 + [[20, 44]]
    with pytest.raises(AreaError) as info:
        parse_area({"polygon": {"type": "Polygon", "coordinates": [ring]}}, catalogue)
    assert len(info.value.problems) == 101
    assert "more problem(s)" in info.value.problems[-1].message


def test_area_constructor_needs_geometry():
    with pytest.raises(TypeError):
        Area(kind="regions", regions=("RS-00",))  # type: ignore[call-arg]
