"""Mixing the dub: over stems, over the ducked original, at the platform's loudness."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest

from hookline import ffmpeg
from hookline.demo.soundtrack import music_bed
from localization import tts
from localization.audio import SAMPLE_RATE, Clip, read_audio, rms_db, write_wav
from localization.mixing import (
    audio_activity,
    build_dub_stem,
    measure_loudness,
    mix,
    mix_at_level,
    normalize_loudness,
)

DURATION_S = 6.0
# Where the dub speaks: the ducking and leak checks look inside these windows.
DUB_LINES = [(0.5, "Nunca quise tu dinero."), (3.2, "Dime la verdad, solo una vez.")]


def speech(text: str, language: str, gender: str) -> Clip:
    return tts.EspeakSynthesizer().synthesize(text, tts.default_voice(language, gender))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Six seconds of an episode's sound: English dialogue, music, their mix, a Spanish dub."""
    folder = tmp_path_factory.mktemp("mixing")
    english = [(0.4, speech("I never wanted your money.", "en", "female"))]
    english.append((3.0, speech("Tell me the truth, just once.", "en", "male")))
    stems = {
        "dialogue": build_dub_stem(english, DURATION_S, pans=[-0.4, 0.4]),
        "music_effects": music_bed(DURATION_S, hit_at_s=DURATION_S - 0.5),
        "dub": build_dub_stem(
            [(start, speech(text, "es", "female")) for start, text in DUB_LINES], DURATION_S
        ),
    }
    stems["original"] = stems["dialogue"] + stems["music_effects"]
    stems["silence"] = np.zeros_like(stems["dub"])
    paths = {}
    for name, stem in stems.items():
        paths[name] = folder / f"{name}.wav"
        write_wav(paths[name], stem)
    return paths


def dub_windows(dub: np.ndarray) -> list[slice]:
    """Sample ranges where the dub is speaking, from its own samples."""
    windows = []
    for start, _ in DUB_LINES:
        begin = round((start + 0.25) * SAMPLE_RATE)
        windows.append(slice(begin, begin + round(1.0 * SAMPLE_RATE)))
    assert all(rms_db(dub[w]) > -30 for w in windows)
    return windows


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def loudnorm_measurement(path: Path) -> dict[str, float]:
    """Measure with loudnorm's first pass, an independent check of the ebur128 scanner."""
    args = ["-i", path, "-af", "loudnorm=print_format=json", "-f", "null", "-"]
    stderr = ffmpeg.capture(args).stderr
    report = json.loads(re.findall(r"\{[^{}]*\}", stderr)[-1])
    return {key: float(value) for key, value in report.items() if key.startswith("input_")}


def test_dub_stem_is_stereo_levelled_and_exactly_the_episode_long():
    line = speech("Firma aquí.", "es", "male")
    stem = build_dub_stem([(1.0, line), (5.7, line)], 6.0, pans=[-1.0, 0.0])

    assert stem.dtype == np.float32
    assert stem.shape == (6 * SAMPLE_RATE, 2)
    first = stem[SAMPLE_RATE : SAMPLE_RATE + round(line.duration_s * SAMPLE_RATE)]
    assert rms_db(first[:, 1]) < -100  # panned hard left
    assert -21 < rms_db(first[:, 0]) < -14  # levelled about -20 dBFS RMS (+3 dB panned)
    assert float(np.abs(stem).max()) <= 10 ** (-1 / 20) + 1e-4
    assert float(np.abs(stem[: SAMPLE_RATE - 1]).max()) == 0  # silent before the first line


def test_with_stems_the_dub_replaces_the_original_dialogue(media, tmp_path):
    out = tmp_path / "mix.wav"

    mix(media["dub"], out, music_effects=media["music_effects"])

    mixed = read_audio(out)
    dub, bed = read_audio(media["dub"]), read_audio(media["music_effects"])
    original_dialogue = read_audio(media["dialogue"])
    assert mixed.shape == dub.shape
    assert correlation(mixed, dub + bed) > 0.999
    assert abs(correlation(mixed, original_dialogue)) < 0.05
    # Subtracting what should be there leaves nothing: no trace of the original voices.
    assert rms_db(mixed - dub - bed) < -80


def test_without_stems_the_original_is_ducked_under_the_dub(media, tmp_path):
    ducked_path, plain_path = tmp_path / "ducked.wav", tmp_path / "plain.wav"

    mix(media["dub"], ducked_path, original=media["original"])
    mix(media["silence"], plain_path, original=media["original"])

    dub, original = read_audio(media["dub"]), read_audio(media["original"])
    under_dub = read_audio(ducked_path) - dub  # the original as the mix plays it
    undisturbed = read_audio(plain_path)
    assert rms_db(undisturbed - original) < -80  # no dub, no ducking
    for window in dub_windows(dub):
        assert rms_db(under_dub[window]) < rms_db(undisturbed[window]) - 8
    # Well after the last line the music is back at full level.
    tail = slice(round(5.5 * SAMPLE_RATE), None)
    assert rms_db(under_dub[tail]) == pytest.approx(rms_db(undisturbed[tail]), abs=1.0)


