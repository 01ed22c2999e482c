"""Character budgets of translated lines, and the language tags they are measured in."""

from __future__ import annotations

import pytest

from localization.errors import UnsupportedLanguage
from localization.languages import best_match, canonical, display_name, fallbacks
from localization.translation import MAX_BORROW_S, char_budget, over_budget, spoken_length


@pytest.mark.parametrize(
    ("slot_s", "borrow_s", "chars_per_s", "budget"),
    [
        (2.0, 0.0, 15.0, 30),  # the slot alone
        (2.0, 1.0, 15.0, 45),  # plus the silence after it
        (2.0, 5.0, 15.0, 52),  # borrowing is capped at 1.5 s: 3.5 s × 15 = 52.5
        (1.1, 0.0, 14.0, 15),  # floor(15.4)
        (0.7, 0.3, 10.0, 10),  # no float rounding surprises: 1.0 s × 10
        (2.0, -1.0, 15.0, 30),  # nothing to borrow
        (0.0, 0.0, 15.0, 0),
        (2.0, 0.0, 5.5, 11),  # a slow voice (Japanese is ~6-8 chars/s) gets fewer characters
    ],
)
def test_char_budget_is_slot_plus_borrowed_gap_times_speaking_rate(
    slot_s, borrow_s, chars_per_s, budget
):
    assert char_budget(slot_s, borrow_s=borrow_s, chars_per_s=chars_per_s) == budget


def test_borrowing_is_capped_at_a_second_and_a_half():
    assert MAX_BORROW_S == 1.5


def test_a_speaking_rate_must_be_positive():
    with pytest.raises(ValueError, match="chars_per_s"):
        char_budget(2.0, chars_per_s=0)


@pytest.mark.parametrize(
    ("text", "language", "length"),
    [
        ("Firma el contrato.", "es", 18),
        ("  Firma   el\ncontrato. ", "es", 18),  # runs of spaces count once
        ("你好，陆辰！", "zh-Hans", 4),  # punctuation is a pause, not a syllable
        ("我 爱 你", "zh", 3),
        ("「行こう」と彼は言った。", "ja", 9),
        ("사랑해, 루천.", "ko", 5),  # Hangul syllable blocks
        ("Ayo pergi!", "id", 10),
    ],
)
def test_spoken_length_counts_cjk_by_character(text, language, length):
    assert spoken_length(text, language) == length


def test_over_budget():
    assert over_budget("Firma el contrato.", 17, "es")
    assert not over_budget("Firma el contrato.", 18, "es")
    assert not over_budget("我爱你，陆辰！", 5, "zh-Hans")
    assert over_budget("我爱你，陆辰！", 4, "zh-Hans")
    assert not over_budget("Anything at all, however long.", None, "es")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es", "es"),
        ("pt-br", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans-CN"),
        ("zh-TW", "zh-Hant-TW"),
        ("zh-hant", "zh-Hant"),
        ("es-419", "es-419"),
        ("ca-valencia", "ca-valencia"),
    ],
)
def test_language_tags_are_made_canonical(tag, expected):
    assert canonical(tag) == expected


@pytest.mark.parametrize("tag", ["", "english!", "e", "pt--BR", None])
def test_something_that_is_not_a_language_tag_is_refused(tag):
    with pytest.raises(UnsupportedLanguage, match="BCP-47"):
        canonical(tag)


def test_traditional_chinese_never_falls_back_to_simplified():
    assert fallbacks("zh-TW") == ["zh-Hant-TW", "zh-Hant"]
    assert best_match("zh-TW", {"zh-Hans", "zh-Hant"}) == "zh-Hant"
    assert best_match("zh-HK", {"zh-Hans"}) is None


def test_a_regional_request_is_served_by_the_general_language_and_vice_versa():
    assert best_match("pt-BR", {"pt", "pt-BR"}) == "pt-BR"
    assert best_match("pt-BR", {"pt"}) == "pt"
    assert best_match("pt", {"pt-BR"}) == "pt-BR"
    assert best_match("es-419", {"en", "ca"}) is None


def test_languages_have_names_for_prompts():
    assert display_name("pt-BR") == "Brazilian Portuguese"
    assert display_name("zh-TW") == "Traditional Chinese"
    assert display_name("es-MX") == "Spanish (MX)"
    assert display_name("id") == "Indonesian"
    assert display_name("xx") == "the language with BCP-47 tag xx"
