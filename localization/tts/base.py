"""What every speech backend offers: text and a voice in, a mono clip out."""

from __future__ import annotations

from typing import Protocol

from localization.audio import Clip
from localization.errors import SpeechFailed
from localization.tts.voices import Voice


class Synthesizer(Protocol):
    """A text-to-speech backend.

    ``name`` identifies the backend and, for a server, which server and model: the
    cache of measured speaking rates is keyed by it.
    """

    name: str

    def synthesize(self, text: str, voice: Voice) -> Clip:
        """Speak ``text``; raise SpeechFailed when the backend cannot."""
        ...


def check_backend(voice: Voice, backend: str) -> None:
    """Refuse a voice meant for another backend, rather than speaking with the wrong one."""
    if voice.backend != backend:
        raise SpeechFailed(
            f"voice {voice.voice!r} belongs to the {voice.backend} backend, not {backend}"
        )
