"""What a user gets from `pip install .` (not editable): profiles, templates, migrations and the region
catalogue ship inside the installed package and work from there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, and everything the build printed (-v: pip passes setuptools' warnings on)."""
    out = tmp_path_factory.mktemp("wheel")
    # From a clean copy of the sources: setuptools reuses a checkout's build/lib, whose stale files would ship
    # (and hide a data file that pyproject no longer declares).
    source = tmp_path_factory.mktemp("source") / "alertsvc"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "*.egg-info", "var", "node_modules", "__pycache__", ".cache",
        ".pytest_cache", ".mypy_cache", ".ruff_cache"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v", "-w",
                           str(out), str(source)], check=True, capture_output=True, text=True)
    return next(out.glob("alertsvc-*.whl")), done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(build: tuple[Path, str]) -> Path:
    return build[0]


def test_build_declares_every_data_folder(build: tuple[Path, str]):
    """No setuptools "Package would be ignored" warning: every shipped data file is declared package data."""
    log = build[1]
    assert "would be ignored" not in log and "is absent from the `packages` configuration" not in log, log


def test_wheel_ships_data_files(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "criteria/profiles/abduction.toml" in names
    assert "criteria/profiles/expanded.toml" in names
    assert {"geo/data/serbia-districts.geojson", "geo/data/serbia-districts.LICENSE"} <= names
    assert any(n.startswith("alertsvc/migrations/versions/0001") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    assert any(n.startswith("alertsvc/templates/") for n in names)
    # every template, in any subfolder, and nothing else from the templates folder
    templates = {str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*") if p.is_file()}
    shipped = {n.removeprefix("alertsvc/templates/") for n in names if n.startswith("alertsvc/templates/")}
    assert templates <= shipped, templates - shipped
    # the console's front-end assets, built by scripts/build-assets.sh and committed: the wheel needs no npm
    assert {"alertsvc/static/css/app.css", "alertsvc/static/vendor/leaflet/leaflet.js",
            "alertsvc/static/vendor/govuk-frontend.min.js", "alertsvc/static/js/map.js"} <= names
    static = {str(p.relative_to(ROOT)) for p in (ROOT / "alertsvc" / "static").rglob("*") if p.is_file()}
    assert static <= names, static - names
    # the console's compiled catalogues: without them an installed console is English only
    for locale in ("sr_Latn", "sr_Cyrl", "en"):
        assert f"alertsvc/translations/{locale}/LC_MESSAGES/messages.mo" in names, locale
    # every Python file of the four packages is in the wheel (a package missing from pyproject's list fails here)
    for lib in ("alertsvc", "criteria", "channels", "geo"):
        for path in (ROOT / lib).rglob("*.py"):
            assert str(path.relative_to(ROOT)) in names, path


def test_installed_package_works_outside_the_source_tree(wheel: Path, tmp_path: Path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "ALERTSVC_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    code = ("import sys; target = sys.argv.pop(1); import alertsvc, criteria, geo;"
            "assert alertsvc.__file__.startswith(target), alertsvc.__file__;"
            "assert len(geo.default_catalogue().codes()) == 30;"
            "from alertsvc.cli import main; main()")
    run = lambda *args: subprocess.run([sys.executable, "-c", code, str(target), *args], cwd=tmp_path, env=env,  # noqa: E731
                                       capture_output=True, text=True)
    up = run("db", "upgrade")
    assert up.returncode == 0, up.stderr
    shown = run("criteria", "show")
    assert shown.returncode == 0 and '"abduction"' in shown.stdout, shown.stderr
    # the installed console: its pages in Serbian Cyrillic from the shipped catalogue, its styles served
    page = ("import sys; target = sys.argv.pop(1); import alertsvc; assert alertsvc.__file__.startswith(target);"
            "from alertsvc.app import create_app; c = create_app().test_client();"
            "c.set_cookie('alertsvc_lang', 'sr-Cyrl');"
            "assert c.get('/static/css/app.css').status_code == 200;"
            "print(c.get('/sign-in').get_data(as_text=True))")
    shown = subprocess.run([sys.executable, "-c", page, str(target)], cwd=tmp_path, env=env, capture_output=True,
                           text=True)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert 'lang="sr-Cyrl"' in shown.stdout and "Пријави се" in shown.stdout
