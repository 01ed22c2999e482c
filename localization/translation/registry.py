"""Which backend translates a language pair: the first in HOOKLINE_TRANSLATORS that can.

Each backend is one factory here, building it from the settings; a backend that is not
configured becomes an UnavailableTranslator that says why, so the error for an
unsupported pair can list everything that is (and is not) installed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hookline.errors import SettingsError
from hookline.settings import Settings
from localization.errors import UnsupportedLanguage
from localization.languages import canonical
from localization.translation.apertium import ApertiumTranslator
from localization.translation.argos import ArgosTranslator
from localization.translation.base import Translator, UnavailableTranslator
from localization.translation.llm import ChatTranslator


def argos_packages_dir(settings: Settings) -> Path:
    """Return where Argos packages are installed: MODELS_DIR/argos."""
    assert settings.models_dir is not None  # filled in by Settings.__post_init__
    return settings.models_dir / "argos"


def _argos(settings: Settings) -> Translator:
    return ArgosTranslator(argos_packages_dir(settings))


def _apertium(settings: Settings) -> Translator:
    return ApertiumTranslator(settings.apertium)


def _llm(settings: Settings) -> Translator:
    if not settings.llm_url:
        return UnavailableTranslator("llm", "LLM endpoint not configured (HOOKLINE_LLM_URL)")
    return ChatTranslator(
        settings.llm_url,
        settings.llm_model,
        settings.llm_api_key,
        timeout_s=settings.http_timeout_seconds,
    )


BACKENDS: dict[str, Callable[[Settings], Translator]] = {
    "argos": _argos,
    "apertium": _apertium,
    "llm": _llm,
}


def create_translator(name: str, settings: Settings) -> Translator:
    """Build the backend called ``name`` from the settings."""
    factory = BACKENDS.get(name)
    if factory is None:
        raise SettingsError(
            f"HOOKLINE_TRANSLATORS names {name!r}, which is not a translation backend; "
            f"choose from {', '.join(BACKENDS)}."
        )
    return factory(settings)


def installed_translators(settings: Settings) -> list[Translator]:
    """Return the backends of HOOKLINE_TRANSLATORS, in order of preference."""
    return [create_translator(name, settings) for name in settings.translators]


def choose_translator(settings: Settings, source: str, target: str) -> Translator:
    """Return the first backend in HOOKLINE_TRANSLATORS that translates source→target.

    Raises UnsupportedLanguage, naming what is installed, when none does. The caller
    closes the translator it gets (``with choose_translator(...) as translator:``).
    """
    source, target = canonical(source), canonical(target)
    tried = []
    for translator in installed_translators(settings):
        if translator.supports(source, target):
            for other in tried:
                other.close()
            return translator
        tried.append(translator)
    for translator in tried:
        translator.close()
    installed = (
        "; ".join(t.describe() for t in tried) or "no backends (HOOKLINE_TRANSLATORS is empty)"
    )
    raise UnsupportedLanguage(f"No translator for {source}→{target}. Installed: {installed}")