@pytest.mark.parametrize("bed_s", [3.0, 9.0])
def test_mix_is_exactly_as_long_as_the_dub_stem_whatever_the_beds_length(media, tmp_path, bed_s):
    bed = tmp_path / "bed.wav"
    write_wav(bed, music_bed(bed_s, hit_at_s=bed_s - 0.5))

    for source in ("music_effects", "original"):
        out = tmp_path / f"{source}.wav"
        mix(media["dub"], out, **{source: bed})
        assert len(read_audio(out)) == round(DURATION_S * SAMPLE_RATE)


def test_mix_keeps_stereo_and_upmixes_a_mono_source(media, tmp_path):
    mono = tmp_path / "mono.wav"
    write_wav(mono, read_audio(media["original"], channels=1))
    out = tmp_path / "mix.wav"

    mix(media["dub"], out, original=mono)

    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.channels, stream.sample_rate) == (2, 48_000)
    stereo = tmp_path / "stereo.wav"
    mix(media["dub"], stereo, music_effects=media["music_effects"])
    wide = read_audio(stereo)
    assert rms_db(wide[:, 0] - wide[:, 1]) > -60  # the pad's detuned right channel survives


@pytest.mark.parametrize(("lufs", "true_peak"), [(-14.0, -1.0), (-18.0, -2.0)])
def test_normalized_mix_hits_the_loudness_target_measured_two_ways(
    media, tmp_path, lufs, true_peak
):
    mixed, out = tmp_path / "mix.wav", tmp_path / "final.wav"
    mix(media["dub"], mixed, music_effects=media["music_effects"])

    result = normalize_loudness(mixed, out, lufs=lufs, true_peak=true_peak)

    measured = measure_loudness(out)
    assert measured == result.after
    assert measured.integrated == pytest.approx(lufs, abs=1.0)
    assert measured.true_peak <= true_peak + 0.1
    crosscheck = loudnorm_measurement(out)
    assert crosscheck["input_i"] == pytest.approx(lufs, abs=1.0)
    assert crosscheck["input_tp"] <= true_peak + 0.1
    assert crosscheck["input_i"] == pytest.approx(measured.integrated, abs=0.3)


@pytest.mark.parametrize(("suffix", "codec"), [(".flac", "flac"), (".m4a", "aac")])
def test_normalized_output_format_follows_the_file_name(media, tmp_path, suffix, codec):
    out = tmp_path / f"final{suffix}"

    normalize_loudness(media["original"], out)

    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.channels, stream.sample_rate) == (
            codec,
            2,
            48_000,
        )
    assert measure_loudness(out).integrated == pytest.approx(-14, abs=1.0)


def test_silence_is_measured_and_copied_not_a_crash(media, tmp_path):
    out = tmp_path / "still.wav"

    result = normalize_loudness(media["silence"], out)

    assert result.gain_db == 0
    assert result.after.integrated <= -70
    assert result.after.true_peak == float("-inf")


def test_audio_activity_tells_speech_from_music_and_silence(media, tmp_path):
    noise = tmp_path / "noise.wav"
    write_wav(noise, np.random.default_rng(3).normal(0, 0.1, (6 * SAMPLE_RATE, 2)))

    speech_level, speech_likely = audio_activity(media["original"])
    assert speech_likely and speech_level > -30
    assert audio_activity(media["dialogue"]).speech_likely
    music = audio_activity(media["music_effects"])
    assert not music.speech_likely and music.rms_db > -40
    silence = audio_activity(media["silence"])
    assert not silence.speech_likely and silence.rms_db < -100
    assert not audio_activity(noise).speech_likely


@pytest.mark.parametrize("under", ["music_effects", "original"])
def test_a_redub_mixed_at_the_last_level_in_one_pass_matches_the_two_step_way(
    media, tmp_path, under
):
    mixed, two_step = tmp_path / "mix.wav", tmp_path / "two-step.m4a"
    mix(media["dub"], mixed, **{under: media[under]})
    first = normalize_loudness(mixed, two_step, lufs=-14.0, true_peak=-1.0)
    ceiling = -2.0 if first.limited else None

    one_pass = tmp_path / "one-pass.m4a"
    measured = mix_at_level(
        media["dub"], one_pass, gain_db=first.gain_db, ceiling_db=ceiling, **{under: media[under]}
    )

    assert measured.integrated == pytest.approx(first.after.integrated, abs=0.3)
    # What the AAC file holds is what was measured on its way to the encoder.
    assert measure_loudness(one_pass).integrated == pytest.approx(measured.integrated, abs=0.3)
    with av.open(str(one_pass)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac" and stream.codec_context.channels == 2
        assert float(container.duration / av.time_base) == pytest.approx(DURATION_S, abs=0.05)


def test_a_failing_half_of_a_piped_ffmpeg_is_an_error_with_its_reason(media, tmp_path):
    with pytest.raises(ffmpeg.MediaError, match="Filter not found"):
        ffmpeg.piped(
            ["-i", media["dub"], "-af", "nosuchfilter", "-f", "f32le", "pipe:1"],
            ["-f", "f32le", "-ar", "48000", "-ac", "1", "-i", "pipe:0", tmp_path / "x.wav"],
        )
