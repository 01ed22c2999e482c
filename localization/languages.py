"""Language tags: Hookline speaks BCP-47 (es, pt-BR, zh-Hans); backends have their own codes.

Pure functions, no I/O. Chinese is always written with its script (zh-Hans, zh-Hant): a
bare ``zh`` or ``zh-CN`` means Simplified, ``zh-TW``/``zh-HK``/``zh-MO`` Traditional, so
a Traditional request never falls back to a Simplified model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from localization.errors import UnsupportedLanguage

_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_TRADITIONAL_REGIONS = {"TW", "HK", "MO"}

# Languages written without spaces between words (or, for Korean, with syllable blocks
# that are each a spoken syllable): lengths are counted in characters, not letters+spaces.
CJK_LANGUAGES = frozenset({"zh", "ja", "ko", "yue"})

_NAMES = {
    "ar": "Arabic",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fil": "Filipino",
    "fr": "French",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "ms": "Malay",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}
_SPECIFIC_NAMES = {
    "zh-Hans": "Simplified Chinese",
    "zh-Hant": "Traditional Chinese",
    "pt-BR": "Brazilian Portuguese",
    "pt-PT": "European Portuguese",
    "es-419": "Latin American Spanish",
    "es-ES": "European Spanish",
}

# ISO 639-1 -> ISO 639-3, for backends (Apertium) that name languages with three letters.
ISO639_3 = {
    "af": "afr",
    "an": "arg",
    "ar": "ara",
    "az": "aze",
    "be": "bel",
    "bg": "bul",
    "br": "bre",
    "bs": "bos",
    "ca": "cat",
    "cs": "ces",
    "cy": "cym",
    "da": "dan",
    "de": "deu",
    "el": "ell",
    "en": "eng",
    "eo": "epo",
    "es": "spa",
    "et": "est",
    "eu": "eus",
    "fa": "fas",
    "fi": "fin",
    "fo": "fao",
    "fr": "fra",
    "ga": "gle",
    "gl": "glg",
    "he": "heb",
    "hi": "hin",
    "hr": "hrv",
    "hu": "hun",
    "hy": "hye",
    "id": "ind",
    "is": "isl",
    "it": "ita",
    "ja": "jpn",
    "ka": "kat",
    "kk": "kaz",
    "ko": "kor",
    "ky": "kir",
    "lt": "lit",
    "lv": "lav",
    "mk": "mkd",
    "ms": "msa",
    "mt": "mlt",
    "nb": "nob",
    "nl": "nld",
    "nn": "nno",
    "oc": "oci",
    "pl": "pol",
    "pt": "por",
    "ro": "ron",
    "ru": "rus",
    "sc": "srd",
    "se": "sme",
    "sk": "slk",
    "sl": "slv",
    "sq": "sqi",
    "sr": "srp",
    "sv": "swe",
    "th": "tha",
    "tr": "tur",
    "tt": "tat",
    "uk": "ukr",
    "ur": "urd",
    "uz": "uzb",
    "vi": "vie",
    "zh": "zho",
}
ISO639_1 = {three: two for two, three in ISO639_3.items()}


def canonical(tag: str) -> str:
    """Return ``tag`` in canonical BCP-47 casing, with the script made explicit for Chinese.

    ``pt-br`` -> ``pt-BR``, ``zh`` -> ``zh-Hans``, ``zh-TW`` -> ``zh-Hant-TW``.
    """
    if not isinstance(tag, str) or not _TAG.match(tag.strip().replace("_", "-")):
        raise UnsupportedLanguage(
            f"{tag!r} is not a language tag; use BCP-47 tags such as es, pt-BR or zh-Hans."
        )
    language, *rest = tag.strip().replace("_", "-").split("-")
    parts = [language.lower()]
    for sub in rest:
        if len(sub) == 4 and sub.isalpha():
            parts.append(sub.title())  # script
        elif (len(sub) == 2 and sub.isalpha()) or (len(sub) == 3 and sub.isdigit()):
            parts.append(sub.upper())  # region
        else:
            parts.append(sub.lower())  # variant
    if parts[0] == "zh" and not (len(parts) > 1 and len(parts[1]) == 4):
        script = "Hant" if len(parts) > 1 and parts[1] in _TRADITIONAL_REGIONS else "Hans"
        parts.insert(1, script)
    return "-".join(parts)


def base_language(tag: str) -> str:
    """Return the primary language subtag: ``pt-BR`` -> ``pt``."""
    return canonical(tag).split("-")[0]


def is_cjk(tag: str) -> bool:
    return base_language(tag) in CJK_LANGUAGES


def fallbacks(tag: str) -> list[str]:
    """Return ``tag`` and its ever more general forms: zh-Hant-TW, zh-Hant (never zh-Hans)."""
    parts = canonical(tag).split("-")
    keep = 2 if parts[0] == "zh" else 1  # Chinese never loses its script
    return ["-".join(parts[:n]) for n in range(len(parts), keep - 1, -1)]


def best_match(requested: str, offered: Iterable[str]) -> str | None:
    """Return the offered tag that serves ``requested`` best, or None.

    An exact match wins, then a more general one (pt-BR served by pt), then a more
    specific one (pt served by pt-BR). Offered tags must be canonical.
    """
    offered = set(offered)
    for candidate in fallbacks(requested):
        if candidate in offered:
            return candidate
    wanted = canonical(requested)
    specific = sorted(tag for tag in offered if wanted in fallbacks(tag))
    return specific[0] if specific else None


def display_name(tag: str) -> str:
    """Return an English name for prompts and messages: ``pt-BR`` -> Brazilian Portuguese."""
    tag = canonical(tag)
    for candidate in fallbacks(tag):
        if candidate in _SPECIFIC_NAMES:
            return _SPECIFIC_NAMES[candidate]
    name = _NAMES.get(tag.split("-")[0])
    if name is None:
        return f"the language with BCP-47 tag {tag}"
    region = [p for p in tag.split("-")[1:] if p.isupper()]
    return f"{name} ({region[0]})" if region else name


def pair_label(pairs: Iterable[tuple[str, str]]) -> str:
    """Return ``en→es, en→ca`` for messages."""
    return ", ".join(f"{source}→{target}" for source, target in sorted(pairs))
