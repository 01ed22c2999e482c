"""Probing masters and stems with PyAV, on small real files made by ffmpeg.

Rejections (not media, corrupt, wrong extension, ...) are tested through ingest in
test_ingest.py, which also checks that a rejected file leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hookline import ffmpeg
from hookline.errors import MediaRejected
from hookline.probe import dimension_problem, probe_audio, probe_media, ratio_label

from mediafixtures import make_video


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("probe-media")
    make_video(folder / "vertical.mp4")
    make_video(folder / "landscape.mp4", size="640x360")
    make_video(folder / "silent.mp4", audio=False)
    make_video(folder / "vertical.mkv")
    # 190 s at 1 fps and the smallest accepted size keeps a long file cheap to make.
    make_video(folder / "long.mp4", size="144x256", seconds=190, rate=1)
    ffmpeg.run(
        [
            "-display_rotation",
            "90",
            "-i",
            make_video(folder / "wide.mp4", size="640x360"),
            "-c",
            "copy",
            folder / "phone.mp4",
        ]
    )
    tone = "sine=d=1.5:sample_rate=22050"
    ffmpeg.run(["-f", "lavfi", "-i", tone, "-ac", "2", folder / "stem.wav"])
    (folder / "notes.wav").write_text("not audio at all\n")
    # Sound running on after the picture, and timestamps starting at 10 s: both fine.
    ffmpeg.run(
        [
            "-i",
            folder / "silent.mp4",
            "-f",
            "lavfi",
            "-i",
            "sine=d=4",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            folder / "long-tail.mkv",
        ]
    )
    ffmpeg.run(
        [
            "-i",
            folder / "vertical.mp4",
            "-c",
            "copy",
            "-output_ts_offset",
            "10",
            folder / "offset.mkv",
        ]
    )
    return folder


CODECS = {
    "hevc.mp4": (
        "hevc",
        ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
    ),
    "vp8.webm": ("vp8", ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"]),
    "vp9.webm": ("vp9", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]),
    "av1.mp4": ("av1", ["-c:v", "libsvtav1", "-preset", "12", "-svtav1-params", "log-level=0"]),
    "prores.mov": ("prores", ["-c:v", "prores_ks", "-profile:v", "0"]),
    "mpeg4.avi": ("mpeg4", ["-c:v", "mpeg4"]),
}


def test_describes_a_vertical_master_with_sound(media: Path) -> None:
    probe = probe_media(media / "vertical.mp4", filename="Episode 1.mp4")

    assert probe.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert (probe.extension, probe.mime_type) == ("mp4", "video/mp4")
    assert probe.duration_s == pytest.approx(2.0, abs=0.05)
    assert (probe.width, probe.height, probe.fps) == (360, 640, 25.0)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert (probe.audio_channels, probe.sample_rate) == (1, 48000)
    assert probe.warnings == ()


def test_as_dict_is_ready_for_a_json_column(media: Path) -> None:
    facts = probe_media(media / "silent.mp4").as_dict()

    assert json.loads(json.dumps(facts)) == facts
    assert facts["width"] == 360 and isinstance(facts["warnings"], list)


def test_names_matroska_by_its_codecs(media: Path) -> None:
    probe = probe_media(media / "vertical.mkv", filename="ep.mkv")

    assert (probe.extension, probe.mime_type) == ("mkv", "video/x-matroska")
    assert probe.warnings == ()


@pytest.mark.parametrize("name", CODECS)
def test_accepts_every_supported_video_codec(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    codec, encoder = CODECS[name]
    path = make_video(
        tmp_path_factory.mktemp("codec") / name,
        size="180x320",
        seconds=1,
        rate=10,
        audio=False,
        video_codec=encoder,
    )

    probe = probe_media(path, filename=name)

    assert probe.video_codec == codec
    assert probe.extension == Path(name).suffix.lstrip(".")
    assert (probe.width, probe.height) == (180, 320)


def test_warns_when_the_picture_is_not_vertical(media: Path) -> None:
    probe = probe_media(media / "landscape.mp4", filename="ep.mp4")

    assert (probe.width, probe.height) == (640, 360)
    assert len(probe.warnings) == 1
    assert "16:9" in probe.warnings[0] and "not 9:16" in probe.warnings[0]


def test_reads_phone_rotation_as_players_show_it(media: Path) -> None:
    probe = probe_media(media / "phone.mp4", filename="ep.mp4")

    assert (probe.width, probe.height) == (360, 640)
    assert probe.warnings == ()


def test_warns_when_longer_than_three_minutes(media: Path) -> None:
    probe = probe_media(media / "long.mp4", filename="ep.mp4")

    assert probe.duration_s == pytest.approx(190, abs=0.5)
    assert [w for w in probe.warnings if "3:10" in w and "longer than 3 minutes" in w]


def test_warns_when_there_is_no_sound(media: Path) -> None:
    probe = probe_media(media / "silent.mp4", filename="ep.mp4")

    assert probe.audio_codec is None and probe.audio_channels is None
    assert probe.warnings == (probe.warnings[0],)
    assert "no audio stream" in probe.warnings[0]


def test_sound_outlasting_the_picture_is_not_truncation(media: Path) -> None:
    probe = probe_media(media / "long-tail.mkv", filename="ep.mkv")

    assert probe.duration_s == pytest.approx(4.0, abs=0.1)


def test_a_timestamp_offset_is_not_truncation(media: Path) -> None:
    probe = probe_media(media / "offset.mkv", filename="ep.mkv")

    assert probe.duration_s == pytest.approx(2.0, abs=0.1)


def test_without_a_filename_any_accepted_container_passes(media: Path) -> None:
    assert probe_media(media / "vertical.mkv").container == "matroska,webm"


def test_probe_audio_describes_a_stem(media: Path) -> None:
    probe = probe_audio(media / "stem.wav")

    assert (probe.extension, probe.mime_type) == ("wav", "audio/wav")
    assert probe.duration_s == pytest.approx(1.5, abs=0.01)
    assert (probe.audio_codec, probe.audio_channels, probe.sample_rate) == ("pcm_s16le", 2, 22050)


def test_probe_audio_rejects_a_silent_video(media: Path) -> None:
    with pytest.raises(MediaRejected, match="no audio stream") as raised:
        probe_audio(media / "silent.mp4", filename="dialogue.mp4")

    assert raised.value.code == "no_audio"


def test_probe_audio_rejects_text(media: Path) -> None:
    with pytest.raises(MediaRejected, match=r"notes\.wav is not a video file") as raised:
        probe_audio(media / "notes.wav")

    assert raised.value.code == "not_media"


@pytest.mark.parametrize(
    ("width", "height", "problem"),
    [
        (1080, 1920, None),
        (144, 256, None),
        (8192, 4320, None),
        (64, 64, "at least 144 px"),
        (143, 256, "at least 144 px"),
        (8200, 4320, "at most 8192 px"),
        (100, 2000, "at least 144 px"),
        (160, 1280, "between 1:4 and 4:1"),
        (2000, 400, "between 1:4 and 4:1"),
    ],
)
def test_dimension_problem(width: int, height: int, problem: str | None) -> None:
    found = dimension_problem(width, height)

    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("aspect", "label"),
    [(9 / 16, "9:16"), (1920 / 1080, "16:9"), (1.0, "1:1"), (100 / 2000, "1:20"), (1.85, "1.85:1")],
)
def test_ratio_label(aspect: float, label: str) -> None:
    assert ratio_label(aspect) == label
