"""GSM-7 / UCS-2 segment counting, Serbian transliteration and fit_to_budget."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    Field,
    SmsInfo,
    analyse,
    cyrillic_to_latin,
    encoding,
    fit_to_budget,
    is_gsm7,
    segments,
    to_gsm7,
    transliterate_latin,
)

GSM_BASIC_TEXT = st.text(alphabet=sorted(GSM7_BASIC))
GSM_TEXT = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENDED))
SERBIAN_LATIN = "abcčćddžđefghijklljmnnjoprsštuvzžABCČĆDĐEFGHIJKLMNOPRSŠTUVZŽǄǅǆǇǈǉǊǋǌ"
SERBIAN_CYRILLIC = "абвгдђежзијклљмнњопрстћуфхцчџшАБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ"
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"))


# --- encoding and segments: known examples ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsInfo("GSM-7", 1, 0, 0)),
        ("Hello", SmsInfo("GSM-7", 1, 5, 5)),
        ("a" * 160, SmsInfo("GSM-7", 1, 160, 160)),
        ("a" * 161, SmsInfo("GSM-7", 2, 161, 161)),
        ("a" * 306, SmsInfo("GSM-7", 2, 306, 306)),
        ("a" * 307, SmsInfo("GSM-7", 3, 307, 307)),
        ("€" * 80, SmsInfo("GSM-7", 1, 80, 160)),  # extension chars count two septets
        ("€" * 81, SmsInfo("GSM-7", 2, 81, 162)),
        ("a" * 152 + "€" + "a" * 152, SmsInfo("GSM-7", 3, 305, 306)),  # € never straddles parts
        ("Ђорђе", SmsInfo("UCS-2", 1, 5, 5)),
        ("č" * 70, SmsInfo("UCS-2", 1, 70, 70)),
        ("č" * 71, SmsInfo("UCS-2", 2, 71, 71)),
        ("č" * 134, SmsInfo("UCS-2", 2, 134, 134)),
        ("č" * 135, SmsInfo("UCS-2", 3, 135, 135)),
        ("😀" * 35, SmsInfo("UCS-2", 1, 35, 70)),  # emoji: a surrogate pair, two units
        ("😀" * 36, SmsInfo("UCS-2", 2, 36, 72)),
        ("a" * 66 + "😀" + "a" * 5, SmsInfo("UCS-2", 2, 72, 73)),
    ],
)
def test_analyse_known_examples(text: str, expected: SmsInfo) -> None:
    assert analyse(text) == expected
    assert segments(text) == expected.segments
    assert encoding(text) == expected.encoding


def test_surrogate_pair_is_not_split_across_parts() -> None:
    # 66 units then an emoji: 68 > 67, so the emoji starts part 2; then 67 more
    # single units overflow into part 3 only because the pair was kept whole
    text = "a" * 66 + "😀" + "a" * 66
    assert analyse(text) == SmsInfo("UCS-2", 3, 133, 134)
    assert segments("č" * 134) == 2  # the same units without a pair fit two parts


def test_gsm_alphabet_has_the_standard_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, 0x1B is the escape
    assert len(GSM7_EXTENDED) == 10
    assert "\x1b" not in GSM7_BASIC
    assert "$" in GSM7_BASIC and "¤" in GSM7_BASIC and "€" in GSM7_EXTENDED
    assert not is_gsm7("ç") and is_gsm7("Ç")  # only capital Ç is in the GSM table


# --- properties -------------------------------------------------------------------------


@given(ANY_TEXT, ANY_TEXT)
def test_segments_are_monotone_in_length(prefix: str, rest: str) -> None:
    assert segments(prefix) <= segments(prefix + rest)


@given(GSM_BASIC_TEXT.filter(lambda t: len(t) <= 160))
def test_gsm7_text_of_at_most_160_basic_chars_is_one_segment(text: str) -> None:
    assert encoding(text) == "GSM-7"
    assert segments(text) == 1


@given(GSM_TEXT)
def test_gsm7_segments_bound_by_septets(text: str) -> None:
    info = analyse(text)
    septets = info.units
    if septets <= 160:
        assert info.segments == 1
    else:
        # at least ceil(septets/153) parts; at most one extra per part for a moved escape
        assert -(-septets // 153) <= info.segments <= -(-septets // 152)


@given(st.text(alphabet=SERBIAN_LATIN + " .,!?0123456789\n"))
def test_transliterated_serbian_latin_is_gsm7(text: str) -> None:
    assert is_gsm7(transliterate_latin(text))


@given(st.text(alphabet=SERBIAN_CYRILLIC + SERBIAN_LATIN + " .,-"))
def test_transliterated_cyrillic_is_gsm7(text: str) -> None:
    assert is_gsm7(transliterate_latin(cyrillic_to_latin(text)))


@given(ANY_TEXT)
def test_to_gsm7_always_gives_gsm7(text: str) -> None:
    assert encoding(to_gsm7(text)) == "GSM-7"


@given(GSM_TEXT)
def test_to_gsm7_keeps_gsm7_text(text: str) -> None:
    assert to_gsm7(text) == text


# --- transliteration: known examples ----------------------------------------------------


@pytest.mark.parametrize(
    ("latin", "ascii_"),
    [
        ("čćšžđ ČĆŠŽ", "ccszdj CCSZ"),
        ("Đorđe Đoković", "Djordje Djokovic"),
        ("ĐORĐE ĐOKOVIĆ", "DJORDJE DJOKOVIC"),
        ("Džak, DŽAK, džem", "Dzak, DZAK, dzem"),
        ("Ǆ ǅ ǆ Ǉ ǈ ǉ Ǌ ǋ ǌ", "DZ Dz dz LJ Lj lj NJ Nj nj"),
        ("c\u030c", "c"),  # decomposed č (c + combining caron)
        ("Nestala devojčica, 9 godina", "Nestala devojcica, 9 godina"),
    ],
)
def test_transliterate_latin(latin: str, ascii_: str) -> None:
    assert transliterate_latin(latin) == ascii_


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Љубав њива џеп", "Ljubav njiva džep"),
        ("ЉУБАВ ЊИВА ЏЕП", "LJUBAV NJIVA DŽEP"),
        ("Ђорђе Ћирић", "Đorđe Ćirić"),
        ("Нестала девојчица у Београду", "Nestala devojčica u Beogradu"),
        ("Љ", "Lj"),
        ("ЉЊ", "LJNJ"),
        ("Alert: Ж 42", "Alert: Ž 42"),
    ],
)
def test_cyrillic_to_latin(cyrillic: str, latin: str) -> None:
    assert cyrillic_to_latin(cyrillic) == latin


def test_to_gsm7_examples() -> None:
    assert to_gsm7("Ђорђе — „хитно“ … ЏЕП") == 'Djordje - "hitno" ... DZEP'
    assert to_gsm7("Crème brûlée, łódź, 😀") == "Crème brulée, lodz, ?"  # è, é are GSM-7


# --- fit_to_budget -------------------------------------------------------------------------


def test_everything_fits_nothing_dropped() -> None:
    fitted = fit_to_budget([("title", "NESTALO DETE", True), ("details", "Marko, 9 godina", False)], 1)
    assert fitted.text == "NESTALO DETE\nMarko, 9 godina"
    assert fitted.kept == ("title", "details")
    assert fitted.dropped == () and fitted.truncated == ()
    assert fitted.info.segments == 1


def test_optional_fields_are_dropped_in_the_given_order() -> None:
    fields = [
        Field("title", "NESTALO DETE Novi Sad", required=True),
        Field("description", "plava jakna " * 8),
        Field("vehicle", "crveni automobil NS-123-AB"),
        Field("link", "https://example.org/a/1", required=True),
        Field("hotline", "Pozovite 192"),
    ]
    fitted = fit_to_budget(fields, 1, drop_order=["description", "hotline"])
    assert fitted.dropped == ("description",)
    assert fitted.kept == ("title", "vehicle", "link", "hotline")
    assert fitted.truncated == ()
    assert segments(fitted.text) == 1

    default_order = fit_to_budget(fields, 1)  # default: last optional field first
    assert default_order.dropped[0] == "hotline"


def test_required_text_is_cut_at_a_word_boundary_only_as_last_resort() -> None:
    long_required = " ".join(f"rec{i}" for i in range(60))  # ~330 chars
    fitted = fit_to_budget(
        [("body", long_required, True), ("link", "https://e.org/u/abc", True), ("x", "extra", False)],
        1,
    )
    assert fitted.dropped == ("x",)
    assert fitted.truncated == ("body",)
    assert fitted.text.endswith("\nhttps://e.org/u/abc")  # the short required field is intact
    body = fitted.text.split("\n")[0]
    assert body.endswith("...")
    assert body.removesuffix("...").split()[-1] in long_required.split()
    assert segments(fitted.text) == 1


def test_ucs2_text_is_cut_with_a_single_ellipsis_character() -> None:
    fitted = fit_to_budget([("body", "Нестала девојчица " * 10, True)], 1)
    assert fitted.text.endswith("…") and fitted.truncated == ("body",)
    assert segments(fitted.text) == 1


def test_fit_to_budget_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        fit_to_budget([("a", "x", True)], 0)
    with pytest.raises(ValueError):
        fit_to_budget([("a", "x", True), ("a", "y", False)], 1)
    with pytest.raises(ValueError):
        fit_to_budget([("a", "x", True)], 1, drop_order=["a"])


WORD = st.text(alphabet="abcdefghčćšžđ€0123456789АБВЖ😀", min_size=1, max_size=12)
FIELD_TEXT = st.lists(WORD, min_size=0, max_size=40).map(" ".join)


@st.composite
def field_lists(draw: st.DrawFn) -> list[Field]:
    count = draw(st.integers(min_value=1, max_value=6))
    texts = [draw(FIELD_TEXT) for _ in range(count)]
    required = [draw(st.booleans()) for _ in range(count)]
    return [Field(f"f{i}", t, r) for i, (t, r) in enumerate(zip(texts, required, strict=True))]


@settings(max_examples=300)
@given(field_lists(), st.integers(min_value=1, max_value=4))
def test_fit_to_budget_never_exceeds_budget_nor_cuts_words(fields: list[Field], budget: int) -> None:
    fitted = fit_to_budget(fields, budget)
    assert segments(fitted.text) <= budget
    assert fitted.info == analyse(fitted.text)
    words = {w for f in fields for w in f.text.split()}
    for token in fitted.text.split():
        stem = token.removesuffix("...").removesuffix("…")
        assert token in words or stem in words or stem == "", token
    required = {f.name for f in fields if f.required and f.text.strip()}
    assert required <= set(fitted.kept)  # required fields are never dropped
    if not fitted.truncated:
        # nothing cut: the text is the kept fields, whole
        kept = [f.text.strip() for f in fields if f.name in fitted.kept]
        assert fitted.text == "\n".join(kept)
