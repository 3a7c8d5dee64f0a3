"""Limits on what a request may carry, checked before anything parses it deeply or sends it to the database.

- JSON nesting: at most ``MAX_JSON_DEPTH`` arrays/objects deep, found by a linear scan of the brackets outside
  strings *before* ``json.loads`` (whose recursion would otherwise end in a RecursionError): 400.
- Strings (JSON strings and keys, query and form values): no NUL (PostgreSQL text cannot hold U+0000) and no
  lone surrogate (not encodable as UTF-8, so no driver can send it): 422 naming the field.
- Path values: an id must be well-formed for its kind (a uuid for ``case_id``, ``alert_id``, ``sub_id``; a short
  token of ``[A-Za-z0-9_.-]`` for any other ``*_id``; at most ``MAX_INT_ID`` for an ``<int:...>``); any other path
  value is printable and at most ``MAX_PATH_VALUE`` characters. Anything else cannot name a row: 404 before any
  query.
- Field errors listed in a 422: at most ``errors.MAX_LISTED_ERRORS``, with the total count beside them.

The request body size is capped by ``server.max_request_bytes`` (Flask's ``MAX_CONTENT_LENGTH``): 413.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

MAX_JSON_DEPTH = 64
MAX_PATH_VALUE = 512
MAX_INT_ID = 2**31 - 1  # integer keys in a path are PostgreSQL ``integer`` columns (bigger cannot be bound)

_STEPS = np.zeros(256, dtype=np.int8)
_STEPS[[ord("["), ord("{")]] = 1
_STEPS[[ord("]"), ord("}")]] = -1
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_BAD_PATH_CHAR = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_SHORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
UUID_KINDS = frozenset({"case_id", "alert_id", "sub_id"})  # primary keys made by models.new_id()


class TooDeep(ValueError):
    pass


def nesting_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` opens more than ``limit`` arrays/objects inside one another.

    Brackets inside strings do not count. Vectorised and linear in ``len(raw)`` (a megabyte in milliseconds):
    a quote not escaped by an odd run of backslashes opens or closes a string; the depth is the running sum
    of the brackets outside strings. Where the text is not valid JSON the parser stops at the first bad
    character, and up to there this reading is the parser's own.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    data = np.frombuffer(raw, dtype=np.uint8)
    toggles = data == 0x22
    if b"\\" in raw:
        positions = np.arange(data.size)
        # index of the last byte that is not a backslash, at or before each position (-1: none)
        last_plain = np.maximum.accumulate(np.where(data == 0x5C, -1, positions))
        run_before = np.zeros(data.size, dtype=np.int64)  # backslashes right before each byte
        run_before[1:] = positions[:-1] - last_plain[:-1]
        toggles &= run_before % 2 == 0
    inside = (np.cumsum(toggles) - toggles) % 2 == 1  # within a string (an opening quote is not)
    steps = _STEPS[data]
    steps[inside] = 0
    return bool(np.cumsum(steps, dtype=np.int64).max() > limit)


def load_json(raw: bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` behind the nesting check: ``TooDeep`` or ``ValueError`` (malformed), never RecursionError."""
    if nesting_exceeds(raw, limit):
        raise TooDeep(f"The body is nested too deeply (more than {limit} arrays or objects inside one another).")
    try:
        return json.loads(raw)
    except RecursionError:  # the last line: a text the scan did not read as this parser does
        raise TooDeep(f"The body is nested too deeply (more than {limit} arrays or objects inside one another)."
                      ) from None


def string_problem(value: str) -> str | None:
    """Why a string cannot be stored or sent on: NUL, or a lone surrogate; None when it is fine."""
    m = _BAD_CHAR.search(value)
    if m is None:
        return None
    if m.group() == "\x00":
        return "must not contain the NUL character (U+0000)"
    return "must not contain a lone surrogate (not valid Unicode text)"


def printable(value: str) -> str:
    """``value`` with NUL, control characters and lone surrogates written as ``\\uXXXX`` (for error messages)."""
    return _BAD_PATH_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def string_problems(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location, message) for every bad string among the keys and values of decoded JSON (iterative walk)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, str):
            problem = string_problem(node)
            if problem:
                yield loc, problem
        elif isinstance(node, dict):
            items = []
            for key, value in node.items():
                problem = string_problem(key)
                if problem:
                    yield loc + (printable(key),), f"the field name {problem}"
                items.append((loc + (key,), value))
            stack.extend(reversed(items))
        elif isinstance(node, list):
            stack.extend(reversed([(loc + (i,), v) for i, v in enumerate(node)]))


def path_value_ok(name: str, value: Any) -> bool:
    """Whether a path variable could name something: ids well-formed for their kind, other values printable."""
    if isinstance(value, int):  # <int:...>: werkzeug checked the digits, not the size
        return 0 <= value <= MAX_INT_ID
    if not isinstance(value, str):
        return True  # another converter already checked it
    if name in UUID_KINDS:
        return _UUID.match(value) is not None
    if name.endswith("_id"):
        return _SHORT_ID.match(value) is not None
    return 0 < len(value) <= MAX_PATH_VALUE and _BAD_PATH_CHAR.search(value) is None
