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


@pytest.mark.parametrize("lib", ["criteria", "channels", "geo"])
def test_no_import_cycles_inside_the_pure_libraries(lib):
    """No module of a pure library imports one that imports it back (directly or around a loop; imports for
    type checking only count too)."""
    package = ROOT / lib
    modules = {f"{lib}.{p.stem}" if p.stem != "__init__" else lib: p for p in package.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = lib if path.stem == "__init__" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*here.split(".")[: len(here.split(".")) - node.level + 1], *filter(None, [base])])
                targets |= {base} | {f"{base}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name and t != lib}

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = cycle_from(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    cycles = [c for name in graph if (c := cycle_from(name, name, (name,)))]
    assert cycles == []
