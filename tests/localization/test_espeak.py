import threading
import wave

import numpy as np
import pytest

from localization import espeak
from localization.espeak import TTSError, synthesize

ENGLISH = "Sign the contract, and you will be my wife for one year."
SPANISH = "Firma el contrato y serás mi esposa durante un año."


def rms_dbfs(samples: np.ndarray) -> float:
    power = np.mean((samples.astype(np.float64) / 32768) ** 2)
    return 10 * np.log10(max(power, 1e-12))


def median_pitch_hz(speech: espeak.Speech) -> float:
    """Estimate the speaker's median f0 from the autocorrelation peak of loud 40 ms frames."""
    x = speech.samples.astype(np.float64)
    frame = int(0.04 * speech.sample_rate)
    low, high = speech.sample_rate // 400, speech.sample_rate // 70  # lags for 400..70 Hz
    pitches = []
    for start in range(0, len(x) - frame, frame):
        chunk = x[start : start + frame] - x[start : start + frame].mean()
        if rms_dbfs(chunk) < -30:
            continue
        corr = np.correlate(chunk, chunk, mode="full")[frame - 1 :]
        lag = low + int(np.argmax(corr[low:high]))
        pitches.append(speech.sample_rate / lag)
    return float(np.median(pitches))


@pytest.mark.parametrize(
    ("text", "voice", "words"),
    [(ENGLISH, "en-us+f3", 12), (SPANISH, "es", 10), (ENGLISH, "en-us+m3", 12)],
)
def test_synthesize_speaks_a_sentence_at_a_plausible_pace(text, voice, words):
    speech = synthesize(text, voice=voice, rate_wpm=165)

    assert speech.samples.dtype == np.int16
    assert speech.sample_rate == 22050
    assert rms_dbfs(speech.samples) > -30
    # 165 words per minute is 2.75 words a second; allow for pauses at commas.
    assert words / 2.75 * 0.6 < speech.duration_s < words / 2.75 * 1.6


def test_trimming_cuts_the_pauses_espeak_leaves_around_the_words():
    # espeak-ng pauses before and after a parenthesis.
    speech = synthesize("(Hello there.)", voice="en-us")
    untrimmed = synthesize("(Hello there.)", voice="en-us", trim_silence=False)

    assert speech.duration_s < untrimmed.duration_s - 0.3
    edge = int(0.05 * speech.sample_rate)
    assert rms_dbfs(speech.samples[: 4 * edge]) > -45
    assert rms_dbfs(speech.samples[-4 * edge :]) > -45


def test_female_variant_speaks_higher_than_male_variant():
    female = synthesize(ENGLISH, voice="en-us+f3")
    male = synthesize(ENGLISH, voice="en-us+m3")

    assert median_pitch_hz(female) > 1.3 * median_pitch_hz(male)


def test_rate_changes_duration():
    slow = synthesize(ENGLISH, voice="en-us", rate_wpm=120)
    fast = synthesize(ENGLISH, voice="en-us", rate_wpm=240)

    assert slow.duration_s > 1.6 * fast.duration_s


def test_same_input_gives_the_same_speech_to_within_a_few_milliseconds():
    # espeak-ng carries pitch-flutter state from one call to the next, so samples differ.
    first = synthesize(ENGLISH, voice="en-us+f3")
    second = synthesize(ENGLISH, voice="en-us+f3")

    assert abs(first.duration_s - second.duration_s) < 0.05
    assert abs(rms_dbfs(first.samples) - rms_dbfs(second.samples)) < 0.5


@pytest.mark.parametrize("voice", ["xx-nowhere", "en-us+nosuchvariant", "en+../../phontab", ""])
def test_unknown_voice_raises_tts_error_naming_it(voice):
    with pytest.raises(TTSError, match="unknown espeak-ng voice"):
        synthesize("Hello.", voice=voice)


@pytest.mark.parametrize(("rate", "pitch"), [(20, 50), (165, 101)])
def test_out_of_range_parameters_raise(rate, pitch):
    with pytest.raises(TTSError, match="must be between"):
        synthesize("Hello.", voice="en", rate_wpm=rate, pitch=pitch)


def test_blank_text_gives_empty_speech():
    assert synthesize("   ", voice="en").duration_s == 0


def test_write_wav_round_trips(tmp_path):
    speech = synthesize("Hello there.", voice="en-us")
    path = tmp_path / "hello.wav"

    speech.write_wav(path)

    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() == speech.sample_rate
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.array_equal(data, speech.samples)


def test_concurrent_calls_do_not_mix_their_audio():
    expected = synthesize(ENGLISH, voice="es")
    results: list[espeak.Speech] = []

    def speak() -> None:
        results.append(synthesize(ENGLISH, voice="es"))

    threads = [threading.Thread(target=speak) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4
    # Interleaved callbacks would lengthen one result and shorten another.
    assert all(abs(r.duration_s - expected.duration_s) < 0.05 for r in results)


def test_available_voices_lists_languages_usable_for_synthesis():
    voices = espeak.available_voices()

    english = next(v for v in voices if "en-us" in v.languages)
    assert any("es" in v.languages for v in voices)
    assert synthesize("Hello.", voice=english.identifier).duration_s > 0.2
    assert {"f3", "m3"} <= set(espeak.available_variants())
