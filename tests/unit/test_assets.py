"""The committed front-end assets (built by scripts/build-assets.sh from the pinned npm packages): no font or
file from another host, no GDS Transport, vendored versions equal to the pins. Reads files only (never npm)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "alertsvc" / "static"
CSS = STATIC / "css" / "app.css"
VENDOR = STATIC / "vendor"
PACKAGE = json.loads((ROOT / "assets" / "package.json").read_text())
PINNED = {**PACKAGE.get("dependencies", {}), **PACKAGE.get("devDependencies", {})}
URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<url>.*?)(?P=q)\s*\)""", re.IGNORECASE)


def _versions() -> dict[str, tuple[str, str, str, str]]:
    rows = {}
    for line in (VENDOR / "VERSIONS.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version, licence, files, licence_file = line.split("\t")
            rows[name] = (version, licence, files, licence_file)
    return rows


def test_css_loads_no_font_and_nothing_from_another_host():
    css = CSS.read_text()
    assert "@font-face" not in css.lower()
    assert "gds transport" not in css.lower()
    assert "govuk-crest" not in css  # the crest is reserved for UK government, like the font
    for match in URL.finditer(css):
        url = match["url"]
        assert not re.match(r"(?i)^(https?:)?//", url), url


def test_every_url_in_the_css_is_a_file_under_static():
    css = CSS.read_text()
    for match in URL.finditer(css):
        path = urlsplit(match["url"]).path
        if path.startswith("/"):
            assert path.startswith("/static/"), match["url"]
            target = STATIC / path.removeprefix("/static/")
        else:
            target = CSS.parent / path
        target = target.resolve()
        assert target.is_relative_to(STATIC.resolve()) and target.is_file(), match["url"]


def test_css_uses_the_system_font_stack_and_our_additions():
    css = CSS.read_text()
    assert 'font-family:system-ui,-apple-system,"Segoe UI",Roboto' in css
    for selector in (".app-map", ".app-map__district", ".app-map__district--selected", ".app-map__area",
                     ".app-map__point", ".app-map__label", ".app-leaflet", ".app-banner--exercise", ".app-status-tag",
                     ".app-session-warning", ".app-language-switch", ".govuk-button", ".govuk-error-summary"):
        assert selector + "{" in css or selector + "," in css or selector + " " in css, selector
    assert "@media print" in css


@pytest.mark.parametrize("name", sorted(PINNED))
def test_package_json_pins_exact_versions(name: str):
    assert re.fullmatch(r"\d+\.\d+\.\d+", PINNED[name]), (name, PINNED[name])


def test_the_four_packages_are_pinned_and_locked():
    assert set(PINNED) == {"govuk-frontend", "leaflet", "axe-core", "sass"}
    assert PINNED["govuk-frontend"].startswith("5.") and PINNED["leaflet"] == "1.9.4"
    assert PINNED["axe-core"].startswith("4.") and PINNED["sass"].startswith("1.")
    lock = json.loads((ROOT / "assets" / "package-lock.json").read_text())
    for name, version in PINNED.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_vendored_versions_equal_the_pins():
    rows = _versions()
    assert set(rows) == {"govuk-frontend", "leaflet"}  # axe-core is for tests only, never shipped
    for name, (version, licence, files, licence_file) in rows.items():
        assert version == PINNED[name], name
        assert licence and (VENDOR / licence_file).is_file(), name
        for file in files.split():
            assert (VENDOR / file).exists(), file
    assert f'const version="{PINNED["govuk-frontend"]}"' in (VENDOR / "govuk-frontend.min.js").read_text()
    assert f"Leaflet {PINNED['leaflet']}," in (VENDOR / "leaflet" / "leaflet.js").read_text()[:300]
    assert not list(STATIC.rglob("axe*"))
