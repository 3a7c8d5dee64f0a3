"""Located validation problems, and the error that carries all of them.

A profile is checked completely before it is rejected, so an author fixing a
file sees every mistake at once rather than one per run. Each problem names
where it is with a path into the parsed document, such as
``criteria[2].params.value``; a TOML syntax error has no such path and carries
a line and column instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a profile, and where it is.

    ``path`` is a dotted/indexed location in the document (``""`` for the
    document as a whole); ``line``/``column`` are set for syntax errors.
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        """Where the problem is, as shown to a profile author."""
        if self.line is not None:
            return f"line {self.line}, column {self.column}"
        return self.path or "(file)"

    def to_dict(self) -> dict[str, object]:
        """JSON-able form, for the CLI's machine-readable output or an API."""
        return {"path": self.path, "message": self.message, "line": self.line, "column": self.column}

    def __str__(self) -> str:
        if self.line is not None:  # a syntax error's message already names its line and column
            return self.message
        return f"{self.location}: {self.message}"


class ProfileError(Exception):
    """A profile could not be loaded; ``problems`` lists every reason why."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid criteria profile {source} ({len(self.problems)} problem(s)):\n{listed}")
