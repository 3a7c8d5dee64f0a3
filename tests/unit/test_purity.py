"""criteria, channels and geo are pure libraries: no Flask, no database, no alertsvc."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "sqlmodel", "sqlalchemy", "alertsvc", "psycopg", "alembic", "werkzeug")


@pytest.mark.parametrize("lib", ["criteria", "channels", "geo"])
def test_no_forbidden_imports_in_source(lib):
    offenders = []
    for path in (ROOT / lib).rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                          if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_pure_libraries_loads_no_framework():
    code = ("import sys, criteria, channels, geo\n"
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
