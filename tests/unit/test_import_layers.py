"""Which alertsvc module may import which: the layers of the module map (``STYLE.md``), checked on the source.

Every import counts, at module level or inside a function (a function-level import does not hide a cycle). Each
rule names the modules it governs (a dotted prefix) and either what they must not import (``FORBIDDEN``) or the
only alertsvc modules they may import (``ONLY``). ``EXCEPTIONS`` lists the imports a rule lets through, each with
why; one that no longer happens fails the test, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "alertsvc"

# (governed modules, imports they must not make, why)
FORBIDDEN: list[tuple[str, tuple[str, ...], str]] = [
    # --- api / web / services / store --------------------------------------------------------------------
    ("alertsvc.services", ("alertsvc.api", "alertsvc.web", "alertsvc.app", "alertsvc.context", "flask"),
     "services know nothing of HTTP: the blueprints call them, never the other way"),
    ("alertsvc.api", ("alertsvc.web", "alertsvc.db", "sqlalchemy", "sqlmodel"),
     "API views parse, call a service or store function and serialise: no session, no SQL; the API never "
     "imports the pages"),
    ("alertsvc.web", ("alertsvc.db", "sqlalchemy", "sqlmodel"),
     "page views parse, call a service or store function and render: no session, no SQL"),
    ("alertsvc.audit", ("alertsvc.services", "alertsvc.api", "alertsvc.web", "alertsvc.dispatch"),
     "the audit chain sits under the services"),
    # --- dispatch --------------------------------------------------------------------------------------------
    ("alertsvc.dispatch", ("alertsvc.services", "alertsvc.api", "alertsvc.web", "alertsvc.app", "alertsvc.cli",
                           "alertsvc.jobs", "alertsvc.context", "flask"),
     "dispatch sits under the services (they call the fan-out) and under the wiring (which hands the scheduler "
     "its jobs): it decides and sends, the store reads and writes"),
]

# (governed modules, the only alertsvc modules they may import, why)
ONLY: list[tuple[str, tuple[str, ...], str]] = [
    ("alertsvc.store", ("alertsvc.store", "alertsvc.models", "alertsvc.db", "alertsvc.audit"),
     "the store is the bottom of the application: queries over the models, nothing above them"),
    ("alertsvc.web", ("alertsvc.web", "alertsvc.services", "alertsvc.store", "alertsvc.context", "alertsvc.errors",
                      "alertsvc.templating", "alertsvc.messages", "alertsvc.log", "alertsvc.models",
                      "alertsvc.api.registry", "alertsvc.audit", "alertsvc.schemas", "alertsvc.http_cache"),
     "pages call services or the store (and name the languages, the acting staff member's type ``audit.Actor`` "
     "and the input models the API validates with, so a form and a JSON body obey one set of rules); of the API "
     "only the OpenAPI declarations (web/cap_docs.py)"),
]

# (importing module, imported module): why the rule lets it through for now
EXCEPTIONS: dict[tuple[str, str], str] = {
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from x import y`` counts as ``x`` and, when it is a module, ``x.y``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            found.add(module)
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                if (ROOT / Path(*candidate.split("."))).with_suffix(".py").is_file() or \
                        (ROOT / Path(*candidate.split("."))).is_dir():
                    found.add(candidate)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def _violations() -> tuple[list[str], set[tuple[str, str]]]:
    out, excused = [], set()
    for module, imported in GRAPH.items():
        for target in sorted(imported):
            reasons = [why for prefix, banned, why in FORBIDDEN
                       if _under(module, prefix) and any(_under(target, b) for b in banned)]
            reasons += [why for prefix, allowed, why in ONLY
                        if _under(module, prefix) and _under(target, "alertsvc") and target != "alertsvc"
                        and not any(_under(target, a) for a in allowed)]
            if not reasons:
                continue
            if (module, target) in EXCEPTIONS:
                excused.add((module, target))
                continue
            out += [f"{module} imports {target}: {why}" for why in reasons]
    return out, excused


def test_layers():
    violations, _ = _violations()
    assert violations == []


def test_every_exception_is_still_needed():
    _, excused = _violations()
    assert sorted(set(EXCEPTIONS) - excused) == []


@pytest.mark.parametrize("package", ["alertsvc.api", "alertsvc.web", "alertsvc.services", "alertsvc.store"])
def test_no_function_level_imports_of_alertsvc(package):
    """Imports of our own modules are at the top of the module: a cycle is restructured, not hidden."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if not _under(name, package):
            continue
        for fn in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                offenders += [f"{name}:{node.lineno}" for node in ast.walk(fn)
                              if isinstance(node, ast.ImportFrom) and (node.level or
                                                                      (node.module or "").startswith("alertsvc"))]
    assert offenders == []


def _part(module: str) -> str:
    """The part of the application a module belongs to: ``alertsvc.services``, ``alertsvc.models``, ``geo``..."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "alertsvc" and len(parts) > 1 else parts[0]


def test_no_part_imports_a_part_that_imports_it_back():
    """Issue 10's done-when: no package imports another that imports it back (api, web, services, store,
    dispatch and every top-level module, and the pure libraries)."""
    edges: set[tuple[str, str]] = set()
    for top in ("alertsvc", "criteria", "geo", "channels"):
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            here = _part(_module_name(path))
            for imported in _imports(path):
                if imported.split(".")[0] in ("alertsvc", "criteria", "geo", "channels"):
                    there = _part(imported)
                    if there != here:
                        edges.add((here, there))
    both_ways = sorted({tuple(sorted((a, b))) for a, b in edges if (b, a) in edges})
    assert both_ways == []
