"""RegionCatalogue: the real Serbian catalogue, loading, validation, packaging."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely

import geo
from geo import CatalogueError, Region, RegionCatalogue, default_catalogue, load_catalogue

GEO_DIR = Path(geo.__file__).resolve().parent

EXPECTED_LATIN = {
    "RS-00": "Grad Beograd", "RS-01": "Severnobački okrug", "RS-02": "Srednjebanatski okrug",
    "RS-03": "Severnobanatski okrug", "RS-04": "Južnobanatski okrug", "RS-05": "Zapadnobački okrug",
    "RS-06": "Južnobački okrug", "RS-07": "Sremski okrug", "RS-08": "Mačvanski okrug",
    "RS-09": "Kolubarski okrug", "RS-10": "Podunavski okrug", "RS-11": "Braničevski okrug",
    "RS-12": "Šumadijski okrug", "RS-13": "Pomoravski okrug", "RS-14": "Borski okrug",
    "RS-15": "Zaječarski okrug", "RS-16": "Zlatiborski okrug", "RS-17": "Moravički okrug",
    "RS-18": "Raški okrug", "RS-19": "Rasinski okrug", "RS-20": "Nišavski okrug",
    "RS-21": "Toplički okrug", "RS-22": "Pirotski okrug", "RS-23": "Jablanički okrug",
    "RS-24": "Pčinjski okrug", "RS-25": "Kosovski okrug", "RS-26": "Pećki okrug",
    "RS-27": "Prizrenski okrug", "RS-28": "Kosovsko-Mitrovački okrug", "RS-29": "Kosovsko-Pomoravski okrug",
}

# Serbian Cyrillic -> Gaj's Latin (digraphs for љ, њ, џ)
CYR_TO_LAT = dict(zip(
    "абвгдђежзијклмнопрстћуфхцчш",
    ["a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s", "t",
     "ć", "u", "f", "h", "c", "č", "š"],
    strict=True,
)) | {"љ": "lj", "њ": "nj", "џ": "dž"}


def transliterate(text: str) -> str:
    out = []
    for ch in text:
        lat = CYR_TO_LAT.get(ch.lower(), ch)
        out.append(lat[0].upper() + lat[1:] if ch.isupper() else lat)
    return "".join(out)


# -- the real catalogue ---------------------------------------------------------------


def test_thirty_regions_with_iso_codes(catalogue):
    assert catalogue.name == "Serbia"
    assert len(catalogue) == 30
    assert catalogue.codes() == tuple(f"RS-{i:02d}" for i in range(30))
    assert {r.code: r.name for r in catalogue} == EXPECTED_LATIN


def test_names_in_both_scripts(catalogue):
    for region in catalogue:
        assert region.names["sr-Latn"] == region.name
        cyrillic = region.names["sr-Cyrl"]
        assert all(not ("a" <= ch.lower() <= "z") for ch in cyrillic), cyrillic
        assert transliterate(cyrillic) == region.name
    assert catalogue["RS-00"].names == {"sr-Latn": "Grad Beograd", "sr-Cyrl": "Град Београд"}
    assert catalogue["RS-15"].names["sr-Cyrl"] == "Зајечарски округ"


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [(44.8125, 20.4612, "RS-00"), (45.2671, 19.8335, "RS-06"), (43.3209, 21.8958, "RS-20")],
    ids=["Belgrade", "Novi Sad", "Nis"],
)
def test_cities_lie_in_their_district(catalogue, lat, lon, code):
    assert catalogue.regions_intersecting(shapely.Point(lon, lat)) == [code]
    assert catalogue.regions_within(lat, lon, 0.01) == [code]


def test_geometries_are_valid_and_form_a_partition(catalogue):
    geoms = np.array([r.geometry for r in catalogue], dtype=object)
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert shapely.coverage_is_valid(geoms)  # no overlaps, shared borders identical
    assert catalogue.extent.geom_type == "Polygon" and not catalogue.extent.interiors  # no gaps
    min_lon, min_lat, max_lon, max_lat = catalogue.bounds
    assert 18.8 < min_lon < 18.9 and 41.8 < min_lat < 41.9 and 22.9 < max_lon < 23.1 and 46.1 < max_lat < 46.2


def test_neighbours_touch_but_do_not_overlap(catalogue):
    a, b = catalogue["RS-00"].geometry, catalogue["RS-07"].geometry
    assert a.intersects(b)
    assert a.intersection(b).area == 0
    # closed-set semantics: the district itself plus every neighbour sharing a border
    assert catalogue.regions_intersecting(a) == ["RS-00", "RS-02", "RS-04", "RS-07", "RS-08", "RS-09", "RS-10", "RS-12"]


def test_mapping_access(catalogue):
    assert catalogue.get("RS-06").name == "Južnobački okrug"
    assert catalogue.get("RS-99") is None
    assert "RS-06" in catalogue and "RS-99" not in catalogue
    with pytest.raises(KeyError):
        catalogue["RS-99"]
    assert catalogue.index_of("RS-06") == 6
    # official area of Južnobački okrug: 4,016 km² (the source outline is a little generous)
    assert 3_900e6 < catalogue.metric_geometry("RS-06").area < 4_400e6


def test_regions_within_is_exact_distance(grid):
    # G-00 is the square lon 20-20.5, lat 44-44.5; a centre 1 km east of its east edge
    p = grid.projection
    edge_x, edge_y = (float(v) for v in p.project(20.5, 44.25))
    lon, lat = (float(v) for v in p.unproject(edge_x + 1000.0, edge_y))
    d = grid.metric_geometry("G-00").distance(shapely.Point(*p.project(lon, lat)))
    assert 999 < d < 1001
    assert "G-00" in grid.regions_within(lat, lon, d / 1000 + 1e-6)
    assert "G-00" not in grid.regions_within(lat, lon, d / 1000 - 1e-6)


def test_default_catalogue_is_cached():
    assert default_catalogue() is default_catalogue()


def test_to_geojson_round_trips(catalogue):
    data = catalogue.to_geojson()
    assert data["type"] == "FeatureCollection" and data["properties"]["name"] == "Serbia"
    again = load_catalogue(io.StringIO(json.dumps(data)))
    assert again == catalogue
    assert [r.names for r in again] == [r.names for r in catalogue]


def test_load_from_path_text_and_binary(tmp_path, grid):
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps(grid.to_geojson()), encoding="utf-8")
    from_path = load_catalogue(path)
    from_str = load_catalogue(str(path))
    with path.open("rb") as fh:
        from_binary = load_catalogue(fh)
    assert from_path == from_str == from_binary == grid
    assert from_path.name == "Grid"
    assert load_catalogue(path, name="Other").name == "Other"


def test_region_is_immutable():
    region = Region("X", "X", {"en": "X"}, shapely.box(0, 0, 1, 1))
    with pytest.raises(TypeError):
        region.names["en"] = "Y"  # type: ignore[index]
    assert hash(region) == hash(Region("X", "X", {}, shapely.box(0, 0, 1, 1)))


# -- invalid catalogues ------------------------------------------------------------------


def _feature(code="A", name="Alpha", geometry=None, **extra):
    props = {"code": code, "name": name, **extra}
    geom = geometry or {"type": "Polygon", "coordinates": [[[20, 44], [21, 44], [21, 45], [20, 45], [20, 44]]]}
    return {"type": "Feature", "properties": props, "geometry": geom}


def _collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


BAD_CATALOGUES = [
    ("not json", "{nope", "$", "not valid JSON"),
    ("not a collection", {"type": "Feature"}, "type", "FeatureCollection"),
    ("no features", _collection(), "features", "non-empty"),
    ("missing code", _collection(_feature(code=None)), "features[0].properties.code",
     "feature 0 ('Alpha'): 'code' must be a non-empty string"),
    ("missing name", _collection(_feature(name="")), "features[0].properties.name",
     "feature 0 ('A'): 'name' must be a non-empty string"),
    ("duplicate code", _collection(_feature(), _feature(name="Again")), "features[1].properties.code",
     "feature 1: duplicate code 'A' (also features[0])"),
    ("bad names", _collection(_feature(names={"en": 3})), "features[0].properties.names", "language tags"),
    ("point geometry", _collection(_feature(geometry={"type": "Point", "coordinates": [20, 44]})),
     "features[0].geometry", "feature 0 ('A'): geometry must be a GeoJSON Polygon or MultiPolygon"),
    ("self-intersecting", _collection(_feature(), _feature(code="B", geometry={
        "type": "Polygon", "coordinates": [[[20, 44], [21, 45], [21, 44], [20, 45], [20, 44]]]})),
     "features[1].geometry", "feature 1 ('B'): invalid geometry: Self-intersection[20.5 44.5]"),
    ("broken coordinates", _collection(_feature(geometry={"type": "Polygon", "coordinates": [[[20]]]})),
     "features[0].geometry", "feature 0 ('A')"),
    ("not a feature", _collection(_feature(), {"type": "Point"}), "features[1]", "must be a GeoJSON Feature"),
]


@pytest.mark.parametrize(("content", "field", "fragment"), [c[1:] for c in BAD_CATALOGUES],
                         ids=[c[0] for c in BAD_CATALOGUES])
def test_invalid_catalogue(content, field, fragment):
    text = content if isinstance(content, str) else json.dumps(content)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(io.StringIO(text))
    assert isinstance(info.value, ValueError)
    hits = [p for p in info.value.problems if p.field == field]
    assert hits and any(fragment in p.message for p in hits), info.value.problems


def test_from_regions_rejects_empty_and_invalid():
    with pytest.raises(CatalogueError):
        RegionCatalogue.from_regions([], name="x")
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    with pytest.raises(CatalogueError, match="Self-intersection"):
        RegionCatalogue.from_regions([Region("B", "B", {}, bowtie)], name="x")


# -- packaging ------------------------------------------------------------------------------


def test_license_ships_next_to_the_data():
    text = (GEO_DIR / "data" / "serbia-districts.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in text and "Code for America" in text


def test_default_catalogue_loads_from_a_zipped_package(tmp_path):
    """importlib.resources, not __file__ paths: works when geo is imported from a zip/wheel."""
    archive = tmp_path / "geo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(GEO_DIR.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, Path("geo") / path.relative_to(GEO_DIR))
    code = (
        "import geo, sys; c = geo.default_catalogue(); "
        "assert '.zip' in geo.__file__, geo.__file__; print(len(c), c.codes()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "RS-00"]
