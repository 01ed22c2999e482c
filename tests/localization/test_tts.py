"""Voices and speech backends: espeak-ng in process, the speech endpoint over real HTTP."""

from __future__ import annotations

import io
import json
import socket
import struct
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from hookline.demo.script import VoiceSpec
from hookline.errors import InvalidInput
from hookline.settings import Settings
from localization.audio import Clip, rms_db
from localization.errors import SpeechFailed, UnsupportedLanguage
from localization.tts import (
    EspeakSynthesizer,
    SpeechEndpointSynthesizer,
    Voice,
    calibration_text,
    default_voice,
    measure_rate,
    synthesizer_for,
    voice_from_dict,
)

ESPEAK = EspeakSynthesizer()


@pytest.mark.parametrize("language", ["en", "es", "ca", "pt", "id"])
@pytest.mark.parametrize("gender", ["female", "male"])
def test_espeak_speaks_each_dub_language_at_a_plausible_pace(language, gender):
    voice = default_voice(language, gender, character="Lin")
    text = calibration_text(language)

    clip = ESPEAK.synthesize(text, voice)

    assert clip.samples.dtype == np.float32
    assert clip.sample_rate == 22050
    assert float(np.abs(clip.samples).max()) <= 1.0
    assert rms_db(clip.samples) > -30
    # About 12 to 20 characters a second is how fast people speak dialogue.
    assert 8 < len(text) / clip.duration_s < 25


def test_default_voice_is_stable_per_character_and_varies_between_characters():
    first = default_voice("es", "female", character="Lin Yue")

    assert default_voice("es", "female", character="Lin Yue") == first
    assert first.backend == "espeak"
    assert first.voice.startswith("es+f")
    others = {default_voice("es", "female", character=f"Extra {n}").voice for n in range(12)}
    assert len(others) >= 3
    assert default_voice("es", "male", character="Marco").voice.startswith("es+m")


@pytest.mark.parametrize(
    ("language", "voice"),
    [("en", "en-us"), ("pt", "pt-br"), ("pt-PT", "pt-pt"), ("zh-Hans", "cmn"), ("ca", "ca")],
)
def test_default_voice_maps_language_tags_to_espeak_voices(language, voice):
    assert default_voice(language, "female").voice == f"{voice}+f3"


def test_default_voice_names_the_installed_languages_when_there_is_none():
    with pytest.raises(UnsupportedLanguage, match=r"no voice for 'xx'.*es"):
        default_voice("xx", "female")


def test_bible_voice_round_trips_through_its_dict():
    stored = VoiceSpec("es+f3", rate_wpm=160, pitch=55).as_dict()

    voice = voice_from_dict(stored, "es")

    assert voice == Voice("espeak", "es+f3", "es", rate_wpm=160, pitch=55)
    assert voice.as_dict() == stored
    endpoint = voice_from_dict({"backend": "endpoint", "voice": "ef_dora", "speed": 1.1}, "es")
    assert voice_from_dict(endpoint.as_dict(), "es") == endpoint


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        ({"backend": "festival", "voice": "x"}, "unknown voice backend 'festival'"),
        ({"backend": "espeak", "voice": ""}, "needs a 'voice' name"),
        ({"backend": "espeak", "voice": "es", "rate": 160}, "unknown espeak voice fields"),
        ({"backend": "espeak", "voice": "es", "pitch": 140}, "'pitch' must be from 0 to 100"),
        ({"backend": "endpoint", "voice": "a", "speed": True}, "'speed' must be from"),
    ],
)
def test_bad_bible_voices_are_refused_with_the_field_named(data, phrase):
    with pytest.raises(InvalidInput, match=phrase):
        voice_from_dict(data)


def test_espeak_failure_is_speech_failed():
    with pytest.raises(SpeechFailed, match="espeak-ng could not speak with 'es\\+nosuch'"):
        ESPEAK.synthesize("Hola.", Voice("espeak", "es+nosuch", "es"))


@dataclass
class Counting:
    """A synthesizer that counts the calls it passes on to espeak-ng."""

    calls: int = 0
    name: str = "counting"

    def synthesize(self, text: str, voice: Voice) -> Clip:
        self.calls += 1
        return ESPEAK.synthesize(text, voice)


