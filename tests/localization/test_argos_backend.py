"""The Argos backend end to end, with tiny real packages the tests train themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hookline.errors import InvalidInput
from localization.errors import TranslationFailed, UnsupportedLanguage
from localization.translation import (
    ArgosTranslator,
    Bible,
    Character,
    LineRequest,
    Term,
    install_argos_package,
    installed_argos_packages,
)
from localization.translation.argos import split_sentences

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def packages_dir(tmp_path: Path, tiny_archives: dict) -> Path:
    folder = tmp_path / "models" / "argos"
    for archive in tiny_archives.values():
        install_argos_package(archive, folder)
    return folder


def lines(*texts: str, budget: int | None = None) -> list[LineRequest]:
    return [LineRequest(i, text, None, budget) for i, text in enumerate(texts)]


def test_memorized_sentences_come_out_right(packages_dir):
    translator = ArgosTranslator(packages_dir)

    results = translator.translate(
        lines("Sign the contract.", "Where were you last night?", "Xia Wan, look at me."),
        source="en",
        target="es",
    )

    assert [r.text for r in results] == [
        "Firma el contrato.",
        "¿Dónde estabas anoche?",
        "Xia Wan, mírame.",
    ]
    assert {r.backend for r in results} == {"argos"}
    assert not any(r.needs_human or r.over_budget for r in results)


def test_a_line_of_two_sentences_is_translated_sentence_by_sentence(packages_dir):
    [result] = ArgosTranslator(packages_dir).translate(
        lines("Lu Chen is waiting downstairs. Thank you."), source="en", target="es"
    )

    assert result.text == "Lu Chen espera abajo. Gracias."


def test_over_budget_the_best_alternative_within_budget_is_taken(packages_dir):
    # The corpus teaches two translations of "I'm sorry.": mostly a long one, once "Perdón.".
    [loose, tight] = ArgosTranslator(packages_dir).translate(
        [LineRequest(0, "I'm sorry.", None, 40), LineRequest(1, "I'm sorry.", None, 8)],
        source="en",
        target="es",
    )

    assert tight.text == "Perdón." and not tight.over_budget
    assert "took a shorter alternative" in tight.note
    assert loose.text == "Lo siento muchísimo, de verdad." and loose.note == ""


def test_a_line_no_alternative_fits_is_flagged_over_budget(packages_dir):
    [result] = ArgosTranslator(packages_dir).translate(
        lines("Where were you last night?", budget=10), source="en", target="es"
    )

    assert result.text == "¿Dónde estabas anoche?"
    assert result.over_budget and not result.needs_human


@pytest.mark.parametrize("required", ["presidente", "jefe"])
def test_the_alternative_using_the_bibles_term_is_preferred(packages_dir, required):
    bible = Bible(terms=(Term("boss", {"es": required}),))

    [result] = ArgosTranslator(packages_dir).translate(
        lines("Meet the boss."), source="en", target="es", bible=bible
    )

    assert result.text == f"Conoce al {required}."
    assert result.glossary_problems == ()


def test_glossary_problems_are_reported_when_no_alternative_has_the_term(packages_dir):
    bible = Bible(
        characters=(Character("Xia Wan", "female"),), terms=(Term("contract", {"es": "acuerdo"}),)
    )

    [result] = ArgosTranslator(packages_dir).translate(
        lines("Sign the contract."), source="en", target="es", bible=bible
    )

    assert result.glossary_problems == (
        '"contract" should be translated as "acuerdo" (series bible)',
    )


def test_a_pair_without_a_package_pivots_through_an_installed_language(packages_dir):
    translator = ArgosTranslator(packages_dir)

    assert translator.route("en", "ca")[0].target == "es"
    results = translator.translate(
        lines("Sign the contract.", "Lu Chen signed the contract."), source="en", target="ca"
    )

    assert [r.text for r in results] == ["Signa el contracte.", "Lu Chen va signar el contracte."]


def test_pairs_include_pivots_and_the_description_says_which(packages_dir):
    translator = ArgosTranslator(packages_dir)

    assert translator.pairs() == {("en", "es"), ("es", "ca"), ("en", "ca")}
    assert translator.supports("en", "es-419")  # served by the es package
    assert not translator.supports("ca", "en")
    assert translator.describe() == "argos en→es, es→ca (through a pivot: en→ca)"
    with pytest.raises(UnsupportedLanguage, match="No Argos package translates ca→en"):
        translator.route("ca", "en")


def test_an_empty_packages_folder_says_how_to_install_one(tmp_path):
    translator = ArgosTranslator(tmp_path / "nothing-here")

    assert translator.pairs() == set()
    assert "hookline models install argos" in translator.describe()


def test_installing_again_replaces_the_package_for_the_same_pair(tmp_path, tiny_archives):
    folder = tmp_path / "argos"
    install_argos_package(tiny_archives[("en", "es")], folder)
    renamed = tmp_path / "renamed.argosmodel"
    with zipfile.ZipFile(tiny_archives[("en", "es")]) as old, zipfile.ZipFile(renamed, "w") as new:
        for item in old.infolist():
            new.writestr(item.filename.replace("-tiny", "-v2"), old.read(item))

    package = install_argos_package(renamed, folder)

    assert [p.path.name for p in installed_argos_packages(folder)] == [package.path.name]
    assert package.path.name == "translate-en_es-v2" and package.source == "en"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"pkg/README.md": "hi"}, "no metadata.json"),
        ({"pkg/metadata.json": "{"}, "not valid JSON"),
        ({"pkg/metadata.json": json.dumps({"from_code": "en", "to_code": "es"})}, "model.bin"),
        ({"a/metadata.json": "{}", "b/metadata.json": "{}"}, "laid out"),
        ({"../evil/metadata.json": "{}"}, "laid out"),
    ],
)
def test_a_file_that_is_not_an_argos_package_is_refused(tmp_path, files, message):
    archive = tmp_path / "bad.argosmodel"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)

    with pytest.raises(InvalidInput, match=message):
        install_argos_package(archive, tmp_path / "argos")
    assert installed_argos_packages(tmp_path / "argos") == []


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    archive = tmp_path / "model.argosmodel"
    archive.write_text("not a zip")

    with pytest.raises(InvalidInput, match="not an Argos package"):
        install_argos_package(archive, tmp_path / "argos")


def test_a_corrupt_model_fails_the_translation_with_how_to_fix_it(packages_dir):
    (packages_dir / "translate-en_es-tiny" / "model" / "model.bin").write_bytes(b"garbage")

    with pytest.raises(TranslationFailed, match=r"could not be loaded.*hookline models install"):
        ArgosTranslator(packages_dir).translate(
            lines("Sign the contract."), source="en", target="es"
        )


def test_translating_downloads_nothing_and_writes_nothing_to_home(packages_dir, tmp_path):
    # argostranslate.translate's sentence splitters download models, and importing it
    # writes under ~; a fresh interpreter with sockets refused shows we use neither.
    home = tmp_path / "home"
    home.mkdir()
    script = f"""
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access during translation")
socket.socket.connect = refuse
socket.create_connection = refuse
from localization.translation import ArgosTranslator, LineRequest
[r] = ArgosTranslator({str(packages_dir)!r}).translate(
    [LineRequest(0, "Good morning. Thank you.")], source="en", target="ca")
print(r.text)
print(sorted(m for m in ("argostranslate.translate", "argostranslate.settings", "stanza", "spacy")
             if m in sys.modules))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")} | {"HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Bon dia. Gràcies.", "[]"]
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Sign it, Mr. Lu. Now!", ["Sign it, Mr. Lu.", "Now!"]),
        ('"Why?" she asked... Nobody knows.', ['"Why?" she asked...', "Nobody knows."]),
        ("No punctuation at all", ["No punctuation at all"]),
        ("你好。我是陆辰！", ["你好。", "我是陆辰！"]),
        ("「走吧。」他说。", ["「走吧。」他说。"]),
        ("", []),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences
