"""match_areas / SubscriptionAreas against a plain per-subscriber reference loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geo_reference import grid_catalogue, reference_match
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo import AreaError, SubscriptionAreas, match_areas, parse_area, subscriptions_matching

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def build(catalogue, subs, ids=None):
    """SubscriptionAreas from the reference's tuple format (circles first, then regions)."""
    circles = [s for s in subs if s[0] == "circle"]
    regions = [s for s in subs if s[0] == "regions"]
    ids = list(range(len(subs))) if ids is None else ids
    ordered_ids = [i for i, s in zip(ids, subs, strict=True) if s[0] == "circle"] + [i for i, s in zip(ids, subs, strict=True) if s[0] == "regions"]
    built = SubscriptionAreas.build(
        catalogue,
        circle_ids=np.asarray(ordered_ids[: len(circles)], dtype=np.int64),
        lat=[s[1] for s in circles],
        lon=[s[2] for s in circles],
        radius_km=[s[3] for s in circles],
        region_ids=np.asarray(ordered_ids[len(circles):], dtype=np.int64),
        region_codes=[s[1] for s in regions],
    )
    return built, circles + regions


def assert_matches_reference(alert, subs, catalogue):
    built, ordered = build(catalogue, subs)
    got = match_areas(alert, built)
    expected = reference_match(alert, ordered, catalogue)
    assert got.dtype == bool and got.shape == (len(ordered),)
    for i, (hit, (want, tie)) in enumerate(zip(got, expected, strict=True)):
        if not tie:
            assert bool(hit) == want, f"row {i}: {ordered[i]} got {hit}, reference {want}"
    return got, expected


def metric_point_at(catalogue, x, y):
    lon, lat = catalogue.projection.unproject(x, y)
    return float(lat), float(lon)


# -- deterministic examples ------------------------------------------------------------------


def test_district_alert_matches_circles_inside_near_and_not_far(catalogue):
    alert = parse_area({"regions": ["RS-06"]}, catalogue)
    subs = [
        ("circle", 45.2671, 19.8335, 1.0),  # Novi Sad, inside
        ("circle", 44.8125, 20.4612, 1.0),  # Belgrade, outside
        ("circle", 44.8125, 20.4612, 60.0),  # Belgrade, reaches RS-06
        ("circle", 43.3209, 21.8958, 5.0),  # Niš, far
    ]
    got, _ = assert_matches_reference(alert, subs, catalogue)
    assert got.tolist() == [True, False, True, False]


