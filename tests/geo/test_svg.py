"""geo.svg: the catalogue and an area as an inline SVG map, checked on the real shipped catalogue."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import shapely

from geo import Region, RegionCatalogue, parse_area
from geo.svg import MIN_AREA_VIEW_KM, MapRenderer, map_renderer, render_map

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def view_box(root: ET.Element) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in root.attrib["viewBox"].split())
    return x, y, w, h


def points(d: str) -> list[tuple[float, float]]:
    values = [float(v) for v in NUMBER.findall(d)]
    return list(zip(values[::2], values[1::2], strict=True))


def districts(root: ET.Element) -> dict[str, ET.Element]:
    found = [p for p in root.iter(f"{SVG}path") if "app-map__district" in p.attrib.get("class", "").split()]
    codes = [p.attrib["data-code"] for p in found]
    assert len(codes) == len(set(codes)), "one path per district"
    return dict(zip(codes, found, strict=True))


def the_area(root: ET.Element) -> ET.Element:
    (area,) = [p for p in root.iter(f"{SVG}path") if p.attrib.get("class") == "app-map__area"]
    return area


@pytest.fixture(scope="module")
def circle(catalogue: RegionCatalogue):
    return parse_area({"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 10}}, catalogue)


def test_country_map_has_one_titled_path_per_district(catalogue: RegionCatalogue):
    root = parse(render_map(catalogue, title="Srbija", id_prefix="m"))
    assert root.tag == f"{SVG}svg"
    found = districts(root)
    assert set(found) == set(catalogue.codes())
    for code, path in found.items():
        assert path.find(f"{SVG}title").text == catalogue[code].name
        assert path.attrib["d"].startswith("M") and path.attrib["d"].endswith("Z")
    assert not [p for p in root.iter(f"{SVG}path") if p.attrib.get("class") == "app-map__area"]
    assert root.find(f"{SVG}circle") is None


def test_selected_districts_get_the_selected_class(catalogue: RegionCatalogue):
    root = parse(render_map(catalogue, selected=["RS-00", "RS-06", "XX-99"], title="t", id_prefix="m"))
    found = districts(root)
    selected = {c for c, p in found.items() if "app-map__district--selected" in p.attrib["class"].split()}
    assert selected == {"RS-00", "RS-06"}  # an unknown code is ignored
    assert all(p.attrib["class"].split()[0] == "app-map__district" for p in found.values())


def test_accessible_name_and_description_with_unique_ids(catalogue: RegionCatalogue):
    svg = render_map(catalogue, title="Područje upozorenja", description="Krug od 10 km", id_prefix="alert-7")
    root = parse(svg)
    assert root.attrib["role"] == "img"
    ids = root.attrib["aria-labelledby"].split()
    assert ids == ["alert-7-title", "alert-7-desc"]
    by_id = {el.attrib["id"]: el for el in root.iter() if "id" in el.attrib}
    assert by_id["alert-7-title"].tag == f"{SVG}title" and by_id["alert-7-title"].text == "Područje upozorenja"
    assert by_id["alert-7-desc"].tag == f"{SVG}desc" and by_id["alert-7-desc"].text == "Krug od 10 km"
    assert next(iter(root)) is by_id["alert-7-title"]  # the svg's own title comes first
    # without a description there is no <desc> and the name alone labels it
    bare = parse(render_map(catalogue, title="t", id_prefix="other"))
    assert bare.attrib["aria-labelledby"] == "other-title" and bare.find(f"{SVG}desc") is None


@pytest.mark.parametrize("prefix", ["", "1abc", "a b", 'x"y', "a>b", "x" * 65])
def test_an_unsafe_id_prefix_is_refused(catalogue: RegionCatalogue, prefix: str):
    with pytest.raises(ValueError, match="id_prefix"):
        render_map(catalogue, title="t", id_prefix=prefix)


def test_no_inline_style_anywhere(catalogue: RegionCatalogue, circle):
    svg = render_map(catalogue, area=circle, selected=["RS-00"], point=(44.81, 20.46), labels=True,
                     title="t", description="d", id_prefix="m")
    root = parse(svg)
    assert all("style" not in el.attrib for el in root.iter())
    assert root.find(f".//{SVG}style") is None and "style" not in svg


@pytest.mark.parametrize("fit", ["country", "area"])
def test_the_area_is_drawn_inside_the_view_box(catalogue: RegionCatalogue, circle, fit: str):
    root = parse(render_map(catalogue, area=circle, fit=fit, title="t", id_prefix="m"))
    x, y, w, h = view_box(root)
    pts = points(the_area(root).attrib["d"])
    assert len(pts) >= 12  # the circle's polygon (simplified to the pixels it covers), not a box
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in pts)


def test_fit_area_zooms_in_and_draws_every_district_in_view(catalogue: RegionCatalogue, circle):
    country = parse(render_map(catalogue, area=circle, title="t", id_prefix="m"))
    zoomed = parse(render_map(catalogue, area=circle, fit="area", title="t", id_prefix="m"))
    cw, ch = view_box(country)[2:]
    x, y, w, h = view_box(zoomed)
    assert w < cw / 5 and h < ch / 5
    renderer = map_renderer(catalogue)
    assert min(w, h) >= MIN_AREA_VIEW_KM * renderer.units_per_km * 0.999  # a 20 km circle: shown 30 km across
    # the area is in the middle of the view
    pts = points(the_area(zoomed).attrib["d"])
    cx = (min(p[0] for p in pts) + max(p[0] for p in pts)) / 2
    cy = (min(p[1] for p in pts) + max(p[1] for p in pts)) / 2
    assert abs(cx - (x + w / 2)) < w * 0.01 and abs(cy - (y + h / 2)) < h * 0.01
    # every district whose outline reaches into the view is drawn, and only those
    view = shapely.box(x, y, x + w, y + h)
    expected = {r.code for r in catalogue
                if shapely.transform(r.geometry, renderer._xy).intersects(view)}
    assert "RS-00" in expected and set(districts(zoomed)) == expected and len(expected) < len(catalogue)


def test_fit_area_without_an_area_zooms_to_the_point_or_shows_the_country(catalogue: RegionCatalogue):
    country = view_box(parse(render_map(catalogue, title="t", id_prefix="m")))
    assert view_box(parse(render_map(catalogue, fit="area", title="t", id_prefix="m"))) == country
    root = parse(render_map(catalogue, fit="area", point=(43.32, 21.9), title="t", id_prefix="m"))
    x, y, w, h = view_box(root)
    assert w < country[2] / 5
    dot = root.find(f"{SVG}circle")
    assert dot.attrib["class"] == "app-map__point"
    assert abs(float(dot.attrib["cx"]) - (x + w / 2)) < 0.1 and abs(float(dot.attrib["cy"]) - (y + h / 2)) < 0.1


def test_projection_puts_north_up_and_east_right(grid: RegionCatalogue):
    """The 3x3 grid: G-00 is the south-west square, G-22 the north-east one (y grows downward)."""
    root = parse(render_map(grid, point=(44.25, 20.25), title="t", id_prefix="m"))
    found = districts(root)
    sw, ne = points(found["G-00"].attrib["d"]), points(found["G-22"].attrib["d"])
    assert min(p[0] for p in sw) < min(p[0] for p in ne)
    assert min(p[1] for p in sw) > min(p[1] for p in ne)
    # squares of 0.5° are narrower than high at 44.75°N (x scaled by the cosine of the mid latitude)
    width = max(p[0] for p in sw) - min(p[0] for p in sw)
    height = max(p[1] for p in sw) - min(p[1] for p in sw)
    assert width / height == pytest.approx(0.71, abs=0.01)
    dot = root.find(f"{SVG}circle")  # (lat, lon) in the middle of G-00
    assert (float(dot.attrib["cx"]), float(dot.attrib["cy"])) == pytest.approx(
        ((min(p[0] for p in sw) + max(p[0] for p in sw)) / 2, (min(p[1] for p in sw) + max(p[1] for p in sw)) / 2),
        abs=0.1)


def test_multipolygon_with_a_hole_is_one_evenodd_path(catalogue: RegionCatalogue):
    area = parse_area({"polygon": {"type": "MultiPolygon", "coordinates": [
        [[[21.8, 43.2], [22.2, 43.2], [22.2, 43.5], [21.8, 43.5], [21.8, 43.2]],
         [[21.9, 43.3], [22.0, 43.3], [22.0, 43.4], [21.9, 43.3]]],
        [[[20.0, 44.0], [20.1, 44.0], [20.1, 44.1], [20.0, 44.0]]],
    ]}}, catalogue)
    svg = render_map(catalogue, area=area, title="t", id_prefix="m")
    root = parse(svg)
    d = the_area(root).attrib["d"]
    assert d.count("M") == 3 and d.count("Z") == 3  # two outer rings and a hole
    assert root.attrib["fill-rule"] == "evenodd"


def test_coordinates_are_rounded_to_one_decimal(catalogue: RegionCatalogue, circle):
    svg = render_map(catalogue, area=circle, point=(44.81, 20.46), fit="area", title="t", id_prefix="m")
    root = parse(svg)
    for el in root.iter():
        for name in ("d", "cx", "cy", "r", "viewBox"):
            if name in el.attrib:
                assert not re.search(r"\d\.\d\d", el.attrib[name]), (el.tag, name)


def test_hostile_names_and_texts_are_escaped():
    hostile = '</title><script>alert("x")</script> & \'q\' \x00\x1b'
    catalogue = RegionCatalogue.from_regions(
        [Region(code='X-1"><b', name=hostile, names={"sr-Cyrl": "<Ћ>"}, geometry=shapely.box(20, 44, 20.5, 44.5)),
         Region(code="X-2", name="Plain", names={}, geometry=shapely.box(20.5, 44, 21, 44.5))],
        name="Hostile")
    svg = render_map(catalogue, selected=['X-1"><b'], labels=True, title=hostile, description=hostile,
                     id_prefix="h")
    assert "<script" not in svg and "<b" not in svg.replace("<b ", "")
    root = parse(svg)  # well-formed, control characters dropped
    clean = '</title><script>alert("x")</script> & \'q\' '
    assert root.find(f"{SVG}title").text == clean and root.find(f"{SVG}desc").text == clean
    found = districts(root)
    assert set(found) == {'X-1"><b', "X-2"}
    assert found['X-1"><b'].find(f"{SVG}title").text == clean
    assert [t.text for t in root.iter(f"{SVG}text")] == [clean, "Plain"]
    cyrillic = parse(render_map(catalogue, labels=True, language="sr-Cyrl", title="t", id_prefix="h"))
    assert [t.text for t in cyrillic.iter(f"{SVG}text")] == ["<Ћ>", "Plain"]  # a missing language: the name


def test_whole_country_is_small(catalogue: RegionCatalogue, circle):
    plain = render_map(catalogue, title="Srbija", id_prefix="m")
    assert len(plain.encode()) < 45_000
    full = render_map(catalogue, area=circle, selected=catalogue.codes(), point=(44.81, 20.46), labels=True,
                      title="Srbija", description="Svi okruzi", id_prefix="m")
    assert len(full.encode()) < 60_000


def test_output_is_deterministic_and_cached(catalogue: RegionCatalogue, circle):
    kwargs = dict(area=circle, selected=["RS-00"], point=(44.81, 20.46), title="t", id_prefix="m")
    first = render_map(catalogue, **kwargs)
    assert render_map(catalogue, **kwargs) == first
    assert MapRenderer(catalogue).render(**kwargs) == first  # a fresh renderer draws the same
    assert map_renderer(catalogue) is map_renderer(catalogue)
    assert render_map(catalogue, fit="area", **kwargs) == render_map(catalogue, fit="area", **kwargs)


@pytest.mark.parametrize("bad", [{"fit": "world"}, {"width": 0}])
def test_bad_arguments_are_refused(catalogue: RegionCatalogue, bad):
    with pytest.raises(ValueError):
        render_map(catalogue, title="t", **bad)


def test_the_cache_lets_a_catalogue_go():
    import gc
    import weakref

    catalogue = RegionCatalogue.from_regions(
        [Region(code="Z-1", name="Zed", names={}, geometry=shapely.box(20, 44, 20.5, 44.5))], name="Gone")
    assert "Zed" in render_map(catalogue, title="t")
    gone = weakref.ref(catalogue)
    del catalogue
    gc.collect()
    assert gone() is None
