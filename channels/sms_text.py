"""SMS text: GSM-7 / UCS-2 encoding and segment counting, Serbian transliteration,
and building a message that fits a segment budget. Pure functions, no I/O.

Segment rules (3GPP TS 23.038 / 23.040, as carriers and Twilio apply them):

* GSM-7 when every character is in the default alphabet or its extension table.
  One segment holds 160 septets; a concatenated message holds 153 per part.
  Extension characters (``€ [ ] { } \\ ^ ~ |`` and form feed) take two septets
  (escape + code) and are never split across parts.
* UCS-2 otherwise. One segment holds 70 UTF-16 code units; a concatenated message
  holds 67 per part. Characters outside the BMP (most emoji) take two code units
  (a surrogate pair) and are never split across parts.

An empty text counts as one segment: it is still one SMS.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENDED",
    "Field",
    "Fitted",
    "SmsInfo",
    "analyse",
    "cyrillic_to_latin",
    "encoding",
    "fit_to_budget",
    "is_gsm7",
    "segments",
    "to_gsm7",
    "transliterate_latin",
]

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x00-0x1F without 0x1B (escape)
    " !\"#¤%&'()*+,-./0123456789:;<=>?"  # 0x20-0x3F
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"  # 0x40-0x5F
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"  # 0x60-0x7F
)
"""The GSM 03.38 default alphabet (one septet each); the escape code 0x1B is not text."""

GSM7_EXTENDED: frozenset[str] = frozenset("\f^{}\\[~]|€")
"""The GSM 03.38 default extension table (escape + code: two septets each)."""

_LIMITS: dict[str, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsInfo:
    """How a text travels as SMS.

    ``characters`` counts code points (what a person sees, roughly); ``units`` counts
    what the segment limits count: septets for GSM-7, UTF-16 code units for UCS-2.
    """

    encoding: Encoding
    segments: int
    characters: int
    units: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` can be sent in GSM-7."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when the text fits the GSM default alphabet, else ``"UCS-2"``."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _widths(text: str, enc: Encoding) -> list[int]:
    if enc == "GSM-7":
        return [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _count_parts(widths: Iterable[int], single: int, part: int) -> tuple[int, int]:
    """(segments, units): one segment if everything fits ``single``, else parts of
    ``part`` units filled in order, never splitting one character's units."""
    widths = list(widths)
    total = sum(widths)
    if total <= single:
        return 1, total
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, width
        else:
            used += width
    return parts, total


def analyse(text: str) -> SmsInfo:
    """Encoding, segment count, characters and units of ``text``."""
    enc = encoding(text)
    single, part = _LIMITS[enc]
    count, units = _count_parts(_widths(text, enc), single, part)
    return SmsInfo(encoding=enc, segments=count, characters=len(text), units=units)


def segments(text: str) -> int:
    """Number of SMS segments ``text`` is sent as (at least 1)."""
    return analyse(text).segments


# --- transliteration -------------------------------------------------------------

_LATIN_SINGLE = str.maketrans(
    {
        "č": "c", "ć": "c", "š": "s", "ž": "z",
        "Č": "C", "Ć": "C", "Š": "S", "Ž": "Z",
        "đ": "dj",
        "ǆ": "dz", "ǅ": "Dz", "Ǆ": "DZ",  # single-code-point digraphs (U+01C4-U+01CC)
        "ǉ": "lj", "ǈ": "Lj", "Ǉ": "LJ",
        "ǌ": "nj", "ǋ": "Nj", "Ǌ": "NJ",
    }
)  # fmt: skip

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž",
    "з": "z", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
    "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip
_CYRILLIC_DIGRAPH_UPPER = {"Љ": ("Lj", "LJ"), "Њ": ("Nj", "NJ"), "Џ": ("Dž", "DŽ")}


def _caps_context(text: str, i: int) -> bool:
    """Whether the letter at ``i`` stands in an all-caps word (next letter upper
    case, or it ends the word and the previous letter is upper case)."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt.isalpha():
        return nxt.isupper()
    prev = text[i - 1] if i > 0 else ""
    return prev.isalpha() and prev.isupper()


def cyrillic_to_latin(text: str) -> str:
    """Serbian Cyrillic to Serbian Latin (гајица): ``Љубав`` -> ``Ljubav``,
    ``ЉУБАВ`` -> ``LJUBAV``, ``џеп`` -> ``džep``. Other characters are kept."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _CYRILLIC_DIGRAPH_UPPER:
            title, upper = _CYRILLIC_DIGRAPH_UPPER[ch]
            out.append(upper if _caps_context(text, i) else title)
        elif ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch.lower() in _CYRILLIC:
            out.append(_CYRILLIC[ch.lower()].upper())
        else:
            out.append(ch)
    return "".join(out)


def transliterate_latin(text: str) -> str:
    """Serbian Latin diacritics to ASCII: č/ć -> c, š -> s, ž -> z, đ -> dj,
    Đ -> Dj (DJ in an all-caps word), DŽ -> DZ, and the digraph code points
    ǅ/ǈ/ǋ and friends. Other characters are kept (composed forms first, NFC)."""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "Đ":
            out.append("DJ" if _caps_context(text, i) else "Dj")
        else:
            out.append(ch.translate(_LATIN_SINGLE))
    return "".join(out)