def test_circle_alert_vs_circle_subscriptions_is_exact(catalogue):
    proj = catalogue.projection
    ax, ay = (float(v) for v in proj.project(20.46, 44.81))
    alert = parse_area({"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 5}}, catalogue)
    # a subscriber 12 km due east (in the plane) with radius 7 km +/- 1 mm
    lat, lon = metric_point_at(catalogue, ax + 12_000.0, ay)
    sx, sy = (float(v) for v in proj.project(lon, lat))
    d = math.hypot(sx - ax, sy - ay)
    r_touch = (d - 5000.0) / 1000.0
    subs = SubscriptionAreas.build(
        catalogue, circle_ids=[1, 2, 3], lat=[lat] * 3, lon=[lon] * 3,
        radius_km=[r_touch + 1e-6, r_touch - 1e-6, r_touch - 1.0],
    )
    assert match_areas(alert, subs).tolist() == [True, False, False]


def test_circle_tangent_to_a_region_border(grid):
    """A disc reaching exactly to the shared border of two grid squares."""
    alert = parse_area({"regions": ["G-11"]}, grid)
    border = grid.metric_geometry("G-11")
    # centre 3 km east of G-11's east edge (inside G-12)
    ex, ey = (float(v) for v in grid.projection.project(21.0, 44.75))
    lat, lon = metric_point_at(grid, ex + 3000.0, ey)
    d = border.distance(shapely.Point(*grid.projection.project(lon, lat)))
    subs = [
        ("circle", lat, lon, d / 1000 + 1e-6),  # overlaps by 1 mm
        ("circle", lat, lon, d / 1000 - 1e-6),  # 1 mm short
        ("circle", lat, lon, d / 1000 + 1.0),
    ]
    got, _ = assert_matches_reference(alert, subs, grid)
    assert got.tolist() == [True, False, True]


def test_region_subscriptions_vs_region_alert_use_codes_not_borders(grid):
    alert = parse_area({"regions": ["G-11"]}, grid)
    subs = [("regions", ["G-11"]), ("regions", ["G-10"]), ("regions", ["G-00", "G-11"]), ("regions", ["G-22"])]
    got, _ = assert_matches_reference(alert, subs, grid)
    assert got.tolist() == [True, False, True, False]


def test_region_subscriptions_vs_polygon_alert_touching_a_border(grid):
    """Closed-set semantics: a polygon equal to G-11 touches all 8 neighbours."""
    ring = [[20.5, 44.5], [21.0, 44.5], [21.0, 45.0], [20.5, 45.0], [20.5, 44.5]]
    alert = parse_area({"polygon": {"type": "Polygon", "coordinates": [ring]}}, grid)
    assert alert.territories(grid) == list(grid.codes())
    inner = parse_area({"polygon": {"type": "Polygon", "coordinates": [
        [[20.6, 44.6], [20.9, 44.6], [20.9, 44.9], [20.6, 44.9], [20.6, 44.6]]]}}, grid)
    subs = [("regions", ["G-00"]), ("regions", ["G-11"]), ("regions", ["G-12"])]
    assert match_areas(alert, build(grid, subs)[0]).tolist() == [True, True, True]
    got, _ = assert_matches_reference(inner, subs, grid)
    assert got.tolist() == [False, True, False]


def test_region_subscription_vs_circle_alert(catalogue):
    alert = parse_area({"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 3}}, catalogue)
    subs = [("regions", ["RS-00"]), ("regions", ["RS-06"]), ("regions", ["RS-20", "RS-00"])]
    got, _ = assert_matches_reference(alert, subs, catalogue)
    assert got.tolist() == [True, False, True]


def test_subscriptions_matching_returns_ids_in_row_order(catalogue):
    alert = parse_area({"regions": ["RS-00"]}, catalogue)
    subs = SubscriptionAreas.build(
        catalogue,
        circle_ids=["c-belgrade", "c-nis"],
        lat=[44.8125, 43.3209], lon=[20.4612, 21.8958], radius_km=[1, 1],
        region_ids=["r-bg", "r-ns"],
        region_codes=[["RS-00"], ["RS-06"]],
    )
    assert subs.ids.tolist() == ["c-belgrade", "c-nis", "r-bg", "r-ns"]
    assert subscriptions_matching(alert, subs).tolist() == ["c-belgrade", "r-bg"]


def test_mixed_id_types_and_from_areas(catalogue):
    areas = [
        (("user", 1), parse_area({"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 2}}, catalogue)),
        (7, parse_area({"regions": ["RS-20"]}, catalogue)),
        ("x", parse_area({"circle": {"lat": 45.2671, "lon": 19.8335, "radius_km": 2}}, catalogue)),
    ]
    subs = SubscriptionAreas.from_areas(catalogue, areas)
    assert subs.ids.tolist() == [("user", 1), "x", 7]
    alert = parse_area({"regions": ["RS-00", "RS-20"]}, catalogue)
    assert subscriptions_matching(alert, subs).tolist() == [("user", 1), 7]
    polygon = parse_area({"polygon": {"type": "Polygon", "coordinates": [
        [[20, 44], [20.1, 44], [20.1, 44.1], [20, 44.1], [20, 44]]]}}, catalogue)
    with pytest.raises(AreaError, match="polygon subscriptions are not supported"):
        SubscriptionAreas.from_areas(catalogue, [(1, polygon)])


def test_empty_subscription_set(catalogue):
    subs = SubscriptionAreas.build(catalogue)
    alert = parse_area({"regions": ["RS-00"]}, catalogue)
    assert len(subs) == 0 and match_areas(alert, subs).shape == (0,)


def test_columns_are_read_only(catalogue):
    subs = SubscriptionAreas.build(catalogue, circle_ids=[1], lat=[44.8], lon=[20.4], radius_km=[1])
    with pytest.raises(ValueError):
        subs.x[0] = 0.0
    with pytest.raises(ValueError):
        subs.ids[0] = 2


def test_alert_from_another_catalogue_is_rejected(catalogue, grid):
    subs = SubscriptionAreas.build(catalogue, circle_ids=[1], lat=[44.8], lon=[20.4], radius_km=[1])
    other = grid_catalogue(lon0=10.0, lat0=50.0)
    alert = parse_area({"regions": ["G-00"]}, other)
    with pytest.raises(ValueError, match="different region catalogues"):
        match_areas(alert, subs)


BAD_COLUMNS = [
    (dict(circle_ids=[1, 2], lat=[44.8, float("nan")], lon=[20.4, 20.4], radius_km=[1, 1]),
     "subscriptions.circles.lat", "rows 1"),
    (dict(circle_ids=[1], lat=[95.0], lon=[20.4], radius_km=[1]), "subscriptions.circles.lat", "[-90, 90]"),
    (dict(circle_ids=[1], lat=[44.8], lon=[181.0], radius_km=[1]), "subscriptions.circles.lon", "rows 0"),
    (dict(circle_ids=[1, 2, 3], lat=[44.8] * 3, lon=[20.4] * 3, radius_km=[0, 1, 501]),
     "subscriptions.circles.radius_km", "(0, 500]: rows 0, 2"),
    (dict(circle_ids=[1], lat=["44.8"], lon=[20.4], radius_km=[1]), "subscriptions.circles.lat", "must be numbers"),
    (dict(circle_ids=[1, 2], lat=[44.8], lon=[20.4], radius_km=[1]), "subscriptions.circles", "same length"),
    (dict(region_ids=[1], region_codes=[["RS-99"]]), "subscriptions.regions[0]", "unknown region code 'RS-99'"),
    (dict(region_ids=[1], region_codes=["RS-00"]), "subscriptions.regions[0]", "must be a list"),
    (dict(region_ids=[1], region_codes=[[]]), "subscriptions.regions[0]", "at least one region"),
    (dict(region_ids=[1, 2], region_codes=[["RS-00"]]), "subscriptions.regions", "same length"),
]


@pytest.mark.parametrize(("kwargs", "field", "fragment"), BAD_COLUMNS)
def test_invalid_subscription_columns(catalogue, kwargs, field, fragment):
    with pytest.raises(AreaError) as info:
        SubscriptionAreas.build(catalogue, **kwargs)
    hits = [p for p in info.value.problems if p.field == field]
    assert hits and any(fragment in p.message for p in hits), info.value.problems


def test_many_bad_rows_are_summarised(catalogue):
    n = 100
    with pytest.raises(AreaError) as info:
        SubscriptionAreas.build(catalogue, circle_ids=range(n), lat=[99.0] * n, lon=[20.0] * n, radius_km=[1] * n)
    assert "and 80 more" in info.value.problems[0].message


# -- property tests vs the reference -------------------------------------------------------

lat_s = st.floats(42.0, 46.0)
lon_s = st.floats(19.0, 22.8)
TIE_DELTAS_KM = st.sampled_from([-1.0, -1e-3, -1e-6, -1e-8, 0.0, 1e-8, 1e-6, 1e-3, 1.0])  # down to 10 µm


@st.composite
def star_polygon(draw, catalogue):
    """A simple star-shaped polygon (sorted angles, positive radii) around a point in Serbia."""
    lat, lon = draw(lat_s), draw(lon_s)
    n = draw(st.integers(3, 12))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=n, max_size=n,
                                  unique=True)))
    assume(min(np.diff(angles + [angles[0] + 2 * math.pi])) > 0.05)
    radii = draw(st.lists(st.floats(1_000, 60_000), min_size=n, max_size=n))
    cx, cy = (float(v) for v in catalogue.projection.project(lon, lat))
    xs = [cx + r * math.cos(a) for r, a in zip(radii, angles, strict=True)]
    ys = [cy + r * math.sin(a) for r, a in zip(radii, angles, strict=True)]
    lons, lats = catalogue.projection.unproject(xs, ys)
    ring = [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lons, lats, strict=True)]
    return {"polygon": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}}


def parse_or_reject(data, catalogue):
    try:
        return parse_area(data, catalogue)
    except AreaError:
        assume(False)
        raise  # unreachable


@st.composite
def circle_subs_near(draw, catalogue, distance_to):
    """Circle subscriptions around the alert: random ones plus radii straddling the exact distance."""
    subs = []
    for _ in range(draw(st.integers(1, 25))):
        lat, lon = draw(lat_s), draw(lon_s)
        if draw(st.booleans()):
            d_km = distance_to(lat, lon) / 1000.0
            r = d_km + draw(TIE_DELTAS_KM)
            if not 0 < r <= 500:
                r = draw(st.floats(0.01, 50))
        else:
            r = draw(st.floats(0.01, 120))
        subs.append(("circle", lat, lon, r))
    return subs


def region_subs(draw, catalogue):
    codes = list(catalogue.codes())
    return [("regions", draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3)))
            for _ in range(draw(st.integers(0, 8)))]


