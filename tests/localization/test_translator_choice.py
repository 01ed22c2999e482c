"""Which backend translates a pair, and what the error says when none does."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookline.errors import SettingsError
from hookline.settings import Settings
from localization.errors import TranslationFailed, UnsupportedLanguage
from localization.translation import (
    ApertiumTranslator,
    ArgosTranslator,
    ChatTranslator,
    LineRequest,
    argos_packages_dir,
    choose_translator,
    install_argos_package,
    installed_translators,
)

import argos_tiny


@pytest.fixture(scope="module")
def en_es_archive(request: pytest.FixtureRequest, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("argos-tiny") if cache else tmp_path_factory.getbasetemp() / "argos-tiny"
    folder.mkdir(exist_ok=True)
    return argos_tiny.cached_packages(Path(folder))[("en", "es")]


def settings(tmp_path: Path, **overrides) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)


def test_the_first_backend_in_order_that_has_the_pair_is_chosen(tmp_path, en_es_archive):
    config = settings(tmp_path)

    with choose_translator(config, "en", "es") as before:
        assert isinstance(before, ApertiumTranslator)  # no Argos package yet
    install_argos_package(en_es_archive, argos_packages_dir(config))
    with choose_translator(config, "en", "es") as after:
        assert isinstance(after, ArgosTranslator)
    with choose_translator(config, "en", "ca") as catalan:
        assert isinstance(catalan, ApertiumTranslator)
    with choose_translator(config.replace(translators=("apertium", "argos")), "en", "es") as order:
        assert isinstance(order, ApertiumTranslator)


def test_argos_packages_live_in_the_models_folder(tmp_path):
    assert argos_packages_dir(settings(tmp_path)) == tmp_path / "models" / "argos"
    assert (
        argos_packages_dir(settings(tmp_path, models_dir=tmp_path / "m"))
        == tmp_path / "m" / "argos"
    )


def test_the_error_for_an_unsupported_pair_names_everything_installed(tmp_path, en_es_archive):
    config = settings(tmp_path)
    install_argos_package(en_es_archive, argos_packages_dir(config))

    with pytest.raises(UnsupportedLanguage) as error:
        choose_translator(config, "en", "xx")

    message = str(error.value)
    assert message.startswith("No translator for en→xx. Installed: argos en→es; apertium ca→en, ")
    assert "en→es" in message.split("apertium")[1]
    assert message.endswith("; LLM endpoint not configured (HOOKLINE_LLM_URL)")


def test_the_error_says_what_to_install_when_nothing_is(tmp_path):
    config = settings(tmp_path, apertium="no-such-apertium")

    with pytest.raises(UnsupportedLanguage) as error:
        choose_translator(config, "en", "es")

    assert str(error.value) == (
        "No translator for en→es. Installed: "
        f"argos: no packages in {tmp_path / 'models' / 'argos'} "
        "(install one with `hookline models install argos FILE.argosmodel`); "
        "apertium: not installed (install the Debian packages, e.g. "
        "`apt-get install apertium apertium-eng-spa apertium-eng-cat`); "
        "LLM endpoint not configured (HOOKLINE_LLM_URL)"
    )


def test_a_configured_llm_takes_the_pairs_nothing_offline_has(tmp_path):
    config = settings(
        tmp_path,
        llm_url="http://127.0.0.1:9/v1/",
        llm_model="qwen2.5-7b-instruct",
        llm_api_key="sk-x",
        http_timeout_seconds=12.5,
    )

    with choose_translator(config, "zh-Hans", "id") as translator:
        assert isinstance(translator, ChatTranslator)
        assert translator.base_url == "http://127.0.0.1:9/v1"
        assert translator.model == "qwen2.5-7b-instruct"
        assert translator.timeout_s == 12.5
        assert translator.session.headers["Authorization"] == "Bearer sk-x"


def test_an_unconfigured_backend_refuses_to_translate_saying_why(tmp_path):
    config = settings(tmp_path, translators=("llm",))
    [llm] = installed_translators(config)

    assert not llm.supports("en", "es")
    with pytest.raises(TranslationFailed, match="HOOKLINE_LLM_URL"):
        llm.translate([LineRequest(0, "Hi.")], source="en", target="es")


def test_an_unknown_backend_name_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError, match=r"'deepl'.*choose from argos, apertium, llm"):
        choose_translator(settings(tmp_path, translators=("argos", "deepl")), "en", "es")


def test_language_tags_are_checked_before_anything_else(tmp_path):
    with pytest.raises(UnsupportedLanguage, match="'Spanish' is not a language tag"):
        choose_translator(settings(tmp_path), "en", "Spanish")
