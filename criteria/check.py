"""Check a profile file and report every problem, for ``alertsvc criteria check FILE``.

Unlike :func:`criteria.load_profile`, checking never raises for a bad file:
an author editing a profile wants the full list of mistakes, each with its
location, and a non-zero exit status, not a traceback. Printing is left to
the caller (the CLI), so this module stays free of I/O beyond reading the
file.
"""

from __future__ import annotations

import os

from .problems import Problem
from .profile import validate_profile_bytes


def check_profile_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem in the profile file at ``path``; an empty list means it is valid."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return [Problem("", f"cannot read profile file: {error.strerror or error}")]
    return validate_profile_bytes(data)[1]


def format_problems(path: str | os.PathLike[str], problems: list[Problem]) -> str:
    """Human report, one ``FILE: LOCATION: MESSAGE`` line per problem (or an OK line)."""
    if not problems:
        return f"{os.fspath(path)}: OK"
    return "\n".join(f"{os.fspath(path)}: {problem}" for problem in problems)
