"""The console's catalogues are complete and compiled: every text of the pages is in sr_Latn (written by hand),
sr_Cyrl (written out from it by scripts/i18n.py, committed) and en, none fuzzy, and each messages.mo matches its
messages.po. The fix for a failure is `python scripts/i18n.py update` and a translation of what it lists."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
assert _spec and _spec.loader
i18n = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(i18n)


def test_catalogues_are_complete_and_compiled():
    assert i18n.problems() == []


def test_cyrillic_is_written_out_letter_for_letter_keeping_placeholders_and_codes():
    assert i18n.to_cyrillic("Nestalo dete, %(name)s, ljubičasta jakna") == "Нестало дете, %(name)s, љубичаста јакна"
    assert i18n.to_cyrillic("Džep NJIVA Đak") == "Џеп ЊИВА Ђак"
    assert i18n.to_cyrillic("SMS u GSM-7, okrug RS-00") == "SMS у GSM-7, округ RS-00"


def test_the_interface_is_really_translated(app):
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"):
        with force_locale("sr_Cyrl"):
            cyrillic = gettext("Sign in")
        with force_locale("sr_Latn"):
            latin = gettext("Sign in")
        with force_locale("en"):
            english = gettext("Sign in")
    assert english == "Sign in"
    assert latin != english and cyrillic == i18n.to_cyrillic(latin)
