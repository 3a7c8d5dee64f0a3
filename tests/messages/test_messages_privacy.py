"""Closing messages do not repeat the child's details; people's text is escaped in HTML and inert in text."""

from __future__ import annotations

import pytest
from messages_testkit import CHANNELS, LANGUAGES, UNSUBSCRIBE

# every distinctive value of messages_testkit.make_facts that identifies or describes the child
DETAILS = ("Zvezdana", "Kvrgović", "Xq7", "ljubičasta", "Kvazara", "BG-777-QZ", "karavan Zq", "Wy9", "Pk4",
           "Beograd")
THANKS = {"sr-Latn": "Dete je pronađeno. Hvala", "sr-Cyrl": "Дете је пронађено. Хвала",
          "en": "The child has been found."}
DELETE = {"sr-Latn": "obrišite fotografiju i opis", "sr-Cyrl": "обришите фотографију и опис",
          "en": "delete the photo and description"}


@pytest.mark.parametrize("outcome", ["found", "withdrawn", "other", None])
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_closing_says_it_is_over_and_repeats_no_detail(renderer, facts, language, channel, outcome):
    out = renderer.closing(channel, language, facts(outcome=outcome, custom_text="Operater Jk3 tekst"),
                           unsubscribe_url=UNSUBSCRIBE)
    everything = " ".join(filter(None, [out.subject, out.text, out.html]))
    for detail in DETAILS + ("Jk3", "9 godina", "девојчица", "girl"):
        assert detail not in everything
    assert "RS-2026-000123" in out.text  # the case reference says which alert ended
    assert DELETE[language] in out.text
    assert (THANKS[language] in out.text) == (outcome == "found")


SCRIPT = "<script>alert('x')</script> & <b>bold</b>"


@pytest.mark.parametrize("language", LANGUAGES)
def test_people_text_is_escaped_in_html_and_verbatim_in_text(renderer, facts, language):
    hostile = facts(child_name="Ana <i>Q</i>", description=SCRIPT, suspect='"><img src=x onerror=alert(1)>',
                    update_text=SCRIPT)
    for kind in ("alert", "update"):
        out = getattr(renderer, kind)("email", language, hostile, unsubscribe_url=UNSUBSCRIBE)
        assert "<script" not in out.html and "<img" not in out.html and "<i>" not in out.html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in out.html
        assert SCRIPT in out.text and "&lt;" not in out.text  # plain text: shown as typed, nothing to run
        assert "Ana <i>Q</i>" in out.subject
        sms = getattr(renderer, kind)("sms", language, hostile, unsubscribe_url=UNSUBSCRIBE)
        assert "&lt;" not in sms.text and "&amp;" not in sms.text
    custom = renderer.alert("email", language, facts(custom_text=SCRIPT), unsubscribe_url=UNSUBSCRIBE)
    assert "<script" not in custom.html and SCRIPT in custom.text


def test_multiline_description_stays_multiline_in_email_and_one_line_in_sms(renderer, make_renderer, facts):
    f = facts(description="plava jakna\n\n\n   roze ranac  ")
    email = renderer.alert("email", "sr-Latn", f, unsubscribe_url=UNSUBSCRIBE)
    assert "Opis: plava jakna\n\n   roze ranac\n" in email.text
    sms = make_renderer(sms_max_segments=10).alert("sms", "en", f, unsubscribe_url=UNSUBSCRIBE)
    assert "Description: plava jakna roze ranac\n" in sms.text