def test_measured_rate_is_plausible_and_measured_once_per_voice():
    synth = Counting(name="counting-once")
    voice = default_voice("es", "female")

    rate = measure_rate(synth, voice, "es")

    assert 10 < rate < 25
    assert measure_rate(synth, voice, "es") == rate
    assert synth.calls == 1
    faster = Voice("espeak", voice.voice, "es", rate_wpm=220, pitch=voice.pitch)
    assert measure_rate(synth, faster, "es") > rate * 1.15
    assert synth.calls == 2


def test_synthesizer_for_picks_the_backend_from_the_voice():
    espeak_voice = default_voice("en", "male")
    endpoint_voice = Voice("endpoint", "af_bella", "en")

    assert isinstance(synthesizer_for(espeak_voice, Settings()), EspeakSynthesizer)
    with pytest.raises(SpeechFailed, match="HOOKLINE_TTS_URL is not set"):
        synthesizer_for(endpoint_voice, Settings())
    settings = Settings(tts_url="http://127.0.0.1:1/v1", http_timeout_seconds=7.0)
    synth = synthesizer_for(endpoint_voice, settings)
    assert isinstance(synth, SpeechEndpointSynthesizer)
    assert synth.timeout == 7.0
    assert synthesizer_for(endpoint_voice, settings) is synth


# --- the speech endpoint, against a real HTTP server on loopback -----------------------


