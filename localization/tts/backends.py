"""Which synthesizer speaks a voice: one entry per backend."""

from __future__ import annotations

import functools

from hookline.settings import Settings
from localization.errors import SpeechFailed
from localization.tts.base import Synthesizer
from localization.tts.endpoint import SpeechEndpointSynthesizer
from localization.tts.espeak import EspeakSynthesizer
from localization.tts.voices import Voice

_ESPEAK = EspeakSynthesizer()


def synthesizer_for(voice: Voice, settings: Settings) -> Synthesizer:
    """Return the synthesizer for ``voice``'s backend, configured from ``settings``."""
    if voice.backend == "espeak":
        return _ESPEAK
    if not settings.tts_url:
        raise SpeechFailed(
            f"voice {voice.voice!r} needs the speech endpoint, but HOOKLINE_TTS_URL is not "
            "set: set it, or give the character an espeak voice in the series bible"
        )
    return _endpoint(
        settings.tts_url, settings.tts_model, settings.tts_api_key, settings.http_timeout_seconds
    )


@functools.lru_cache(maxsize=8)
def _endpoint(url: str, model: str, api_key: str, timeout: float) -> SpeechEndpointSynthesizer:
    # One per server, so its session's connections are pooled across lines and languages.
    return SpeechEndpointSynthesizer(url, model, api_key, timeout)
