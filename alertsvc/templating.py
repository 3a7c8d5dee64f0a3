"""The one Jinja2 environment for messages (``templates/messages/``) and web pages (``templates/web/``).

In a source checkout the templates are the top-level ``templates/`` folder next to the package; an installed
wheel ships that folder as ``alertsvc/templates/`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml).

Autoescaping is on for ``*.html`` templates only: text e-mails and SMS (``*.txt``, ``*.j2``) are plain text
and must not carry HTML entities. ``StrictUndefined`` turns a misspelt variable into an error instead of a
silently empty line in an alert.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

__all__ = ["make_environment", "templates_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """``alertsvc/templates`` when installed from a wheel, else the checkout's top-level ``templates/``."""
    installed = _PACKAGE_DIR / "templates"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "templates"


def make_environment() -> jinja2.Environment:
    """A fresh environment loading from :func:`templates_dir` (template names like ``messages/en/alert.fields.j2``)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
