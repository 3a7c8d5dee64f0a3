"""alertsvc.web.maps: the catalogue as GeoJSON for Leaflet, and the server-rendered SVG map for templates.

No database is involved, so these tests build the app once on SQLite instead of using the two-database ``app``
fixture of tests/conftest.py."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import jinja2
import numpy as np
import pytest
import shapely
from flask import Flask
from markupsafe import Markup
from shapely.geometry import shape

import geo
from alertsvc.app import create_app
from alertsvc.clock import FixedClock
from alertsvc.db import make_engine
from alertsvc.runtime import Runtime
from alertsvc.settings import Settings
from alertsvc.web import maps
from channels.memory import MemoryChannel

from ..conftest import NOW

SVG = "{http://www.w3.org/2000/svg}"


def _app(tmp_path: Path, template: Path, catalogue: geo.RegionCatalogue | None = None) -> Iterator[Flask]:
    path = tmp_path / "alertsvc.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    settings = Settings().with_overrides({
        "database.url": f"sqlite:///{path}",
        "server.base_url": "http://alertsvc.test",
        "security.secret_key": "test-secret-key-0123456789-abcdefghijklmnop",
        "channels.file.path": str(tmp_path / "outbox.jsonl"),
    })
    outbox = MemoryChannel()
    rt = Runtime(settings=settings, engine=engine, clock=FixedClock(NOW), catalogue=catalogue,
                 channels={"sms": outbox, "email": outbox})
    app = create_app(runtime=rt)
    if "maps" not in app.blueprints:  # until create_app registers it
        app.register_blueprint(maps.bp)
    app.testing = True
    yield app
    engine.dispose()


@pytest.fixture
def app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    yield from _app(tmp_path, sqlite_template)


@pytest.fixture
def tiny_app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """An app whose runtime has a catalogue of its own: two squares, one with a hostile name."""
    catalogue = geo.RegionCatalogue.from_regions([
        geo.Region(code="T-1", name='<b>"Prvi"</b> & drugi', names={}, geometry=shapely.box(20.0, 44.0, 20.5, 44.5)),
        geo.Region(code="T-2", name="Drugi", names={}, geometry=shapely.box(20.5, 44.0, 21.0, 44.5)),
    ], name="Tiny")
    yield from _app(tmp_path, sqlite_template, catalogue)


def test_regions_geojson_is_the_catalogue_simplified(app: Flask):
    r = app.test_client().get("/map/regions.geojson")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    assert r.headers["ETag"].startswith('"') and len(r.data) < 100_000
    doc = json.loads(r.data)
    assert doc["type"] == "FeatureCollection"
    catalogue = geo.default_catalogue()
    assert [f["properties"] for f in doc["features"]] == [{"code": r.code, "name": r.name} for r in catalogue]
    shapes = np.array([shape(f["geometry"]) for f in doc["features"]], dtype=object)
    assert all(shapely.is_valid(shapes))
    assert shapely.coverage_is_valid(shapes)  # neighbours still share their borders: no gap, no overlap
    for region, simple in zip(catalogue, shapes, strict=True):
        assert region.geometry.symmetric_difference(simple).area < 0.03 * region.geometry.area, region.code
        assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(region.geometry)


def test_regions_geojson_answers_304_to_its_etag(app: Flask):
    client = app.test_client()
    first = client.get("/map/regions.geojson")
    etag = first.headers["ETag"]
    again = client.get("/map/regions.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=3600"
    other = client.get("/map/regions.geojson", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data
    head = client.head("/map/regions.geojson")
    assert head.status_code == 200 and head.headers["ETag"] == etag


def test_regions_geojson_serves_the_runtimes_catalogue(tiny_app: Flask, app: Flask):
    r = tiny_app.test_client().get("/map/regions.geojson")
    doc = json.loads(r.data)
    assert [f["properties"]["code"] for f in doc["features"]] == ["T-1", "T-2"]
    assert doc["features"][0]["properties"]["name"] == '<b>"Prvi"</b> & drugi'  # JSON: data, not markup
    assert r.headers["ETag"] != app.test_client().get("/map/regions.geojson").headers["ETag"]


def test_area_svg_draws_the_runtimes_catalogue(tiny_app: Flask):
    with tiny_app.app_context():
        area = geo.parse_area({"circle": {"lat": 44.25, "lon": 20.25, "radius_km": 5}}, tiny_app.extensions[
            "alertsvc"].regions)
        svg = maps.area_svg(area, selected=["T-1"], point=(44.25, 20.25), title='Alert <"x">',
                            description="5 km", id_prefix="alert-map")
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.attrib["aria-labelledby"] == "alert-map-title alert-map-desc"
    assert root.find(f"{SVG}title").text == 'Alert <"x">'
    paths = {p.attrib.get("data-code"): p for p in root.iter(f"{SVG}path")}
    assert set(paths) == {"T-1", "T-2", None}  # two districts and the area
    assert "app-map__district--selected" in paths["T-1"].attrib["class"]
    assert paths["T-1"].find(f"{SVG}title").text == '<b>"Prvi"</b> & drugi'
    # in a template, the Markup is not escaped a second time
    env = jinja2.Environment(autoescape=True)
    html = env.from_string('<figure class="app-map">{{ svg }}</figure>').render(svg=svg)
    assert html == f'<figure class="app-map">{svg}</figure>'


def test_area_geometry_json_for_the_data_area_attribute(app: Flask):
    assert maps.area_geometry_json(None) == "null"
    catalogue = geo.default_catalogue()
    area = geo.parse_area({"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 10}}, catalogue)
    text = maps.area_geometry_json(area)
    geometry = json.loads(text)
    assert geometry["type"] == "Polygon"
    assert shape(geometry).hausdorff_distance(area.geometry) < 1e-4
    assert all(len(repr(c).split(".")[1]) <= 5 for c in geometry["coordinates"][0][0])
    # quoted by autoescaping inside an attribute, the browser reads the same JSON back
    env = jinja2.Environment(autoescape=True)
    html = env.from_string("<figure data-area='{{ area }}'>").render(area=text)
    assert "'" not in html[len("<figure data-area='"):-2]
    regions = geo.parse_area({"regions": ["RS-00", "RS-06"]}, catalogue)
    assert json.loads(maps.area_geometry_json(regions))["type"] == "MultiPolygon"