@SETTINGS
@given(data=st.data())
def test_polygon_alert_property(catalogue, data):
    alert = parse_or_reject(data.draw(star_polygon(catalogue)), catalogue)
    metric = catalogue.projection.to_metric(alert.geometry)

    def distance_to(lat, lon):
        return metric.distance(shapely.Point(*catalogue.projection.project(lon, lat)))

    subs = data.draw(circle_subs_near(catalogue, distance_to)) + region_subs(data.draw, catalogue)
    assert_matches_reference(alert, subs, catalogue)


@SETTINGS
@given(data=st.data())
def test_regions_alert_property(catalogue, data):
    codes = data.draw(st.lists(st.sampled_from(list(catalogue.codes())), min_size=1, max_size=3, unique=True))
    alert = parse_area({"regions": codes}, catalogue)

    def distance_to(lat, lon):
        point = shapely.Point(*catalogue.projection.project(lon, lat))
        return min(catalogue.metric_geometry(c).distance(point) for c in codes)

    # first: circles centred exactly on border vertices of the alert's first region (must match)
    boundary = np.asarray(shapely.get_coordinates(catalogue[codes[0]].geometry.boundary))
    picks = data.draw(st.lists(st.integers(0, len(boundary) - 1), min_size=1, max_size=5))
    subs = [("circle", float(boundary[i][1]), float(boundary[i][0]), data.draw(st.floats(0.001, 5))) for i in picks]
    subs += data.draw(circle_subs_near(catalogue, distance_to))
    subs += region_subs(data.draw, catalogue)
    got, _ = assert_matches_reference(alert, subs, catalogue)
    assert got[: len(picks)].all()


