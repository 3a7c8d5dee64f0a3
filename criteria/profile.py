"""Criteria profiles: parse, validate and load them from TOML files.

A profile is the complete, versioned statement of when an alert may be sent:
its criteria (each a rule over case facts), the approval checklist a
supervisor must answer, and the published sources it follows. Its
``version`` is the SHA-256 of the file's bytes, so every evaluation can be
traced to the exact text that produced it, comments included.

Validation collects *all* problems before failing (see
:class:`~criteria.problems.ProfileError`); the file format is documented in
the package docstring of :mod:`criteria`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from types import MappingProxyType

from .problems import Problem, ProfileError
from .rules import Outcome, apply_rule, check_rule, rule_fields

SLUG = re.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$")
_SLUG_MAX = 64
_BUILTIN_PACKAGE = "criteria"
_BUILTIN_DIR = "profiles"


# --------------------------------------------------------------------------- #
# Model


def _freeze(value: object) -> object:
    """Deep, read-only copy of TOML data so a loaded profile cannot be mutated."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(key): _freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: object) -> object:
    """Plain dict/list copy of frozen data, for JSON output."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


@dataclass(frozen=True)
class Source:
    """A published document a profile follows, cited by name and URL."""

    id: str
    name: str
    url: str
    note: str = ""

    def to_public(self) -> dict[str, str]:
        """JSON-able form."""
        return {"id": self.id, "name": self.name, "url": self.url, "note": self.note}


@dataclass(frozen=True)
class ChecklistItem:
    """A benefit/harm question the approving supervisor must answer."""

    id: str
    text: str


@dataclass(frozen=True)
class Criterion:
    """One condition of a profile: a rule over facts, with the text a supervisor reads.

    Non-required criteria are evaluated and shown, but do not decide whether
    the profile is met. ``sources`` are ids of the profile's sources this
    criterion follows; ``note`` records why it is written this way.
    Constructing a criterion validates its rule and parameters (raising
    :class:`ProfileError`) and freezes ``params``.
    """

    id: str
    text: str
    rule: str
    params: Mapping[str, object]
    required: bool = True
    sources: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        problems = check_rule(self.rule, self.params, "rule")
        if problems:
            raise ProfileError(f"criterion {self.id!r}", problems)
        object.__setattr__(self, "params", _freeze(self.params))
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def fields(self) -> frozenset[str]:
        """The fact keys this criterion reads; no other fact can change its verdict."""
        return rule_fields(self.rule, self.params)

    def apply(self, facts: Mapping[str, object], now: datetime) -> Outcome:
        """Evaluate this criterion's rule against the facts."""
        return apply_rule(self.rule, self.params, facts, now)

    def to_public(self) -> dict[str, object]:
        """JSON-able form, as listed in :meth:`Profile.to_public`."""
        return {
            "id": self.id,
            "text": self.text,
            "rule": self.rule,
            "params": _thaw(self.params),
            "required": self.required,
        }


@dataclass(frozen=True)
class Profile:
    """A loaded, validated criteria profile; ``version`` is the file's SHA-256."""

    id: str
    title: str
    version: str
    description: str
    criteria: tuple[Criterion, ...]
    approval_checklist: tuple[ChecklistItem, ...]
    sources: tuple[Source, ...] = field(default=())

    def __post_init__(self) -> None:
        ids = [criterion.id for criterion in self.criteria]
        if not ids or len(set(ids)) != len(ids):
            raise ProfileError(
                f"profile {self.id!r}", [Problem("criteria", "criteria must be non-empty with unique ids")]
            )

    def to_public(self) -> dict[str, object]:
        """JSON-able description of the profile, for the API and the approval screen."""
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "description": self.description,
            "criteria": [criterion.to_public() for criterion in self.criteria],
            "approval_checklist": [{"id": item.id, "text": item.text} for item in self.approval_checklist],
            "sources": [source.to_public() for source in self.sources],
        }


# --------------------------------------------------------------------------- #
# Parsing and validation


def parse_profile(data: bytes, *, source: str = "<bytes>") -> Profile:
    """Build a profile from the bytes of a TOML file; raise ProfileError listing every problem."""
    profile, problems = validate_profile_bytes(data)
    if profile is None:
        raise ProfileError(source, problems)
    return profile


