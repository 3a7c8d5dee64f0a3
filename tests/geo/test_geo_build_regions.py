"""scripts/build_regions.py: deterministic, loud on bad input, committed output up to date."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest
import shapely

import geo

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_regions.py"
COMMITTED = Path(geo.__file__).resolve().parent / "data" / "serbia-districts.geojson"


@pytest.fixture(scope="module")
def build_regions():
    spec = importlib.util.spec_from_file_location("build_regions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def source(build_regions) -> Path:
    if not build_regions.DEFAULT_SOURCE.is_file():
        pytest.skip(f"source data not available at {build_regions.DEFAULT_SOURCE}")
    return build_regions.DEFAULT_SOURCE


def test_tables_cover_every_code_once(build_regions):
    assert list(build_regions.DISTRICTS) == [f"RS-{i:02d}" for i in range(30)]
    assert sorted(build_regions.SOURCE_NAMES.values()) == list(build_regions.DISTRICTS)


def test_build_is_deterministic_and_matches_committed_file(build_regions, source, tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert build_regions.main(["--source", str(source), "--output-dir", str(first)]) == 0
    assert build_regions.main(["--source", str(source), "--output-dir", str(second)]) == 0
    a = (first / "serbia-districts.geojson").read_bytes()
    assert a == (second / "serbia-districts.geojson").read_bytes()
    assert (first / "serbia-districts.LICENSE").read_bytes() == source.with_name(
        "serbia-districts.LICENSE"
    ).read_bytes()
    committed = COMMITTED.read_bytes()
    recorded = json.loads(committed)["properties"]["geos_version"]
    if recorded != shapely.geos_version_string:
        pytest.skip(f"committed file was built with GEOS {recorded}, this is {shapely.geos_version_string}")
    assert a == committed, "geo/data is stale: run scripts/build_regions.py"


def test_committed_file_shape():
    raw = COMMITTED.read_bytes()
    assert len(raw) < 250_000
    data = json.loads(raw)
    props = data["properties"]
    assert props["generator"] == "scripts/build_regions.py"
    assert props["tolerance_deg"] > 0 and "Code for America" in props["source"]
    codes = [f["properties"]["code"] for f in data["features"]]
    assert codes == sorted(codes) and len(codes) == 30
    for feature in data["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                for lon, lat in ring:
                    assert round(lon, 5) == lon and round(lat, 5) == lat


def _write_source(tmp_path: Path, source: Path, mutate) -> Path:
    data = json.loads(source.read_text(encoding="utf-8"))
    mutate(data["features"])
    path = tmp_path / "serbia-districts.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "serbia-districts.LICENSE").write_bytes(source.with_name("serbia-districts.LICENSE").read_bytes())
    return path


def _rename(features, old, new):
    for feature in features:
        if feature["properties"]["name"] == old:
            feature["properties"]["name"] = new


def test_unmapped_name_fails_loudly(build_regions, source, tmp_path, capsys):
    path = _write_source(tmp_path, source, lambda fs: _rename(fs, "Sremski", "Sremski okrug (novi)"))
    assert build_regions.main(["--source", str(path), "--output-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "unmapped source name 'Sremski okrug (novi)'" in err
    assert "no source feature for RS-07" in err
    assert not (tmp_path / "out").exists()


def test_missing_and_duplicated_features_fail(build_regions, source, tmp_path):
    def mutate(features):
        dup = copy.deepcopy(next(f for f in features if f["properties"]["name"] == "Grad Beograd"))
        features[:] = [f for f in features if f["properties"]["name"] != "Pećki okrug"] + [dup]

    path = _write_source(tmp_path, source, mutate)
    with pytest.raises(build_regions.BuildError) as info:
        build_regions.build(path, tmp_path / "out")
    assert "maps to RS-00, which was already seen" in str(info.value)
    assert "no source feature for RS-26" in str(info.value)
