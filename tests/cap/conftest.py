"""The official OASIS CAP 1.2 XSD, fetched by scripts/fetch-cap-xsd.sh into .cache/cap/ and loaded with lxml.

The schema is required: when it cannot be fetched or loaded the tests fail, they never skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
FETCH_SCRIPT = ROOT / "scripts" / "fetch-cap-xsd.sh"
CAP_XSD = ROOT / ".cache" / "cap" / "CAP-v1.2-schema.xsd"


@pytest.fixture(scope="session")
def cap_schema() -> etree.XMLSchema:
    # The script is idempotent and cheap when the XSD is present with the pinned hash; it (re)fetches otherwise.
    try:
        proc = subprocess.run(["bash", str(FETCH_SCRIPT)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "PYTHON": sys.executable})
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{FETCH_SCRIPT.name} could not run: {exc}", pytrace=False)
    if proc.returncode != 0 or not CAP_XSD.is_file():
        pytest.fail(f"{FETCH_SCRIPT.name} failed (exit {proc.returncode}); the CAP 1.2 XSD is required.\n"
                    f"{proc.stdout}{proc.stderr}", pytrace=False)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(CAP_XSD), parser))


@pytest.fixture(scope="session")
def validate_cap(cap_schema: etree.XMLSchema) -> Callable[[bytes | etree._Element], list[str]]:
    """Validates a CAP document (bytes or an lxml element); returns the schema errors, [] when valid."""

    def validate(doc: bytes | etree._Element) -> list[str]:
        tree = etree.fromstring(doc, etree.XMLParser(resolve_entities=False, no_network=True)) \
            if isinstance(doc, bytes) else doc
        if cap_schema.validate(tree):
            return []
        return [f"line {e.line}: {e.message}" for e in cap_schema.error_log]

    return validate