def tone_wav(seconds: float = 0.8, rate: int = 24_000, *, padded: bool = True) -> bytes:
    """A 16-bit WAV of a 220 Hz tone with 0.3 s of silence either side, as servers pad."""
    t = np.arange(int(seconds * rate)) / rate
    body = 0.5 * np.sin(2 * np.pi * 220 * t)
    if padded:
        silence = np.zeros(int(0.3 * rate))
        body = np.concatenate([silence, body, silence])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((body * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def streamed_float_wav(seconds: float = 0.5, rate: int = 22_050) -> bytes:
    """A float32 stereo WAV whose sizes are the 0xFFFFFFFF placeholders of a stream."""
    samples = np.full((int(seconds * rate), 2), 0.25, dtype="<f4")
    fmt = struct.pack("<HHIIHH", 3, 2, rate, rate * 8, 8, 32)
    header = b"RIFF" + b"\xff\xff\xff\xff" + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    return header + b"data" + b"\xff\xff\xff\xff" + samples.tobytes()


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "audio/wav"
    headers: dict = field(default_factory=dict)
    hang_s: float = 0.0


@dataclass
class SpeechServer:
    """Answers POST /v1/audio/speech from a script of answers; the last one repeats."""

    answers: list[Answer]
    requests: list[dict] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def next_answer(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(server: SpeechServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            server.requests.append(
                {"path": self.path, "json": json.loads(body), "auth": self.headers["Authorization"]}
            )
            answer = server.next_answer()
            if answer.hang_s:
                server.stop.wait(answer.hang_s)  # released at teardown, so the thread ends
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

    return Handler


@pytest.fixture
def speech_server() -> Iterator[SpeechServer]:
    server = SpeechServer(answers=[Answer(body=tone_wav())])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.stop.set()
    httpd.shutdown()
    httpd.server_close()


def endpoint(server: SpeechServer, **options) -> SpeechEndpointSynthesizer:
    options.setdefault("timeout", 5.0)
    options.setdefault("backoff_s", 0.01)
    return SpeechEndpointSynthesizer(server.url, "kokoro", "secret", **options)


VOICE = Voice("endpoint", "af_bella", "en")


def test_endpoint_speaks_wav_and_sends_the_openai_request(speech_server):
    clip = endpoint(speech_server).synthesize("You signed it.", VOICE)

    assert clip.sample_rate == 24_000
    # The server's padding is trimmed: the clip lasts as long as the tone, plus margins.
    assert clip.duration_s == pytest.approx(0.84, abs=0.02)
    (request,) = speech_server.requests
    assert request["path"] == "/v1/audio/speech"
    assert request["json"] == {
        "model": "kokoro",
        "input": "You signed it.",
        "voice": "af_bella",
        "response_format": "wav",
    }
    assert request["auth"] == "Bearer secret"


def test_endpoint_sends_the_voice_speed_when_not_natural(speech_server):
    endpoint(speech_server).synthesize("Go.", Voice("endpoint", "af_bella", "en", speed=1.25))

    assert speech_server.requests[0]["json"]["speed"] == 1.25


def test_endpoint_accepts_raw_pcm_at_24_khz(speech_server):
    pcm = (0.5 * np.sin(np.arange(12_000) / 10) * 32767).astype("<i2").tobytes()
    speech_server.answers[:] = [Answer(body=pcm, content_type="audio/pcm")]

    clip = endpoint(speech_server).synthesize("Hello.", VOICE)

    assert clip.sample_rate == 24_000
    assert clip.duration_s == pytest.approx(0.5, abs=0.01)


def test_endpoint_reads_streamed_float_wav(speech_server):
    speech_server.answers[:] = [Answer(body=streamed_float_wav())]

    clip = endpoint(speech_server).synthesize("Hello.", VOICE)

    assert clip.sample_rate == 22_050
    assert clip.duration_s == pytest.approx(0.5, abs=0.01)
    assert float(np.abs(clip.samples).max()) == pytest.approx(0.25)


def test_endpoint_waits_as_retry_after_says_then_succeeds(speech_server):
    busy = Answer(429, b'{"error": {"message": "slow down"}}', "application/json")
    busy.headers["Retry-After"] = "1"
    speech_server.answers[:] = [busy, Answer(body=tone_wav())]

    started = time.monotonic()
    clip = endpoint(speech_server).synthesize("Hello.", VOICE)

    assert clip.duration_s > 0.5
    assert len(speech_server.requests) == 2
    assert time.monotonic() - started >= 0.95


def test_endpoint_caps_a_long_retry_after_at_its_timeout(speech_server):
    busy = Answer(429, b"busy", "text/plain", headers={"Retry-After": "3600"})
    speech_server.answers[:] = [busy, Answer(body=tone_wav())]

    started = time.monotonic()
    endpoint(speech_server, timeout=0.5).synthesize("Hello.", VOICE)

    assert time.monotonic() - started < 3


def test_endpoint_retries_a_server_error_then_succeeds(speech_server):
    speech_server.answers[:] = [Answer(500, b"oops", "text/plain"), Answer(body=tone_wav())]

    clip = endpoint(speech_server).synthesize("Hello.", VOICE)

    assert clip.duration_s > 0.5
    assert len(speech_server.requests) == 2


def test_endpoint_gives_up_after_its_retries_with_the_servers_words(speech_server):
    speech_server.answers[:] = [Answer(503, b'{"detail": "model loading"}', "application/json")]

    with pytest.raises(SpeechFailed, match="HTTP 503 after 3 attempts: model loading"):
        endpoint(speech_server, retries=2).synthesize("Hello.", VOICE)
    assert len(speech_server.requests) == 3


def test_endpoint_timeout_names_the_url_and_seconds_and_is_not_retried(speech_server):
    speech_server.answers[:] = [Answer(body=tone_wav(), hang_s=10)]

    started = time.monotonic()
    with pytest.raises(SpeechFailed) as failure:
        endpoint(speech_server, timeout=0.3).synthesize("Hello.", VOICE)

    assert time.monotonic() - started < 2
    assert f"{speech_server.url}/audio/speech did not answer within 0.3 s" in str(failure.value)
    assert len(speech_server.requests) == 1


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (Answer(body=b"\x00garbage" * 50), "cannot read \\(audio/wav, 400 bytes\\)"),
        (Answer(body=b"RIFF\x00\x00\x00\x00WAVEjunk"), "without a fmt or data chunk"),
        (Answer(body=b'{"audio": null}', content_type="application/json"), "answered JSON"),
        (Answer(400, b'{"error": {"message": "unknown voice"}}'), "HTTP 400: unknown voice"),
        (Answer(401, b"no"), "HOOKLINE_TTS_API_KEY"),
    ],
)
def test_endpoint_bad_answers_are_speech_failed(speech_server, answer, phrase):
    speech_server.answers[:] = [answer]

    with pytest.raises(SpeechFailed, match=phrase):
        endpoint(speech_server).synthesize("Hello.", VOICE)


def test_endpoint_that_is_not_running_is_speech_failed():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    synth = SpeechEndpointSynthesizer(f"http://127.0.0.1:{port}/v1", timeout=1.0, retries=0)

    with pytest.raises(SpeechFailed, match="cannot reach the speech endpoint"):
        synth.synthesize("Hello.", VOICE)


def test_endpoint_rate_is_measured_from_the_servers_speech(speech_server):
    speech_server.answers[:] = [Answer(body=tone_wav(seconds=6.0))]
    synth = endpoint(speech_server)

    rate = measure_rate(synth, VOICE, "en")

    assert rate == pytest.approx(len(calibration_text("en")) / 6.04, rel=0.01)
    measure_rate(synth, VOICE, "en")
    assert len(speech_server.requests) == 1
