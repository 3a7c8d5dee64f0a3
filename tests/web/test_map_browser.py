"""/static/js/map.js in a real browser (Debian's Chromium driven by Playwright): a static page served from a tmp
dir with the markup map.js documents, under a strict CSP (no inline script or style), and no network but the
test server's."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Playwright

import geo
from alertsvc.web import maps
from geo.svg import render_map

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "alertsvc" / "static"
AXE = ROOT / "assets" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
CHECKBOXES = ("RS-00", "RS-12", "RS-13")


def _page_html(catalogue: geo.RegionCatalogue) -> str:
    area = geo.parse_area({"circle": {"lat": 44.81, "lon": 20.46, "radius_km": 10}}, catalogue)
    area_json = html.escape(maps.area_geometry_json(area), quote=True)

    def svg(prefix: str, **kwargs: Any) -> str:
        return render_map(catalogue, title=f"Map {prefix}", description="Serbia's districts", id_prefix=prefix,
                          **kwargs)

    boxes = "".join(
        f'<div class="govuk-checkboxes__item"><input class="govuk-checkboxes__input" id="r-{c}" name="regions" '
        f'type="checkbox" value="{c}"{" checked" if c == "RS-00" else ""}>'
        f'<label class="govuk-label govuk-checkboxes__label" for="r-{c}">{html.escape(catalogue[c].name)}</label></div>'
        for c in CHECKBOXES)
    return f"""<!doctype html>