def validate_profile_bytes(data: bytes) -> tuple[Profile | None, list[Problem]]:
    """Return ``(profile, [])`` for a valid file, or ``(None, problems)``; never raises."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [Problem("", f"file is not UTF-8 text (byte {error.start})")]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [_syntax_problem(error)]
    builder = _Builder(document)
    profile = builder.build(hashlib.sha256(data).hexdigest())
    return (profile, []) if not builder.problems else (None, builder.problems)


_TOML_POSITION = re.compile(r"^(?P<what>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$", re.DOTALL)


def _syntax_problem(error: tomllib.TOMLDecodeError) -> Problem:
    message = str(error)
    match = _TOML_POSITION.match(message)
    if match is None:
        return Problem("", f"TOML syntax error: {message}")
    line, column = int(match["line"]), int(match["column"])
    return Problem("", f"TOML syntax error at line {line}, column {column}: {match['what']}", line=line, column=column)


_TOP_REQUIRED = ("id", "title", "description", "criteria", "approval_checklist")
_TOP_OPTIONAL = ("sources",)
_SOURCE_KEYS = (("id", "name", "url"), ("note",))
_CRITERION_KEYS = (("id", "text", "rule"), ("params", "required", "sources", "note"))
_CHECKLIST_KEYS = (("id", "text"), ())


class _Builder:
    """Walks a parsed TOML document, recording every problem with its path."""

    def __init__(self, document: Mapping[str, object]) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def build(self, version: str) -> Profile | None:
        doc = self.document
        self._keys(doc, "", _TOP_REQUIRED, _TOP_OPTIONAL)
        profile_id = self._slug(doc, "id", "")
        title = self._text(doc, "title", "")
        description = self._text(doc, "description", "")
        sources = self._sources(doc.get("sources", []))
        criteria = self._criteria(doc.get("criteria"), {source.id for source in sources})
        checklist = self._checklist(doc.get("approval_checklist"))
        if self.problems:
            return None
        return Profile(profile_id, title, version, description, criteria, checklist, sources)

    # -- generic checks -------------------------------------------------------

    def _add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def _keys(self, table: Mapping[str, object], path: str, required: Sequence[str], optional: Sequence[str]) -> None:
        prefix = f"{path}." if path else ""
        for key in required:
            if key not in table:
                self._add(f"{prefix}{key}", "missing required key")
        for key in table:
            if key not in (*required, *optional):
                self._add(f"{prefix}{key}", f"unknown key; allowed: {', '.join((*required, *optional))}")

    def _text(self, table: Mapping[str, object], key: str, path: str, *, optional: bool = False) -> str:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if value is None:
            return ""  # missing required keys are reported by _keys
        if not isinstance(value, str) or (not optional and not value.strip()):
            self._add(where, "must be a non-empty string" if not optional else "must be a string")
            return ""
        return value.strip()

    def _slug(self, table: Mapping[str, object], key: str, path: str) -> str:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not SLUG.match(value) or len(value) > _SLUG_MAX:
            self._add(
                where,
                f"must be a slug: lowercase letters and digits separated by '_' or '-', at most {_SLUG_MAX} characters",
            )
            return ""
        return value

    def _tables(self, value: object, path: str, *, non_empty: bool) -> list[Mapping[str, object]]:
        """The entries of an array of tables; reports a wrong shape and skips bad entries."""
        if value is None:
            return []
        if not isinstance(value, list) or (non_empty and not value):
            self._add(
                path,
                "must be a non-empty array of tables ([[" + path + "]])" if non_empty else "must be an array of tables",
            )
            return []
        tables = []
        for index, entry in enumerate(value):
            if isinstance(entry, Mapping):
                tables.append(entry)
            else:
                self._add(f"{path}[{index}]", "must be a table")
                tables.append({})
        return tables

    def _unique(self, ids: list[str], path: str) -> None:
        seen: dict[str, int] = {}
        for index, item_id in enumerate(ids):
            if not item_id:
                continue
            if item_id in seen:
                self._add(f"{path}[{index}].id", f"duplicate id {item_id!r} (first used at {path}[{seen[item_id]}])")
            else:
                seen[item_id] = index

    # -- sections -------------------------------------------------------------

    def _sources(self, value: object) -> tuple[Source, ...]:
        sources = []
        for index, table in enumerate(self._tables(value, "sources", non_empty=False)):
            path = f"sources[{index}]"
            self._keys(table, path, *_SOURCE_KEYS)
            url = self._text(table, "url", path)
            if url and not url.startswith(("https://", "http://")):
                self._add(f"{path}.url", "must be an http(s) URL")
            source_id, name = self._slug(table, "id", path), self._text(table, "name", path)
            sources.append(Source(source_id, name, url, self._text(table, "note", path, optional=True)))
        self._unique([source.id for source in sources], "sources")
        return tuple(sources)

    def _criteria(self, value: object, source_ids: set[str]) -> tuple[Criterion, ...]:
        tables = self._tables(value, "criteria", non_empty=True)
        criteria = []
        for index, table in enumerate(tables):
            path = f"criteria[{index}]"
            self._keys(table, path, *_CRITERION_KEYS)
            criterion_id = self._slug(table, "id", path)
            text = self._text(table, "text", path)
            required = table.get("required", True)
            if not isinstance(required, bool):
                self._add(f"{path}.required", "must be true or false")
            cited = self._cited_sources(table.get("sources", []), f"{path}.sources", source_ids)
            note = self._text(table, "note", path, optional=True)
            if "rule" not in table:
                continue
            params = table.get("params", {})
            rule_problems = check_rule(table["rule"], params, path)
            self.problems.extend(rule_problems)
            if not rule_problems and criterion_id and isinstance(required, bool) and isinstance(params, Mapping):
                criteria.append(Criterion(criterion_id, text, str(table["rule"]), params, required, cited, note))
        ids = [table.get("id") for table in tables]
        self._unique([table_id if isinstance(table_id, str) else "" for table_id in ids], "criteria")
        if tables and not any(table.get("required", True) is True for table in tables):
            self._add("criteria", "at least one criterion must be required, or every case would be approved")
        return tuple(criteria)

    def _cited_sources(self, value: object, path: str, source_ids: set[str]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self._add(path, "must be a list of source ids")
            return ()
        for index, item in enumerate(value):
            if item not in source_ids:
                self._add(f"{path}[{index}]", f"unknown source id {item!r}; define it in [[sources]]")
        return tuple(value)

    def _checklist(self, value: object) -> tuple[ChecklistItem, ...]:
        items = []
        for index, table in enumerate(self._tables(value, "approval_checklist", non_empty=True)):
            path = f"approval_checklist[{index}]"
            self._keys(table, path, *_CHECKLIST_KEYS)
            items.append(ChecklistItem(self._slug(table, "id", path), self._text(table, "text", path)))
        self._unique([item.id for item in items], "approval_checklist")
        return tuple(items)


# --------------------------------------------------------------------------- #
# Loading


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate a profile file; raise ProfileError listing every problem.

    This is the only function in the package that performs I/O.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ProfileError(str(path), [Problem("", f"cannot read profile file: {error.strerror or error}")]) from error
    return parse_profile(data, source=str(path))


def builtin_profile_ids() -> list[str]:
    """Ids of the profiles shipped inside the package, sorted."""
    folder = resources.files(_BUILTIN_PACKAGE) / _BUILTIN_DIR
    return sorted(
        entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml") and entry.is_file()
    )


def load_builtin_profile(profile_id: str) -> Profile:
    """Load a shipped profile by id via importlib.resources (works from a wheel or zip)."""
    known = builtin_profile_ids()
    if profile_id not in known:
        raise ProfileError(
            repr(profile_id), [Problem("", f"unknown built-in profile {profile_id!r}; known: {', '.join(known)}")]
        )
    resource = resources.files(_BUILTIN_PACKAGE) / _BUILTIN_DIR / f"{profile_id}.toml"
    profile = parse_profile(resource.read_bytes(), source=f"built-in profile {profile_id!r}")
    if profile.id != profile_id:
        raise ProfileError(
            f"built-in profile {profile_id!r}",
            [Problem("id", f"id {profile.id!r} does not match file name {profile_id!r}")],
        )
    return profile


def resolve_profile(value: str) -> Profile:
    """A built-in profile id (e.g. ``"abduction"``) or else a path to a profile file."""
    if value in builtin_profile_ids():
        return load_builtin_profile(value)
    if SLUG.match(value) and not os.path.exists(value):
        known = ", ".join(builtin_profile_ids())
        raise ProfileError(
            repr(value),
            [Problem("", f"{value!r} is neither a built-in profile ({known}) nor an existing file")],
        )
    return load_profile(value)
