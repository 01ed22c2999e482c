"""Text to speech: voices from the series bible, and the backends that speak them."""

from localization.audio import Clip
from localization.tts.backends import synthesizer_for
from localization.tts.base import Synthesizer
from localization.tts.endpoint import SpeechEndpointSynthesizer
from localization.tts.espeak import EspeakSynthesizer
from localization.tts.rate import calibration_text, measure_rate
from localization.tts.voices import Voice, default_voice, espeak_voice_for, voice_from_dict

__all__ = [
    "Clip",
    "EspeakSynthesizer",
    "SpeechEndpointSynthesizer",
    "Synthesizer",
    "Voice",
    "calibration_text",
    "default_voice",
    "espeak_voice_for",
    "measure_rate",
    "synthesizer_for",
    "voice_from_dict",
]
