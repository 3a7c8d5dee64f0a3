"""The alert SMS fits the segment budget: optional fields go whole, in a fixed order; required ones stay."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from messages_testkit import HOTLINE, LANGUAGES, LINK, UNSUBSCRIBE, make_facts

from alertsvc.messages import SMS_DROP_ORDER, AlertFacts
from channels.sms_text import analyse

LONG_DESCRIPTION = " ".join(["plava jakna sa kapuljačom, sive pantalone, roze ranac sa jednorogom"] * 3)
LONG_SUSPECT = " ".join(["muškarac oko 40 godina, visok, kratka tamna kosa, brada, crna kožna jakna"] * 3)
SERBIAN_DIACRITICS = re.compile("[čćšžđČĆŠŽĐ]")
CYRILLIC = re.compile("[\u0400-\u04ff]")
# what the real service sends: base_url + /unsubscribe/ + a signed token (~80 characters)
LONG_UNSUBSCRIBE = ("https://alerts.example.rs/unsubscribe/"
                    "IjE3MWI5YWZjLTBhZjEtNDA0ZS04NDkzLWMwYjg5Y2Q5MTIzMSI.nkWJVGfCAidr3ZwKdXYJQCxUMbE")


@pytest.mark.parametrize(("language", "ascii_only", "budget"),
                         [("sr-Latn", True, 3), ("en", True, 3), ("en", False, 5), ("sr-Latn", False, 4),
                          ("sr-Cyrl", False, 4), ("sr-Cyrl", True, 5)])
def test_long_alert_drops_optional_fields_in_order_and_keeps_required_ones(make_renderer, facts, language,
                                                                          ascii_only, budget):
    f = facts(description=LONG_DESCRIPTION, suspect=LONG_SUSPECT)
    full = make_renderer(sms_max_segments=10, sms_ascii=ascii_only).alert("sms", language, f,
                                                                          unsubscribe_url=UNSUBSCRIBE)
    out = make_renderer(sms_max_segments=budget, sms_ascii=ascii_only).alert("sms", language, f,
                                                                            unsubscribe_url=UNSUBSCRIBE)
    assert out.sms is not None and out.sms.segments <= budget and out.sms == analyse(out.text)
    assert out.truncated == () and out.dropped
    # optional fields are dropped first to last in the fixed order, the link of the opt-out only after them
    optional = tuple(n for n in out.dropped if n != "unsubscribe_link")
    assert optional == SMS_DROP_ORDER["alert"][: len(optional)]
    # every line is a whole line of the uncut message, in the same order (no word is ever cut); only the
    # opt-out line may be the short "reply STOP" one
    full_lines = full.text.splitlines()
    lines = out.text.splitlines()
    whole = lines if "unsubscribe_link" not in out.dropped else lines[:-1]
    assert [line for line in full_lines if line in whole] == whole
    # required: header, name and age, when and where, what to do, the link, how to leave
    assert lines[:3] == full_lines[:3]
    assert HOTLINE in out.text and LINK in out.text and "STOP" in lines[-1]
    assert not any(LONG_SUSPECT[:40] in line for line in lines)  # the suspect goes before the description


def test_drop_order_is_area_then_suspect_then_description_then_vehicle(make_renderer, facts):
    r = make_renderer(sms_max_segments=3, sms_ascii=True)
    out = r.alert("sms", "en", facts(suspect=LONG_SUSPECT), unsubscribe_url=UNSUBSCRIBE)
    assert out.dropped == ("area", "suspect")
    assert "Description: ljubicasta jakna Xq7, roze ranac" in out.text and "Vehicle: sivi karavan Zq" in out.text
    out = r.alert("sms", "en", facts(suspect=LONG_SUSPECT, description=LONG_DESCRIPTION), unsubscribe_url=UNSUBSCRIBE)
    assert out.dropped == ("area", "suspect", "description") and "Vehicle: sivi karavan Zq" in out.text
    out = make_renderer(sms_max_segments=2, sms_ascii=True).alert(
        "sms", "en", facts(suspect=LONG_SUSPECT, description=LONG_DESCRIPTION), unsubscribe_url=UNSUBSCRIBE)
    assert out.dropped == ("area", "suspect", "description", "vehicle") and out.truncated == ()
    assert out.text.splitlines()[3:] == [f"If you see her, call 192 or {HOTLINE} immediately.", f"Details: {LINK}",
                                         f"Reply STOP or visit {UNSUBSCRIBE} to unsubscribe"]


def test_budget_with_room_keeps_everything(make_renderer, facts):
    out = make_renderer(sms_max_segments=4, sms_ascii=True).alert("sms", "en", facts(), unsubscribe_url=UNSUBSCRIBE)
    assert out.dropped == () and out.sms.encoding == "GSM-7"
    for text in ("Description: ljubicasta jakna Xq7", "Vehicle: sivi karavan Zq, plate BG-777-QZ",
                 "Suspect: muskarac Wy9", "Alert area: Grad Beograd", UNSUBSCRIBE):
        assert text in out.text


@pytest.mark.parametrize("language", ["sr-Latn", "en"])
def test_ascii_sms_is_gsm7_without_serbian_diacritics(make_renderer, facts, language):
    r = make_renderer(sms_ascii=True)
    f = facts(child_name="Đorđe Šćepanović", last_seen_place="Čukarica – „Žarkovo“", description="žuta majica")
    for kind in ("alert", "update", "closing"):
        out = getattr(r, kind)("sms", language, f, unsubscribe_url=LONG_UNSUBSCRIBE)
        assert out.sms.encoding == "GSM-7" and out.sms == analyse(out.text)
        assert not SERBIAN_DIACRITICS.search(out.text)
    alert = r.alert("sms", language, f, unsubscribe_url=LONG_UNSUBSCRIBE)
    assert "Djordje Scepanovic" in alert.text and 'Cukarica - "Zarkovo"' in alert.text
    assert LONG_UNSUBSCRIBE in alert.text  # GSM-7 has room for the real, long unsubscribe link
    assert not SERBIAN_DIACRITICS.search(r.confirmation("sms", language, code="123456").text)


def test_without_ascii_serbian_latin_keeps_its_letters(make_renderer, facts):
    out = make_renderer(sms_ascii=False).alert("sms", "sr-Latn", facts(child_name="Đorđe"), unsubscribe_url=UNSUBSCRIBE)
    assert out.sms.encoding == "UCS-2" and "Đorđe, devojčica" in out.text and "viđena" in out.text


@pytest.mark.parametrize("ascii_only", [False, True])
def test_cyrillic_sms_is_ucs2_and_cyrillic(make_renderer, facts, ascii_only):
    out = make_renderer(sms_ascii=ascii_only).alert("sms", "sr-Cyrl", facts(), unsubscribe_url=UNSUBSCRIBE)
    assert out.sms.encoding == "UCS-2" and out.sms == analyse(out.text)
    assert out.text.startswith("ХИТНО – НЕСТАЛО ДЕТЕ\n") and len(CYRILLIC.findall(out.text)) > 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_required_fields_first_then_the_opt_out_link_gives_way_to_stop(make_renderer, facts, language):
    # In UCS-2 (70/67 units a segment) the real ~120-character unsubscribe link and the required fields do not
    # fit 4 segments together: the opt-out keeps "reply STOP" and loses the link instead of cutting the alert.
    r = make_renderer(sms_max_segments=4, sms_ascii=False)
    out = r.alert("sms", language, facts(child_name="Ђорђе Јовановић"), unsubscribe_url=LONG_UNSUBSCRIBE)
    assert out.truncated == () and out.sms.segments <= 4
    assert "unsubscribe_link" in out.dropped and LONG_UNSUBSCRIBE not in out.text
    assert out.text.splitlines()[-1] == {"sr-Latn": "Odjava: odgovorite STOP", "sr-Cyrl": "Одјава: одговорите STOP",
                                         "en": "Reply STOP to unsubscribe"}[language]
    assert "Ђорђе Јовановић" in out.text and LINK in out.text


def test_required_text_too_long_is_cut_at_a_word_and_reported(make_renderer, facts):
    r = make_renderer(sms_max_segments=2, sms_ascii=True)
    place = " ".join(f"ulica{i}" for i in range(80))
    out = r.alert("sms", "sr-Latn", facts(last_seen_place=place), unsubscribe_url=UNSUBSCRIBE)
    assert out.truncated == ("seen",) and out.sms.segments <= 2
    seen = out.text.splitlines()[2]
    assert seen.endswith("...") and seen[:-3].split()[-1] in place.split()
    assert LINK in out.text and "STOP" in out.text


def test_custom_text_too_long_is_cut_not_the_footer(make_renderer, facts):
    custom = " ".join(["Hitno tražimo devojčicu u plavoj jakni"] * 30)
    out = make_renderer(sms_ascii=True).alert("sms", "sr-Latn", facts(custom_text=custom),
                                             unsubscribe_url=UNSUBSCRIBE)
    assert out.truncated == ("custom",) and out.sms.segments <= 4 and not out.over_budget
    assert out.text.splitlines()[1].endswith("...")
    assert out.text.splitlines()[-3:] == [f"Ako je vidite, odmah pozovite 192 ili {HOTLINE}.", f"Vise: {LINK}",
                                          "Odjava: odgovorite STOP"]
    assert out.dropped == ("unsubscribe_link",)


@pytest.mark.parametrize("language", LANGUAGES)
def test_fixed_text_is_never_cut_even_when_the_budget_is_too_small(make_renderer, facts, language):
    # two UCS-2 segments (134 units) cannot hold header, what to do, link and STOP: the SMS goes whole, flagged
    r = make_renderer(sms_max_segments=2, sms_ascii=False)
    out = r.alert("sms", language, facts(child_name="Ђорђе Јовановић"), unsubscribe_url=UNSUBSCRIBE)
    assert out.over_budget and out.truncated == () and out.sms.segments > 2
    assert HOTLINE in out.text and LINK in out.text and "STOP" in out.text and "Ђорђе Јовановић" in out.text
    assert "unsubscribe_link" in out.dropped


# --- property: any facts ---------------------------------------------------------------------

maybe_text = st.none() | st.text(max_size=300)


@st.composite
def alert_facts(draw: st.DrawFn) -> AlertFacts:
    return make_facts(
        child_name=draw(maybe_text), age=draw(st.integers(0, 17)), sex=draw(st.sampled_from(["f", "m", "x", None])),
        description=draw(maybe_text), last_seen_place=draw(maybe_text), vehicle=draw(maybe_text),
        plate=draw(st.none() | st.text(max_size=12)), suspect=draw(maybe_text), area_name=draw(maybe_text),
        update_text=draw(maybe_text), custom_text=draw(st.none() | st.text(max_size=400)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(f=alert_facts(), language=st.sampled_from(LANGUAGES), ascii_only=st.booleans(),
       budget=st.integers(2, 6), url=st.sampled_from([UNSUBSCRIBE, LONG_UNSUBSCRIBE]))
def test_any_alert_sms_fits_or_says_it_was_cut_and_always_says_how_to_leave(make_renderer, f, language, ascii_only,
                                                                            budget, url):
    r = make_renderer(sms_max_segments=budget, sms_ascii=ascii_only)
    for kind in ("alert", "update"):
        out = getattr(r, kind)("sms", language, f, unsubscribe_url=url)
        assert out.sms == analyse(out.text)
        assert out.sms.segments <= budget or out.over_budget
        assert not out.over_budget or not out.truncated
        last = out.text.splitlines()[-1]
        assert "STOP" in last and (url in last or "unsubscribe_link" in out.dropped)
        assert "192" in out.text and LINK in out.text
        if ascii_only and language != "sr-Cyrl":
            assert out.sms.encoding == "GSM-7"