<html lang="en" class="govuk-template">
<head><meta charset="utf-8"><title>Map test</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/css/app.css">
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css"></head>
<body class="govuk-template__body"><div class="govuk-width-container"><main class="govuk-main-wrapper" id="main">
<h1 class="govuk-heading-l">Map test</h1>
<figure class="app-map" id="pick-map" data-map data-regions-url="/map/regions.geojson" data-area="{area_json}"
        data-selected="RS-00" data-pick-lat="lat" data-pick-lon="lon">
{svg("pick", area=area, selected=["RS-00"])}<figcaption>Click the map to fill in the place.</figcaption></figure>
<div class="govuk-form-group"><label class="govuk-label" for="lat">Latitude</label>
<input class="govuk-input" id="lat" name="lat" type="text"></div>
<div class="govuk-form-group"><label class="govuk-label" for="lon">Longitude</label>
<input class="govuk-input" id="lon" name="lon" type="text"></div>
<figure class="app-map" id="draw-map" data-map data-regions-url="/map/regions.geojson" data-area="null"
        data-draw="vertices" data-label-undo="Poništi poslednju tačku" data-label-clear="Obriši">
{svg("draw")}<figcaption>Click to add a vertex.</figcaption></figure>
<div class="govuk-form-group"><label class="govuk-label" for="vertices">Vertices, one "lat, lon" a line</label>
<textarea class="govuk-textarea" id="vertices" name="vertices" rows="5"></textarea></div>
<figure class="app-map" id="regions-map" data-map data-regions-url="/map/regions.geojson"
        data-regions-checkboxes="regions">
{svg("regions", selected=["RS-00"])}<figcaption>Click a district to choose it.</figcaption></figure>
<div class="govuk-form-group"><fieldset class="govuk-fieldset"><legend class="govuk-fieldset__legend">Districts</legend>
<div class="govuk-checkboxes">{boxes}</div></fieldset></div>
</main></div>
<script src="/static/vendor/leaflet/leaflet.js"></script>
<script src="/static/js/map.js"></script>
</body></html>"""


class _Handler(SimpleHTTPRequestHandler):
    """/ -> index.html of the tmp dir, /map/regions.geojson -> the catalogue file there, /static/ -> the package's
    static folder, /test/axe.min.js -> axe-core; with the pages' kind of CSP."""

    def __init__(self, *args: Any, site: Path, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, directory=str(site), **kwargs)

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/static/"):
            target = (STATIC / path.removeprefix("/static/")).resolve()
            return str(target) if target.is_relative_to(STATIC) else str(self.site / "missing")
        if path == "/map/regions.geojson":
            return str(self.site / "regions.geojson")
        if path == "/test/axe.min.js":
            return str(AXE)
        if path == "/":
            return str(self.site / "index.html")
        return str(self.site / "missing")

    def guess_type(self, path: Any) -> str:
        return "application/geo+json" if str(path).endswith(".geojson") else super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the browser closed a connection (at the end of a test): not the page's fault


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    if not AXE.is_file():
        pytest.fail("assets/node_modules is missing: scripts/test-setup.sh installs it (npm ci --prefix assets)")
    catalogue = geo.default_catalogue()
    (tmp_path / "regions.geojson").write_bytes(maps.regions_geojson(catalogue).body)
    (tmp_path / "index.html").write_text(_page_html(catalogue))
    server = _Server(("127.0.0.1", 0), partial(_Handler, site=tmp_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def browser_page(site: str, playwright: Playwright) -> Iterator[tuple[Page, list[str], list[str]]]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests (scripts/test-setup.sh installs it)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"])
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/")
    # (a locator waits without evaluating a string: the page's CSP forbids eval, which wait_for_function needs)
    page.locator("[data-map-districts]").nth(2).wait_for(state="attached")
    yield page, requests, errors
    browser.close()


def _lines(page: Page) -> list[str]:
    return [line for line in page.input_value("#vertices").splitlines() if line.strip()]


def test_leaflet_replaces_the_svg_and_draws_every_district(browser_page, site):
    page, requests, errors = browser_page
    for figure in ("#pick-map", "#draw-map", "#regions-map"):
        leaflet = page.locator(f"{figure} > .app-leaflet.leaflet-container")
        assert leaflet.count() == 1
        assert leaflet.bounding_box()["height"] == pytest.approx(420, abs=2)
        assert page.locator(f"{figure} .app-leaflet path.app-map__district").count() == 30
        assert page.get_attribute(f"{figure}", "data-map-districts") == "30"
        svg = page.locator(f"{figure} > svg")
        assert "govuk-visually-hidden" in svg.get_attribute("class")  # still read out, no longer shown
        assert leaflet.evaluate("el => el.compareDocumentPosition(el.nextElementSibling) && "
                                "el.nextElementSibling.tagName.toLowerCase()") in ("svg", "div")
    # the area of data-area, over the districts; the selected district styled as selected
    assert page.locator("#pick-map .app-leaflet path.app-map__area").count() == 1
    assert page.locator('#pick-map .app-leaflet path.app-map__district--selected[data-code="RS-00"]').count() == 1
    assert page.locator("#pick-map .leaflet-tile, #pick-map .leaflet-tile-pane img").count() == 0  # no tiles
    assert errors == []
    assert requests and all(url.startswith(site + "/") for url in requests), requests


def test_a_click_fills_the_lat_and_lon_inputs(browser_page, site):
    page, requests, errors = browser_page
    page.evaluate("""() => { window.inputEvents = [];
        for (const id of ['lat', 'lon']) document.getElementById(id).addEventListener('input',
            e => window.inputEvents.push(e.target.id)); }""")
    page.locator("#pick-map .app-leaflet").scroll_into_view_if_needed()
    box = page.locator("#pick-map .app-leaflet").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    lat, lon = page.input_value("#lat"), page.input_value("#lon")
    assert re.fullmatch(r"\d+\.\d{5}", lat) and re.fullmatch(r"\d+\.\d{5}", lon), (lat, lon)
    assert 44.0 < float(lat) < 46.0 and 19.5 < float(lon) < 21.5  # near the area, Belgrade, the view's centre
    assert sorted(page.evaluate("window.inputEvents")) == ["lat", "lon"]
    assert page.locator("#pick-map .app-leaflet path.app-map__point").count() == 1
    # typing moves the marker too (typed input stays the primary way)
    before = page.locator("#pick-map .app-leaflet path.app-map__point").get_attribute("d")
    page.fill("#lat", "43.32")
    page.fill("#lon", "21.9")
    assert page.locator("#pick-map .app-leaflet path.app-map__point").get_attribute("d") != before
    assert errors == [] and all(url.startswith(site + "/") for url in requests)


def test_draw_mode_appends_a_line_per_click_with_undo_and_clear(browser_page, site):
    page, requests, errors = browser_page
    page.locator("#draw-map .app-leaflet").scroll_into_view_if_needed()
    box = page.locator("#draw-map .app-leaflet").bounding_box()
    for fx, fy in ((0.45, 0.45), (0.55, 0.45), (0.5, 0.55)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    lines = _lines(page)
    assert len(lines) == 3 and all(re.fullmatch(r"\d+\.\d{5}, \d+\.\d{5}", line) for line in lines), lines
    assert page.locator("#draw-map .app-leaflet path.app-map__area").count() == 1  # the polygon
    page.get_by_role("button", name="Poništi poslednju tačku").click()
    assert _lines(page) == lines[:2]
    page.get_by_role("button", name="Obriši").click()
    assert page.input_value("#vertices") == ""
    assert page.locator("#draw-map .app-leaflet path.app-map__area").count() == 0
    # typing vertices draws them too
    page.fill("#vertices", "44.0, 20.5\n44.2, 20.9\n43.9, 21.0\n")
    assert page.locator("#draw-map .app-leaflet path.app-map__area").count() == 1
    assert errors == [] and all(url.startswith(site + "/") for url in requests)


def test_districts_and_checkboxes_follow_each_other(browser_page, site):
    page, requests, errors = browser_page
    district = '#regions-map .app-leaflet path.app-map__district[data-code="RS-12"]'
    assert page.is_checked("#r-RS-00") and not page.is_checked("#r-RS-12")
    assert page.locator(f'{district.replace("RS-12", "RS-00")}.app-map__district--selected').count() == 1
    page.locator(district).click()
    assert page.is_checked("#r-RS-12")
    assert "app-map__district--selected" in page.get_attribute(district, "class")
    page.locator(district).click()
    assert not page.is_checked("#r-RS-12")
    assert "app-map__district--selected" not in page.get_attribute(district, "class")
    page.check("#r-RS-13")  # the checkbox, typed or clicked, re-styles its district
    assert "app-map__district--selected" in page.get_attribute(district.replace("RS-12", "RS-13"), "class")
    assert errors == [] and all(url.startswith(site + "/") for url in requests)


def test_the_page_can_redraw_the_area(browser_page):
    page, _requests, errors = browser_page
    assert page.locator("#draw-map .app-leaflet path.app-map__area").count() == 0
    geometry = {"type": "Polygon", "coordinates": [[[21.8, 43.2], [22.2, 43.2], [22.2, 43.5], [21.8, 43.2]]]}
    page.evaluate("g => document.getElementById('draw-map').dispatchEvent(new CustomEvent('app:area', {detail: g}))",
                  geometry)
    assert page.locator("#draw-map .app-leaflet path.app-map__area").count() == 1
    page.evaluate("() => document.getElementById('draw-map').dispatchEvent(new CustomEvent('app:area', "
                  "{detail: null}))")
    assert page.locator("#draw-map .app-leaflet path.app-map__area").count() == 0
    assert errors == []


def test_the_enhanced_page_has_no_axe_violations(browser_page, site):
    page, _requests, errors = browser_page
    page.add_script_tag(url=site + "/test/axe.min.js")  # same origin: the CSP allows it
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == [], json.dumps(violations, indent=1)
    assert errors == []
