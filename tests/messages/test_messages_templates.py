"""The template set: where it is found, how it escapes, and that the three languages say the same things."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from messages_testkit import LANGUAGES, UNSUBSCRIBE, make_facts

from alertsvc.messages import KINDS, SMS_FIELDS, MessageRenderer
from alertsvc.templating import make_environment, templates_dir
from channels.sms_text import cyrillic_to_latin

MESSAGES = templates_dir() / "messages"
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]*>", re.S)


def test_templates_dir_holds_messages_and_web_pages():
    assert (MESSAGES / "_email.html").is_file() and (MESSAGES / "_email.txt").is_file()
    assert (templates_dir() / "web" / "base.html").is_file()


def test_environment_escapes_html_templates_only_and_refuses_unknown_names():
    env = make_environment()
    assert env.autoescape("x.html") and not env.autoescape("x.txt") and not env.autoescape("x.j2")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.trim_blocks and env.lstrip_blocks and not env.keep_trailing_newline


def test_every_language_has_the_same_template_files():
    names = {language: sorted(p.name for p in (MESSAGES / language).iterdir()) for language in LANGUAGES}
    assert names["sr-Latn"] == names["sr-Cyrl"] == names["en"]
    assert set(names["en"]) == {"_lang.j2"} | {f"{kind}.fields.j2" for kind in KINDS}


def test_email_markup_is_written_once_for_every_language():
    """The e-mail frames and messages are shared; a language folder holds wording only (no markup)."""
    assert {f"{kind}.email.{ext}" for kind in KINDS for ext in ("txt", "html")} <= {p.name for p in MESSAGES.iterdir()}
    for language in LANGUAGES:
        for path in (MESSAGES / language).iterdir():
            assert not re.search(r"<[a-z]", path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("path", sorted((MESSAGES / "sr-Cyrl").iterdir()), ids=lambda p: p.name)
def test_cyrillic_templates_are_the_latin_ones_in_cyrillic_script(path: Path):
    """Change sr-Latn and sr-Cyrl together: read back in Latin script, a Cyrillic template is its Latin twin."""
    latin = (MESSAGES / "sr-Latn" / path.name).read_text(encoding="utf-8")
    cyrillic = path.read_text(encoding="utf-8")
    back = cyrillic_to_latin(cyrillic).replace("sr-Cyrl", "sr-Latn").replace("Cyrillic script", "Latin script")
    assert back == latin
    # and nothing is left in Latin letters outside tags but the STOP keyword
    prose = TAG.sub(" ", cyrillic)
    assert set(re.findall(r"[A-Za-zčćšžđČĆŠŽĐ]{2,}", prose)) <= {"STOP"}
    # digraphs are single Cyrillic letters, never two (њ, not нј; љ, not лј; џ, not дж)
    assert not re.search("нј|лј|дж", cyrillic, re.IGNORECASE)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["confirmation", "alert", "update", "closing"])
def test_every_sms_field_is_defined_and_one_clean_line(language, kind):
    env = make_environment()
    context = {"lang": language, "hotline": "116 000", "unsubscribe_url": UNSUBSCRIBE, "code": "123456",
               "reference": "RS-2026-000123", "outcome": "found", "link": "https://x.example/a", "sex": "f",
               "age": 9, "seen_at": make_facts().last_seen_at,
               "f": {"child_name": "A", "description": "B", "place": "C", "vehicle": "D", "plate": "E",
                     "suspect": "F", "area": "G", "update_text": "H", "custom_text": "I"}}
    module = env.get_template(f"messages/{language}/{kind}.fields.j2").make_module(context)
    layouts = [SMS_FIELDS[kind]] + ([SMS_FIELDS["alert_custom"]] if kind == "alert" else [])
    for name in {n for layout in layouts for n, _ in layout} | {"optout", "optout_short"}:
        value = str(getattr(module, name))
        assert value and value == value.strip() and "\n" not in value, (name, value)


def test_renderer_accepts_an_environment():
    env = make_environment()
    renderer = MessageRenderer(hotline="116 000", sms_max_segments=4, sms_ascii=False, env=env)
    assert "116 000" in renderer.alert("sms", "en", make_facts(), unsubscribe_url=UNSUBSCRIBE).text
