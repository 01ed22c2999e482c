"""Speak with espeak-ng: offline, instant, robotic; the voice every install has."""

from __future__ import annotations

import numpy as np

from localization import espeak
from localization.audio import Clip
from localization.errors import SpeechFailed
from localization.tts.base import check_backend
from localization.tts.voices import Voice


class EspeakSynthesizer:
    """Synthesize with the process's espeak-ng (see :mod:`localization.espeak`)."""

    name = "espeak"

    def synthesize(self, text: str, voice: Voice) -> Clip:
        check_backend(voice, "espeak")
        try:
            speech = espeak.synthesize(
                text, voice=voice.voice, rate_wpm=voice.rate_wpm, pitch=voice.pitch
            )
        except espeak.TTSError as exc:
            raise SpeechFailed(f"espeak-ng could not speak with {voice.voice!r}: {exc}") from exc
        return Clip(speech.samples.astype(np.float32) / 32768, speech.sample_rate)