_TYPOGRAPHY = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "`": "'", "´": "'",
        "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-", "•": "-",
        "…": "...", "\t": " ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
        "ł": "l", "Ł": "L", "œ": "oe", "Œ": "OE", "ı": "i",
    }
)  # fmt: skip


def _to_gsm7_char(ch: str) -> str:
    if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
        return ch
    stripped = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if stripped and is_gsm7(stripped):
        return stripped
    return "?"


def to_gsm7(text: str) -> str:
    """Any text to GSM-7: Serbian Cyrillic and Latin transliterated, typographic
    quotes and dashes made plain, other accents stripped; anything left that GSM-7
    cannot carry becomes ``?``. Characters GSM-7 has (é, ü, Ä, ...) are kept."""
    text = transliterate_latin(cyrillic_to_latin(text)).translate(_TYPOGRAPHY)
    return "".join(_to_gsm7_char(ch) for ch in text)


# --- fitting a message to a segment budget ---------------------------------------


@dataclass(frozen=True)
class Field:
    """One named piece of a message. Optional fields may be dropped to fit."""

    name: str
    text: str
    required: bool = False


@dataclass(frozen=True)
class Fitted:
    """The message built by :func:`fit_to_budget` and what was given up for it.

    ``dropped`` names the optional fields left out; ``truncated`` names required
    fields that had to be cut at a word boundary (the last resort, marked with an
    ellipsis). ``kept`` names the fields present, in message order.
    """

    text: str
    info: SmsInfo
    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    truncated: tuple[str, ...]


_TRAILING_PUNCTUATION = ",;:-–—"


def _word_prefixes(text: str) -> list[str]:
    """Prefixes of ``text`` that end at a word boundary, longest first, without
    trailing separators; the empty prefix last."""
    cuts = [i for i in range(1, len(text)) if text[i].isspace() and not text[i - 1].isspace()]
    prefixes = [text[:i].rstrip().rstrip(_TRAILING_PUNCTUATION).rstrip() for i in reversed(cuts)]
    return [p for p in prefixes if p] + [""]


def _as_field(item: Field | tuple[str, str, bool]) -> Field:
    if isinstance(item, Field):
        return item
    name, text, required = item
    return Field(name, text, required)


def fit_to_budget(
    fields: Sequence[Field | tuple[str, str, bool]],
    max_segments: int,
    *,
    drop_order: Sequence[str] | None = None,
    separator: str = "\n",
) -> Fitted:
    """Join ``fields`` (in order, by ``separator``) into a text of at most
    ``max_segments`` SMS segments.

    ``fields`` are :class:`Field` objects or ``(name, text, required)`` tuples; each
    text is stripped and empty ones are skipped. While the text is too long, optional
    fields are dropped whole, in ``drop_order`` (names of optional fields; optional
    fields not named follow, last field first; default: last optional field first).
    Words are never cut.

    Only if the required fields alone are too long, the longest required field is
    cut at a word boundary and ends with an ellipsis (``...`` in GSM-7 text, ``…``
    in UCS-2); if even the bare ellipsis is too long, the next longest is cut too.
    That is reported in :attr:`Fitted.truncated`. Encoding is not changed here: pass
    text through :func:`to_gsm7` first to get GSM-7 segment sizes.

    Raises ``ValueError`` for a budget below 1, duplicate or unknown field names, or
    required fields too many to fit even as bare ellipses.
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    given = [_as_field(item) for item in fields]
    names = [f.name for f in given]
    if len(set(names)) != len(names):
        raise ValueError("field names must be unique")
    by_name = {f.name: f for f in given}
    optional = [f.name for f in given if not f.required]
    order = list(drop_order or ())
    if any(name not in by_name or by_name[name].required for name in order):
        raise ValueError("drop_order may only name optional fields")
    order += [name for name in reversed(optional) if name not in order]

    texts = {f.name: f.text.strip() for f in given if f.text.strip()}

    def build(current: dict[str, str]) -> str:
        return separator.join(current[n] for n in names if n in current)

    def fits(text: str) -> bool:
        return segments(text) <= max_segments

    dropped: list[str] = []
    for name in order:
        if fits(build(texts)):
            break
        if name in texts:
            del texts[name]
            dropped.append(name)

    truncated: list[str] = []
    if not fits(build(texts)):
        longest_first = sorted(texts, key=lambda n: len(texts[n]), reverse=True)
        for name in longest_first:
            original = texts[name]
            ellipsis = "..." if is_gsm7(build(texts)) else "…"
            truncated.append(name)
            for prefix in _word_prefixes(original):
                texts[name] = prefix + ellipsis
                if fits(build(texts)):
                    break
            if fits(build(texts)):
                break
        else:
            raise ValueError("required fields cannot fit the budget even when cut")

    text = build(texts)
    return Fitted(
        text=text,
        info=analyse(text),
        kept=tuple(n for n in names if n in texts),
        dropped=tuple(dropped),
        truncated=tuple(truncated),
    )
