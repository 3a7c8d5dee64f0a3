#!/usr/bin/env python3
"""Keep the console's catalogues (alertsvc/translations/{sr_Latn,sr_Cyrl,en}/LC_MESSAGES/messages.po) in step with
the code, and compile them.

    python scripts/i18n.py update    # extract the texts, add new ones to every catalogue, fill sr_Cyrl and en, compile
    python scripts/i18n.py check     # what tests/unit/test_translations.py asserts (exit 1 with the problems)
    python scripts/i18n.py fill < T  # sr_Latn texts from lines "English<TAB>Serbian", then update

sr_Latn is written by hand. sr_Cyrl is written out from it here, at authoring time, by Serbian's one-to-one
Latin-Cyrillic correspondence (lj, nj, dž are single letters), and committed: the interface is never
transliterated at run time, and a Cyrillic entry corrected by hand is kept (the script only fills entries whose
Cyrillic is empty or still equals the transliteration of an older Latin text; see ``# cyrillic-by-hand`` below).
en is the source language: its catalogue repeats each text.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "alertsvc" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("sr_Latn", "sr_Cyrl", "en")
HAND_MARK = "cyrillic-by-hand"  # a translator comment on an sr_Cyrl entry that must not be regenerated

_DIGRAPHS = {"Lj": "Љ", "LJ": "Љ", "lj": "љ", "Nj": "Њ", "NJ": "Њ", "nj": "њ", "Dž": "Џ", "DŽ": "Џ", "dž": "џ"}
_LETTERS = dict(zip("ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠabvgdđežzijklmnoprstćufhcčš",
                    "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШабвгдђежзијклмнопрстћуфхцчш", strict=True))
# Left as written: placeholders (%(name)s, {name}), HTML tags and entities, and Latin-script names and codes.
_KEEP = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}|<[^>]+>|&[a-z]+;|\b(?:SMS|CAP|GSM-7|UCS-2|URL|JSON|API|"
                   r"GeoJSON|SVG|CSV|ID|sha256|alertsvc|RS-\d\d|km|UTC|Twilio|e-mail|email|OK)\b")


def to_cyrillic(text: str) -> str:
    out: list[str] = []
    pos = 0
    for keep in _KEEP.finditer(text):
        out.append(_transliterate(text[pos:keep.start()]))
        out.append(keep.group(0))
        pos = keep.end()
    out.append(_transliterate(text[pos:]))
    return "".join(out)


def _transliterate(text: str) -> str:
    result: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _DIGRAPHS:
            result.append(_DIGRAPHS[pair])
            i += 2
            continue
        result.append(_LETTERS.get(text[i], text[i]))
        i += 1
    return "".join(result)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


STAMP = datetime(2026, 12, 6, tzinfo=UTC)  # fixed header dates: a catalogue changes only with its texts


def _write(path: Path, catalog: Catalog) -> None:
    catalog.project, catalog.version, catalog.fuzzy = "alertsvc", "1", False
    catalog.copyright_holder, catalog.msgid_bugs_address = "alertsvc", ""
    catalog.last_translator = catalog.language_team = "alertsvc"
    catalog.creation_date = catalog.revision_date = STAMP
    buf = io.BytesIO()
    write_po(buf, catalog, width=120, sort_output=False, omit_header=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def extract(out: Path = POT) -> Catalog:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output", "--omit-header",
                    "-o", str(out), str(ROOT)], check=True, cwd=ROOT, capture_output=True)
    return _read(out)


def _plural(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (str(value),)


def update() -> None:
    template = extract()
    latin: Catalog | None = None
    for locale in LOCALES:
        path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        catalog = _read(path, locale) if path.exists() else Catalog(locale=locale, domain="messages")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "sr_Latn":
            latin = catalog
        elif locale == "sr_Cyrl":
            assert latin is not None
            for message in catalog:
                if not message.id:
                    continue
                source = latin.get(message.id, message.context)
                if source is None or not source.string or HAND_MARK in " ".join(message.user_comments):
                    continue
                if isinstance(source.string, (list, tuple)):
                    message.string = tuple(to_cyrillic(s) for s in source.string)
                else:
                    message.string = to_cyrillic(source.string)
                message.flags.discard("fuzzy")
        else:  # en: the source texts
            for message in catalog:
                if message.id:
                    message.string = message.id if isinstance(message.id, str) else tuple(message.id)
                    message.flags.discard("fuzzy")
        _write(path, catalog)
        _compile(path)


def _compile(po_path: Path) -> None:
    catalog = _read(po_path)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    po_path.with_suffix(".mo").write_bytes(buf.getvalue())


def problems() -> list[str]:
    found: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:  # checking writes nothing into the tree
        template = extract(Path(tmp) / "messages.pot")
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for locale in LOCALES:
        path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            found.append(f"{locale}: no catalogue (run scripts/i18n.py update)")
            continue
        catalog = _read(path, locale)
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        for missing in sorted(wanted - have)[:20]:
            found.append(f"{locale}: not in the catalogue: {missing!r} (run scripts/i18n.py update)")
        for message in catalog:
            if not message.id:
                continue
            strings = _plural(message.string) if message.string else ()
            if not strings or not all(strings) or message.fuzzy:
                found.append(f"{locale}: untranslated: {message.id!r}")
        mo_path = path.with_suffix(".mo")
        if not mo_path.exists():
            found.append(f"{locale}: not compiled (run scripts/i18n.py update)")
            continue
        with mo_path.open("rb") as f:
            compiled = read_mo(f)
        po_pairs = {(m.id if isinstance(m.id, str) else m.id[0]): _plural(m.string)
                    for m in catalog if m.id and m.string}
        mo_pairs = {(m.id if isinstance(m.id, str) else m.id[0]): _plural(m.string) for m in compiled if m.id}
        if po_pairs != mo_pairs:
            found.append(f"{locale}: messages.mo is older than messages.po (run scripts/i18n.py update)")
    return found


def fill(lines: list[str]) -> None:
    path = TRANSLATIONS / "sr_Latn" / "LC_MESSAGES" / "messages.po"
    catalog = _read(path, "sr_Latn")
    for line in lines:
        if not line.strip():
            continue
        msgid, msgstr = line.split("\t")
        message = catalog.get(msgid)
        if message is None:
            raise SystemExit(f"not in the catalogue: {msgid!r} (run update first)")
        message.string = msgstr
        message.flags.discard("fuzzy")
    _write(path, catalog)
    update()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "update"
    if command == "update":
        update()
        return 0
    if command == "fill":
        fill(sys.stdin.read().splitlines())
        return 0
    if command == "check":
        listed = problems()
        for line in listed:
            print(line)
        return 1 if listed else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
