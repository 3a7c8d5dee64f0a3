"""Every message renders in every language and channel, says how to leave, and carries what an alert must."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from messages_testkit import CHANNELS, HOTLINE, KINDS, LANGUAGES, LINK, SEEN_LOCAL, UNSUBSCRIBE

from alertsvc.messages import ChannelName, Language, MessageRenderer, Rendered

SMS_OPTOUT = {"sr-Latn": "Odjava: odgovorite STOP", "sr-Cyrl": "Одјава: одговорите STOP", "en": "Reply STOP"}
HEADERS = {
    "alert": {"sr-Latn": "HITNO – NESTALO DETE", "sr-Cyrl": "ХИТНО – НЕСТАЛО ДЕТЕ", "en": "URGENT - MISSING CHILD"},
    "update": {"sr-Latn": "NOVO – NESTALO DETE", "sr-Cyrl": "НОВО – НЕСТАЛО ДЕТЕ", "en": "UPDATE - MISSING CHILD"},
    "closing": {"sr-Latn": "KRAJ UPOZORENJA", "sr-Cyrl": "КРАЈ УПОЗОРЕЊА", "en": "END OF ALERT"},
}
AGE = {"sr-Latn": "devojčica, 9 godina", "sr-Cyrl": "девојчица, 9 година", "en": "girl, 9"}


def render(renderer: MessageRenderer, kind: str, channel: str, language: str, facts, **kw) -> Rendered:
    if kind == "confirmation":
        return renderer.confirmation(channel, language, code="482913", unsubscribe_url=kw.get("url", UNSUBSCRIBE))
    return getattr(renderer, kind)(channel, language, facts, unsubscribe_url=kw.get("url", UNSUBSCRIBE))


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_message_renders_and_says_how_to_leave(renderer, facts, kind, language, channel):
    out = render(renderer, kind, channel, language, facts())
    assert out.text.strip() == out.text and out.text
    if channel == "sms":
        assert out.subject is None and out.html is None
        assert out.sms is not None and out.sms.segments <= 4
        assert out.text.splitlines()[-1].startswith(SMS_OPTOUT[language])
        # the link goes with STOP unless the required fields leave no room for it (see test_messages_sms_budget)
        assert UNSUBSCRIBE in out.text or "unsubscribe_link" in out.dropped
        assert out.truncated == ()
    else:
        assert out.sms is None and out.dropped == ()
        assert out.subject and "\n" not in out.subject
        assert UNSUBSCRIBE in out.text
        assert f'href="{UNSUBSCRIBE}"' in out.html
        assert out.html.startswith("<!doctype html>") and f'<html lang="{language}">' in out.html
    if kind != "confirmation":
        assert HEADERS[kind][language] in out.text


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["alert", "update"])
def test_alert_and_update_carry_hotline_age_time_and_link(renderer, facts, kind, language, channel):
    out = render(renderer, kind, channel, language, facts())
    for text in [out.text] + ([out.html] if out.html else []):
        assert HOTLINE in text and "192" in text
        assert AGE[language] in text
        assert SEEN_LOCAL[language] in text or (kind == "update" and channel == "sms")
        assert LINK in text
    if kind == "update":
        assert "Viđena u tramvaju 2 Pk4." in out.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_sms_reads_header_first_then_child_then_when_and_where(renderer, facts, language):
    lines = renderer.alert("sms", language, facts(), unsubscribe_url=UNSUBSCRIBE).text.splitlines()
    assert lines[0] == HEADERS["alert"][language]
    assert lines[1] == f"Zvezdana Kvrgović, {AGE[language]}"
    assert lines[2].endswith(f"{SEEN_LOCAL[language]}, Trg Kvazara 7")  # when, then where
    assert lines[-2].endswith(LINK)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_place_is_cut_before_the_time_is(renderer, facts, language):
    place = "Bulevar kralja Aleksandra 73, ulaz iz dvorišta pored zelene pijace, kod autobuske stanice"
    out = renderer.alert("sms", language, facts(last_seen_place=place, description="x " * 80),
                         unsubscribe_url=UNSUBSCRIBE)
    seen = out.text.splitlines()[2]
    assert SEEN_LOCAL[language] in seen and place not in seen and seen.endswith("…")


def test_summer_time_is_belgrade_time_too(renderer, facts):
    july = facts(last_seen_at=datetime(2026, 7, 4, 12, 0, tzinfo=UTC))  # CEST, UTC+2
    assert "04.07.2026. u 14:00" in renderer.alert("email", "sr-Latn", july, unsubscribe_url=UNSUBSCRIBE).text
    assert "4 Jul 2026, 14:00" in renderer.alert("sms", "en", july, unsubscribe_url=UNSUBSCRIBE).text


@pytest.mark.parametrize(
    ("sex", "expected"),
    [
        ("f", {"sr-Latn": ("devojčica", "Ako je vidite"), "sr-Cyrl": ("девојчица", "Ако је видите"),
               "en": ("girl", "If you see her")}),
        ("m", {"sr-Latn": ("dečak", "Ako ga vidite"), "sr-Cyrl": ("дечак", "Ако га видите"),
               "en": ("boy", "If you see him")}),
        ("x", {"sr-Latn": ("Dete", "Ako vidite dete"), "sr-Cyrl": ("Дете", "Ако видите дете"),
               "en": ("Child", "If you see the child")}),
        (None, {"sr-Latn": ("Dete", "Ako vidite dete"), "sr-Cyrl": ("Дете", "Ако видите дете"),
                "en": ("Child", "If you see the child")}),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_sex_words_and_pronouns(renderer, facts, language, sex, expected):
    noun, pronoun = expected[language]
    out = renderer.alert("sms", language, facts(sex=sex, child_name=None, age=7), unsubscribe_url=UNSUBSCRIBE)
    seven = {"sr-Latn": "7 godina", "sr-Cyrl": "7 година", "en": "7"}[language]
    assert out.text.splitlines()[1] == f"{noun[:1].upper()}{noun[1:]}, {seven}"
    assert pronoun + "," in out.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_named_child_of_unstated_sex_gets_name_and_age(renderer, facts, language):
    text = renderer.alert("sms", language, facts(sex="x", child_name="Aleks Qy"), unsubscribe_url=UNSUBSCRIBE).text
    assert text.splitlines()[1] == {"sr-Latn": "Aleks Qy, 9 godina", "sr-Cyrl": "Aleks Qy, 9 година",
                                    "en": "Aleks Qy, 9"}[language]


@pytest.mark.parametrize(
    ("age", "latin", "cyrillic"),
    [
        (0, "manje od godinu dana", "мање од годину дана"),
        (1, "1 godina", "1 година"),
        (2, "2 godine", "2 године"),
        (4, "4 godine", "4 године"),
        (5, "5 godina", "5 година"),
        (11, "11 godina", "11 година"),
        (12, "12 godina", "12 година"),
        (14, "14 godina", "14 година"),
        (21, "21 godina", "21 година"),
        (22, "22 godine", "22 године"),
    ],
)
def test_serbian_plural_of_years(renderer, facts, age, latin, cyrillic):
    for language, words in (("sr-Latn", latin), ("sr-Cyrl", cyrillic)):
        for channel in CHANNELS:
            out = renderer.alert(channel, language, facts(age=age, sex="m", child_name=None),
                                 unsubscribe_url=UNSUBSCRIBE)
            line = out.text.splitlines()[1 if channel == "sms" else 2]
            assert line == ("Dečak, " if language == "sr-Latn" else "Дечак, ") + words
    en = renderer.alert("sms", "en", facts(age=age, sex="m", child_name=None), unsubscribe_url=UNSUBSCRIBE)
    assert en.text.splitlines()[1] == ("Boy, under 1" if age == 0 else f"Boy, {age}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_has_code_purpose_and_ignore_hint(renderer, language):
    ignore = {"sr-Latn": "Ako niste tražili prijavu, zanemarite ovu poruku.",
              "sr-Cyrl": "Ако нисте тражили пријаву, занемарите ову поруку.",
              "en": "If you did not ask for this, please ignore this message."}[language]
    purpose = {"sr-Latn": "upozorenja o nestaloj deci", "sr-Cyrl": "упозорења о несталој деци",
               "en": "missing-child alerts"}[language]
    for channel in CHANNELS:
        out = renderer.confirmation(channel, language, code="482913")
        assert "482913" in out.text and ignore in out.text and purpose in out.text
    sms = renderer.confirmation("sms", language, code="482913")
    assert sms.text.splitlines()[-1] == {"sr-Latn": "Odjava: odgovorite STOP", "sr-Cyrl": "Одјава: одговорите STOP",
                                         "en": "Reply STOP to unsubscribe"}[language]
    email = renderer.confirmation("email", language, code="482913")
    assert "482913" in email.subject and "482913" in email.html
    assert "unsubscribe/" not in email.text  # nothing to leave yet: without the code nothing is sent


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_custom_text_replaces_the_body_and_keeps_header_and_footer(renderer, facts, language, channel):
    custom = "Operaterov tekst Jx5: traži se devojčica u plavoj jakni."
    out = renderer.alert(channel, language, facts(custom_text=custom), unsubscribe_url=UNSUBSCRIBE)
    assert custom in out.text
    assert "ljubičasta jakna Xq7" not in out.text and "Trg Kvazara 7" not in out.text
    assert HEADERS["alert"][language] in out.text
    assert HOTLINE in out.text and LINK in out.text and UNSUBSCRIBE in out.text
    if channel == "sms":
        assert out.text.splitlines()[1] == custom


@pytest.mark.parametrize("language", LANGUAGES)
def test_update_without_text_says_it_was_updated(renderer, facts, language):
    out = renderer.update("sms", language, facts(update_text=None), unsubscribe_url=UNSUBSCRIBE)
    assert out.text.splitlines()[2] == {"sr-Latn": "Podaci o slučaju su dopunjeni.",
                                        "sr-Cyrl": "Подаци о случају су допуњени.",
                                        "en": "The case information has been updated."}[language]


def test_subject_is_one_line_even_when_the_name_is_not(renderer, facts):
    out = renderer.alert("email", "en", facts(child_name="Ana\r\nBcc: x@example.org"), unsubscribe_url=UNSUBSCRIBE)
    assert "\n" not in out.subject and "\r" not in out.subject
    assert out.subject == "URGENT - MISSING CHILD: Ana Bcc: x@example.org, girl, 9"


def test_html_is_self_contained(renderer, facts):
    for kind in ("alert", "update", "closing"):
        html = getattr(renderer, kind)("email", "sr-Latn", facts(), unsubscribe_url=UNSUBSCRIBE).html
        assert not re.search(r"<(img|script|link|iframe|object|style)\b", html)
        assert "src=" not in html
        targets = set(re.findall(r'href="([^"]*)"', html))
        assert targets <= {LINK, UNSUBSCRIBE, "tel:192", "tel:" + HOTLINE.replace(" ", "")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_info_is_the_alert_sms(renderer, facts, language):
    assert renderer.sms_info(language, facts(), UNSUBSCRIBE) == renderer.alert(
        "sms", language, facts(), unsubscribe_url=UNSUBSCRIBE).sms


def test_bad_arguments_are_refused(renderer, facts):
    with pytest.raises(ValueError, match="language"):
        renderer.alert("sms", "de", facts(), unsubscribe_url=UNSUBSCRIBE)
    with pytest.raises(ValueError, match="channel"):
        renderer.alert("fax", "en", facts(), unsubscribe_url=UNSUBSCRIBE)
    with pytest.raises(ValueError, match="timezone"):
        renderer.alert("sms", "en", facts(last_seen_at=datetime(2026, 11, 23, 14, 5)), unsubscribe_url=UNSUBSCRIBE)
    with pytest.raises(ValueError, match="unsubscribe_url"):
        renderer.alert("email", "en", facts(), unsubscribe_url="")
    with pytest.raises(ValueError, match="link"):
        renderer.alert("email", "en", facts(link="javascript:alert(1)"), unsubscribe_url=UNSUBSCRIBE)
    with pytest.raises(ValueError, match="code"):
        renderer.confirmation("sms", "en", code="12<b>")


def test_languages_and_channels_are_the_enums_valued_as_the_api_strings():
    assert LANGUAGES == tuple(Language) == ("sr-Latn", "sr-Cyrl", "en")
    assert CHANNELS == tuple(ChannelName) == ("sms", "email")
    assert all(type(v) is str for v in LANGUAGES + CHANNELS)  # plain strings, as before the enums
