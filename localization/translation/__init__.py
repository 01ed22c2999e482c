"""Translate an episode's lines within their time budgets, true to the series bible.

One interface (:class:`Translator`), three backends: Argos Translate packages (offline
neural), Apertium (offline rule-based) and an OpenAI-compatible LLM endpoint. Use
:func:`choose_translator` to get the first one, in HOOKLINE_TRANSLATORS order, that
handles a language pair::

    with choose_translator(settings, "en", "es") as translator:
        results = translator.translate(lines, source="en", target="es", bible=bible)

Budgets come from :func:`char_budget`; results carry ``over_budget``, the bible's
``glossary_problems`` and ``needs_human`` for lines a backend failed on or refused.
"""

from localization.languages import canonical as canonical_language
from localization.translation.apertium import ApertiumTranslator
from localization.translation.argos import (
    ArgosPackage,
    ArgosTranslator,
)
from localization.translation.argos import (
    install_package as install_argos_package,
)
from localization.translation.argos import (
    installed_packages as installed_argos_packages,
)
from localization.translation.base import (
    NO_BIBLE,
    Bible,
    Character,
    LineRequest,
    Term,
    TranslatedLine,
    Translator,
)
from localization.translation.budget import MAX_BORROW_S, char_budget, over_budget, spoken_length
from localization.translation.glossary import check_terms, protect, restore
from localization.translation.llm import ChatTranslator
from localization.translation.registry import (
    argos_packages_dir,
    choose_translator,
    installed_translators,
)

__all__ = [
    "MAX_BORROW_S",
    "NO_BIBLE",
    "ApertiumTranslator",
    "ArgosPackage",
    "ArgosTranslator",
    "Bible",
    "Character",
    "ChatTranslator",
    "LineRequest",
    "Term",
    "TranslatedLine",
    "Translator",
    "argos_packages_dir",
    "canonical_language",
    "char_budget",
    "check_terms",
    "choose_translator",
    "install_argos_package",
    "installed_argos_packages",
    "installed_translators",
    "over_budget",
    "protect",
    "restore",
    "spoken_length",
]
