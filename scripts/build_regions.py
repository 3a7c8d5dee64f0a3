#!/usr/bin/env python3
"""Build ``geo/data/serbia-districts.geojson``, the default region catalogue.

Input: ``../shared/data/geo/serbia-districts.geojson`` (Code for America, MIT;
30 features with Latin ``name`` and mostly-Cyrillic ``name_alt``).

Steps (all deterministic for a given shapely/GEOS version):

1. map each source feature to its ISO 3166-2:RS code through the explicit
   :data:`SOURCE_NAMES` table; an unmapped, duplicated or missing name is a
   hard error;
2. ``shapely.coverage_clean`` (gap width :data:`GAP_WIDTH_DEG`): the source
   has ~10 m² slivers of overlap/gap between neighbours; this makes the 30
   districts an exact partition (shared borders have identical vertices);
3. ``shapely.coverage_simplify`` (tolerance :data:`TOLERANCE_DEG`): like
   ``simplify(preserve_topology=True)`` but simplifies each shared border
   once, so neighbours stay edge-matched (per-feature simplify would open
   gaps and overlaps of up to the tolerance along every border);
4. ``shapely.set_precision`` to a 1e-5° grid (5 decimals, ~1 m), which keeps
   the geometries valid; exteriors counter-clockwise (RFC 7946);
5. checks: every geometry valid and non-empty, the result still a valid
   coverage, the file under :data:`MAX_BYTES`;
6. writes the features sorted by code (one per line, UTF-8, ``\\n``) with
   proper ``sr-Latn`` / ``sr-Cyrl`` names, plus the source's LICENSE copied
   verbatim next to it.

Usage::

    .venv/bin/python scripts/build_regions.py [--source PATH] [--output-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "geo" / "serbia-districts.geojson"
DEFAULT_OUTPUT_DIR = REPO / "geo" / "data"
OUTPUT_NAME = "serbia-districts.geojson"
LICENSE_NAME = "serbia-districts.LICENSE"

GAP_WIDTH_DEG = 0.001
"""Gaps/overlaps narrower than this (~100 m) are merged into a neighbour."""
TOLERANCE_DEG = 0.002
"""coverage_simplify tolerance (≈ sqrt of the area of removed triangles): ~150 m."""
GRID_SIZE_DEG = 1e-5
"""Coordinates are snapped to this grid (5 decimals)."""
MAX_BYTES = 250_000

#: ISO 3166-2:RS code -> (sr-Latn name, sr-Cyrl name).  Latin spellings follow
#: ISO 3166-2:RS; the Cyrillic is the exact transliteration of the Latin.
DISTRICTS: dict[str, tuple[str, str]] = {
    "RS-00": ("Grad Beograd", "Град Београд"),
    "RS-01": ("Severnobački okrug", "Севернобачки округ"),
    "RS-02": ("Srednjebanatski okrug", "Средњебанатски округ"),
    "RS-03": ("Severnobanatski okrug", "Севернобанатски округ"),
    "RS-04": ("Južnobanatski okrug", "Јужнобанатски округ"),
    "RS-05": ("Zapadnobački okrug", "Западнобачки округ"),
    "RS-06": ("Južnobački okrug", "Јужнобачки округ"),
    "RS-07": ("Sremski okrug", "Сремски округ"),
    "RS-08": ("Mačvanski okrug", "Мачвански округ"),
    "RS-09": ("Kolubarski okrug", "Колубарски округ"),
    "RS-10": ("Podunavski okrug", "Подунавски округ"),
    "RS-11": ("Braničevski okrug", "Браничевски округ"),
    "RS-12": ("Šumadijski okrug", "Шумадијски округ"),
    "RS-13": ("Pomoravski okrug", "Поморавски округ"),
    "RS-14": ("Borski okrug", "Борски округ"),
    "RS-15": ("Zaječarski okrug", "Зајечарски округ"),
    "RS-16": ("Zlatiborski okrug", "Златиборски округ"),
    "RS-17": ("Moravički okrug", "Моравички округ"),
    "RS-18": ("Raški okrug", "Рашки округ"),
    "RS-19": ("Rasinski okrug", "Расински округ"),
    "RS-20": ("Nišavski okrug", "Нишавски округ"),
    "RS-21": ("Toplički okrug", "Топлички округ"),
    "RS-22": ("Pirotski okrug", "Пиротски округ"),
    "RS-23": ("Jablanički okrug", "Јабланички округ"),
    "RS-24": ("Pčinjski okrug", "Пчињски округ"),
    "RS-25": ("Kosovski okrug", "Косовски округ"),
    "RS-26": ("Pećki okrug", "Пећки округ"),
    "RS-27": ("Prizrenski okrug", "Призренски округ"),
    "RS-28": ("Kosovsko-Mitrovački okrug", "Косовско-Митровачки округ"),
    "RS-29": ("Kosovsko-Pomoravski okrug", "Косовско-Поморавски округ"),
}

#: Source ``name`` property -> ISO code.  Explicit on purpose: the source's
#: names are inconsistent ("Sremski", "Zaječarski" lack "okrug",
#: "Kosovskomitrovički" has no hyphen) and one ``name_alt`` is "Zajecar".
SOURCE_NAMES: dict[str, str] = {
    "Grad Beograd": "RS-00",
    "Severnobački okrug": "RS-01",
    "Srednjebanatski okrug": "RS-02",
    "Severnobanatski okrug": "RS-03",
    "Južnobanatski okrug": "RS-04",
    "Zapadnobački okrug": "RS-05",
    "Južnobački okrug": "RS-06",
    "Sremski": "RS-07",
    "Mačvanski okrug": "RS-08",
    "Kolubarski okrug": "RS-09",
    "Podunavski okrug": "RS-10",
    "Braničevski okrug": "RS-11",
    "Šumadijski okrug": "RS-12",
    "Pomoravski okrug": "RS-13",
    "Borski okrug": "RS-14",
    "Zaječarski": "RS-15",
    "Zlatiborski okrug": "RS-16",
    "Moravički okrug": "RS-17",
    "Raški okrug": "RS-18",
    "Rasinski okrug": "RS-19",
    "Nišavski okrug": "RS-20",
    "Toplički okrug": "RS-21",
    "Pirotski okrug": "RS-22",
    "Jablanički okrug": "RS-23",
    "Pčinjski okrug": "RS-24",
    "Kosovski okrug": "RS-25",
    "Pećki okrug": "RS-26",
    "Prizrenski okrug": "RS-27",
    "Kosovskomitrovički okrug": "RS-28",
    "Kosovsko-Pomoravski okrug": "RS-29",
}


class BuildError(RuntimeError):
    """The source file does not match what the build expects."""


def map_source_features(features: Sequence[dict[str, Any]]) -> dict[str, shapely.Geometry]:
    """Source features -> {code: geometry}; fails loudly on any naming mismatch."""
    by_code: dict[str, shapely.Geometry] = {}
    errors: list[str] = []
    for index, feature in enumerate(features):
        name = (feature.get("properties") or {}).get("name")
        code = SOURCE_NAMES.get(name) if isinstance(name, str) else None
        if code is None:
            errors.append(f"feature {index}: unmapped source name {name!r}")
            continue
        if code in by_code:
            errors.append(f"feature {index}: {name!r} maps to {code}, which was already seen")
            continue
        geometry = shape(feature["geometry"])
        if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
            errors.append(f"feature {index} ({name!r}): geometry must be a non-empty (Multi)Polygon")
            continue
        by_code[code] = geometry
    missing = sorted(set(DISTRICTS) - set(by_code))
    if missing:
        errors.append(f"no source feature for {', '.join(missing)}")
    if errors:
        raise BuildError("; ".join(errors))
    return by_code


def simplify_coverage(geometries: Sequence[shapely.Geometry]) -> list[shapely.Geometry]:
    """Clean + coverage-simplify + snap to the grid, keeping an exact, valid partition."""
    cleaned = shapely.coverage_clean(np.asarray(geometries, dtype=object), gap_width=GAP_WIDTH_DEG)
    simplified = shapely.coverage_simplify(cleaned, TOLERANCE_DEG)
    snapped = shapely.set_precision(simplified, GRID_SIZE_DEG)
    oriented = shapely.orient_polygons(snapped, exterior_cw=False)
    result = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in oriented]
    problems = [
        f"#{i}: {shapely.is_valid_reason(g)}" for i, g in enumerate(result) if g.is_empty or not g.is_valid
    ]
    if problems:
        raise BuildError("simplified geometry invalid: " + "; ".join(problems))
    if not shapely.coverage_is_valid(np.asarray(result, dtype=object)):
        raise BuildError("simplified districts no longer form a valid coverage")
    return result


def _rounded(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)):
        if coords and isinstance(coords[0], float):
            return [round(v, 5) + 0.0 for v in coords[:2]]
        return [_rounded(c) for c in coords]
    return coords


def render(by_code: dict[str, shapely.Geometry], source_bytes: bytes) -> bytes:
    """The output file's bytes: features sorted by code, one per line."""
    codes = sorted(by_code)
    simplified = simplify_coverage([by_code[c] for c in codes])
    properties = {
        "name": "Serbia",
        "description": "ISO 3166-2:RS districts (okruzi) and the City of Belgrade, simplified",
        "source": "Code for America, serbia-districts.geojson (MIT licence, see serbia-districts.LICENSE)",
        "source_sha256": hashlib.sha256(source_bytes).hexdigest(),
        "generator": "scripts/build_regions.py",
        "processing": (
            f"shapely.coverage_clean(gap_width={GAP_WIDTH_DEG}) + "
            f"shapely.coverage_simplify(tolerance={TOLERANCE_DEG}) + "
            f"shapely.set_precision(grid_size={GRID_SIZE_DEG})"
        ),
        "tolerance_deg": TOLERANCE_DEG,
        "geos_version": shapely.geos_version_string,
        "crs": "WGS84 longitude/latitude (RFC 7946)",
    }
    lines = []
    for code, geometry in zip(codes, simplified, strict=True):
        latin, cyrillic = DISTRICTS[code]
        geo_json = mapping(geometry)
        feature = {
            "type": "Feature",
            "id": code,
            "properties": {"code": code, "name": latin, "names": {"sr-Latn": latin, "sr-Cyrl": cyrillic}},
            "geometry": {"type": geo_json["type"], "coordinates": _rounded(geo_json["coordinates"])},
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    head = json.dumps(properties, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    text = '{"type":"FeatureCollection","properties":' + head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    return text.encode("utf-8")


def build(source: Path, output_dir: Path) -> tuple[Path, Path]:
    """Build the catalogue and copy the licence; returns the two paths written."""
    source_bytes = source.read_bytes()
    collection = json.loads(source_bytes)
    if collection.get("type") != "FeatureCollection":
        raise BuildError(f"{source}: not a GeoJSON FeatureCollection")
    data = render(map_source_features(collection["features"]), source_bytes)
    if len(data) > MAX_BYTES:
        raise BuildError(f"output is {len(data)} bytes, more than {MAX_BYTES}; raise TOLERANCE_DEG")
    license_source = source.with_name(LICENSE_NAME)
    if not license_source.is_file():
        raise BuildError(f"{license_source} is missing: the MIT notice must ship with the data")
    output_dir.mkdir(parents=True, exist_ok=True)
    out, lic = output_dir / OUTPUT_NAME, output_dir / LICENSE_NAME
    out.write_bytes(data)
    lic.write_bytes(license_source.read_bytes())
    return out, lic


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    args = parser.parse_args(argv)
    try:
        out, lic = build(args.source, args.output_dir)
    except BuildError as exc:
        print(f"build_regions: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({out.stat().st_size} bytes) and {lic}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
