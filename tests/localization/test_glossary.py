"""The series bible: terms checked in translations, and shielded from machine translation."""

from __future__ import annotations

import pytest

from localization.errors import UnsupportedLanguage
from localization.translation import Bible, Character, Term, check_terms, protect, restore

BIBLE = Bible(
    characters=(
        Character("Lu Chen", "male"),
        Character("Xia Wan", "female"),
        Character("Rose", "female"),
    ),
    terms=(
        Term("the Lu Group", {"es": "el Grupo Lu", "zh-Hans": "陆氏集团"}),
        Term("contract", {"es": "contrato", "pt": "contrato"}),
        Term("Lu Chen", {"zh-Hans": "陆辰"}),
    ),
)


def test_a_translation_that_renders_every_term_has_no_problems():
    assert (
        check_terms(
            "Lu Chen, the Lu Group wants the contract.",
            "Lu Chen, el Grupo Lu quiere el contrato.",
            BIBLE,
            "es",
        )
        == []
    )


def test_each_term_the_translation_misses_is_a_problem():
    problems = check_terms(  # in the order the terms appear in the source
        "Rose, sign the contract for the Lu Group.",
        "Rosa, firma el acuerdo para la empresa Lu.",
        BIBLE,
        "es",
    )

    assert problems == [
        '"Rose" should stay "Rose" (series bible)',
        '"contract" should be translated as "contrato" (series bible)',
        '"the Lu Group" should be translated as "el Grupo Lu" (series bible)',
    ]


def test_matching_ignores_case_and_accents():
    assert check_terms("THE LU GROUP is done.", "EL GRUPO LÚ ha terminado.", BIBLE, "es") == []
    assert check_terms("Xia Wán!", "¡xia wan!", BIBLE, "es") == []


def test_terms_are_whole_words():
    # "Rose" is not in "rosebush", and the translation must have "Rose" itself.
    assert check_terms("The rosebush is dead.", "El rosal está muerto.", BIBLE, "es") == []
    assert check_terms("Rose is here.", "Roseanne está aquí.", BIBLE, "es") == [
        '"Rose" should stay "Rose" (series bible)'
    ]


def test_a_translated_term_may_be_inflected_but_a_name_may_not():
    assert check_terms("Sign the contracts.", "Firma los contratos.", BIBLE, "es") == []
    assert check_terms("Lu Chen's car.", "El coche de Lu Cheng.", BIBLE, "es") == [
        '"Lu Chen" should stay "Lu Chen" (series bible)'
    ]


def test_chinese_targets_are_matched_without_word_boundaries():
    assert check_terms("Lu Chen runs the Lu Group.", "陆辰管理陆氏集团。", BIBLE, "zh-Hans") == []
    assert check_terms("Lu Chen runs the Lu Group.", "陆总管理集团。", BIBLE, "zh-CN") == [
        '"Lu Chen" should be translated as "陆辰" (series bible)',
        '"the Lu Group" should be translated as "陆氏集团" (series bible)',
    ]


def test_a_regional_target_uses_the_general_languages_translation():
    assert check_terms("The contract.", "O contrato.", BIBLE, "pt-BR") == []


def test_protect_swaps_terms_for_placeholders_and_restore_puts_the_target_forms_back():
    text, placeholders = protect("The Lu Group fired Rose. Rose signed the contract.", BIBLE, "es")

    assert text == "Zqxa fired Zqxb. Zqxb signed the Zqxc."
    assert placeholders == {"Zqxa": "El Grupo Lu", "Zqxb": "Rose", "Zqxc": "contrato"}
    assert restore("Zqxa despidió a zqxb. Zqxb firmó el *Zqxc.", placeholders) == (
        "El Grupo Lu despidió a Rose. Rose firmó el *contrato."
    )


def test_placeholders_never_collide_with_the_text():
    text, placeholders = protect("Zqxa met Rose.", BIBLE, "es")

    assert text == "Zqxa met Zqxqa."
    assert restore("Zqxa conoció a Zqxqa.", placeholders) == "Zqxa conoció a Rose."


def test_bible_round_trips_through_its_json_form():
    data = {
        "characters": [{"name": "Lu Chen", "gender": "male"}],
        "terms": [
            {"term": "CEO", "translations": {"pt-br": "CEO", "es": "presidente"}, "note": ""}
        ],
    }
    bible = Bible.from_dict(data)

    assert bible.character("lu chen") == Character("Lu Chen", "male")
    assert bible.terms[0].translation("pt-BR") == "CEO"
    assert bible.terms[0].translation("es-MX") == "presidente"
    assert bible.terms[0].translation("fr") is None
    assert Bible.from_dict(bible.to_dict()) == bible
    assert hash(bible)  # frozen, usable as a cache key


def test_a_gender_must_be_one_the_prompts_know():
    with pytest.raises(ValueError, match="female, male, nonbinary, unknown"):
        Character("Lu Chen", "m")


def test_translations_must_be_keyed_by_language_tags():
    with pytest.raises(UnsupportedLanguage):
        Term("CEO", {"Spanish!": "presidente"})