@SETTINGS
@given(data=st.data())
def test_circle_alert_property(catalogue, data):
    lat, lon = data.draw(lat_s), data.draw(lon_s)
    radius = data.draw(st.floats(0.5, 100))
    alert = parse_or_reject({"circle": {"lat": lat, "lon": lon, "radius_km": radius}}, catalogue)
    ax, ay = (float(v) for v in catalogue.projection.project(lon, lat))

    def distance_to(slat, slon):
        sx, sy = (float(v) for v in catalogue.projection.project(slon, slat))
        return max(math.hypot(sx - ax, sy - ay) - radius * 1000.0, 0.0)

    subs = data.draw(circle_subs_near(catalogue, distance_to)) + region_subs(data.draw, catalogue)
    assert_matches_reference(alert, subs, catalogue)


GRID_LINES_LON = [20.0, 20.5, 21.0, 21.5]
GRID_LINES_LAT = [44.0, 44.5, 45.0, 45.5]


@SETTINGS
@given(data=st.data())
def test_grid_borders_property(grid, data):
    """Synthetic partition with exact shared borders: circles centred on/near the border lines,
    radii straddling the exact distance to the alert's regions."""
    codes = data.draw(st.lists(st.sampled_from(list(grid.codes())), min_size=1, max_size=4, unique=True))
    alert = parse_area({"regions": codes}, grid)

    def distance_to(lat, lon):
        point = shapely.Point(*grid.projection.project(lon, lat))
        return min(grid.metric_geometry(c).distance(point) for c in codes)

    subs = []
    for _ in range(data.draw(st.integers(1, 20))):
        if data.draw(st.booleans()):
            lon, lat = data.draw(st.sampled_from(GRID_LINES_LON)), data.draw(st.floats(43.8, 45.7))
        else:
            lon, lat = data.draw(st.floats(19.8, 21.7)), data.draw(st.sampled_from(GRID_LINES_LAT))
        lon += data.draw(st.sampled_from([0.0, 0.0, 1e-9, -1e-9, 0.01, -0.01]))
        d_km = distance_to(lat, lon) / 1000.0
        r = d_km + data.draw(TIE_DELTAS_KM) if data.draw(st.booleans()) else data.draw(st.floats(0.001, 30))
        subs.append(("circle", lat, lon, r if 0 < r <= 500 else 0.001))
    subs += region_subs(data.draw, grid)
    assert_matches_reference(alert, subs, grid)
