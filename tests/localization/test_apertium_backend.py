"""The Apertium backend through the real apertium command (Debian: apertium-eng-spa, -eng-cat)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from localization.errors import TranslationFailed, UnsupportedLanguage
from localization.translation import ApertiumTranslator, Bible, Character, LineRequest, Term
from localization.translation.apertium import parse_modes

BIBLE = Bible(
    characters=(Character("Rose", "female"), Character("Lu Chen", "male")),
    terms=(Term("the Lu Group", {"es": "el Grupo Lu", "ca": "el Grup Lu"}),),
)


@pytest.fixture(scope="module")
def apertium() -> ApertiumTranslator:
    if shutil.which("apertium") is None:
        pytest.fail(
            "These tests need Apertium: apt-get install apertium apertium-eng-spa apertium-eng-cat",
            pytrace=False,
        )
    return ApertiumTranslator()


def lines(*texts: str) -> list[LineRequest]:
    return [LineRequest(i, text) for i, text in enumerate(texts)]


def test_installed_pairs_are_read_from_apertium_l(apertium):
    pairs = apertium.pairs()

    assert {("en", "es"), ("es", "en"), ("en", "ca"), ("ca", "en")} <= pairs
    assert ("en", "ca-valencia") in pairs
    assert apertium.supports("en", "es-MX")
    assert apertium.supports("en", "ca-valencia")
    assert not apertium.supports("en", "fr")
    assert apertium.describe().startswith("apertium ca→en, ")


@pytest.mark.parametrize("target", ["es", "ca"])
def test_a_batch_comes_back_line_for_line(apertium, target):
    texts = [
        "Sign the contract.",
        "Where were you last night?",
        "You will be my wife for one year",
        '"Why?" she asked...',
        "...",
        "No!",
        "I saw everything. Then I left.",
        "My mother is sick",
    ]

    batch = apertium.translate(lines(*texts), source="en", target=target)
    one_by_one = [apertium.translate(lines(t), source="en", target=target)[0] for t in texts]

    assert [r.text for r in batch] == [r.text for r in one_by_one]
    assert [r.index for r in batch] == list(range(len(texts)))
    assert {r.backend for r in batch} == {"apertium"}
    assert batch[0].text == {"es": "Signo el contrato.", "ca": "Signa el contracte."}[target]
    assert batch[4].text == "..." and batch[5].text == "No!"


def test_bible_names_that_are_also_words_are_kept(apertium):
    # Without protection Apertium turns "Rose" into "Ascendió" (the verb).
    [result] = apertium.translate(lines("I love you, Rose."), source="en", target="es", bible=BIBLE)

    assert result.text == "Te quieres, Rose."
    assert result.glossary_problems == ()


def test_bible_terms_get_their_required_translation(apertium):
    es, ca = (
        apertium.translate(
            lines("The Lu Group will not fall."), source="en", target=target, bible=BIBLE
        )[0]
        for target in ("es", "ca")
    )

    assert es.text.startswith("El Grupo Lu ") and es.glossary_problems == ()
    assert ca.text.startswith("El Grup Lu ") and ca.glossary_problems == ()


def test_unknown_words_are_unmarked_and_listed_in_the_note(apertium):
    [result] = apertium.translate(lines("Xiaoming signed the contract."), source="en", target="es")

    assert "*" not in result.text and result.text.startswith("Xiaoming ")
    assert result.note == "apertium did not know: Xiaoming"
    assert not result.needs_human


def test_empty_lines_stay_empty_without_upsetting_the_others(apertium):
    results = apertium.translate(lines("Hello.", "", "   ", "Goodbye."), source="en", target="es")

    assert [r.text for r in results] == ["Hola.", "", "", "Adiós."]
    assert not any(r.needs_human for r in results)


def test_budgets_are_checked(apertium):
    results = apertium.translate(
        [LineRequest(0, "Sign the contract.", None, 10), LineRequest(1, "No!", None, 10)],
        source="en",
        target="es",
    )

    assert [r.over_budget for r in results] == [True, False]


def test_an_uninstalled_pair_names_what_is_installed(apertium):
    with pytest.raises(
        UnsupportedLanguage, match=r"Apertium cannot translate en→fr\. Installed: apertium ca→en"
    ):
        apertium.translate(lines("Hello."), source="en", target="fr")


def test_without_apertium_there_are_no_pairs_and_the_message_says_what_to_install():
    missing = ApertiumTranslator("apertium-is-not-installed-here")

    assert missing.pairs() == set()
    assert "apt-get install apertium apertium-eng-spa" in missing.describe()
    with pytest.raises(UnsupportedLanguage, match="apt-get install apertium"):
        missing.translate(lines("Hello."), source="en", target="es")


def fake_apertium(tmp_path: Path, body: str) -> str:
    script = tmp_path / "apertium"
    script.write_text(
        "#!/bin/sh\n" + 'if [ "$1" = "-l" ]; then echo "  eng-spa"; exit 0; fi\n' + body
    )
    script.chmod(0o755)
    return str(script)


def test_a_failing_apertium_raises_with_its_error_output(tmp_path):
    command = fake_apertium(tmp_path, 'echo "Error: mode file is broken" >&2\nexit 3\n')

    with pytest.raises(TranslationFailed, match=r"exit 3.*mode file is broken"):
        ApertiumTranslator(command).translate(lines("Hello."), source="en", target="es")


def test_a_hanging_pipeline_is_killed_whole_at_the_timeout(tmp_path):
    # Like the real apertium script, the hanging work happens in child processes.
    command = fake_apertium(tmp_path, "sleep 30 | cat\n")
    started = time.monotonic()

    with pytest.raises(TranslationFailed, match=r"did not finish within 0\.5 s"):
        ApertiumTranslator(command, timeout_s=0.5).translate(
            lines("Hello."), source="en", target="es"
        )
    assert time.monotonic() - started < 10  # the sleep was killed with its shell


def test_modes_map_to_language_tags():
    listing = "  eng-spa\n  spa-eng_US\n  eng-cat_valencia\n  en-es\n  por-glg\n  nonsense\n"

    assert parse_modes(listing) == {
        ("en", "es"): "eng-spa",
        ("es", "en-US"): "spa-eng_US",
        ("en", "ca-valencia"): "eng-cat_valencia",
        ("pt", "gl"): "por-glg",
    }
