"""Errors of the localization pipeline; each message says what is wrong and what to do."""

from __future__ import annotations

from hookline.errors import HooklineError, InvalidInput


class LocalizationError(HooklineError):
    """A localization stage could not do its work."""


class ModelMissing(LocalizationError):
    """A model the stage needs is not installed (the service never downloads one)."""


class UnsupportedLanguage(InvalidInput):
    """No installed backend handles this language (pair); the message lists what is installed."""


class TranslationFailed(LocalizationError):
    """A translation backend failed, refused, or timed out."""


class SpeechFailed(LocalizationError):
    """A text-to-speech backend failed or timed out."""


class BadAudio(InvalidInput):
    """The episode's audio cannot be localized: none, silent, or music only."""
