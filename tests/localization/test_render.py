"""Packaging localized cuts: soft subtitles over a copied picture, and a burned-in social cut."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import ImageFont

from hookline import ffmpeg
from localization.audio import write_wav
from localization.render import (
    burn_in,
    escape_filter_value,
    escape_filtergraph,
    mp4_language,
    mux_soft_subbed,
    subtitles_filter,
)

from mediafixtures import make_video

SRT = """1
00:00:00,500 --> 00:00:02,000
Firma aquí.

2
00:00:02,500 --> 00:00:03,800
¿Y si me niego?
"""
VTT = """WEBVTT

00:00:00.500 --> 00:00:02.000
Sign here.

00:00:02.500 --> 00:00:03.800
And if I refuse?
"""
# One cue from 1 s to 2.5 s, big white letters in a black box in the middle of the frame.
ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 360
PlayResY: 640

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Aileron,44,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,3,6,0,5,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,FIRMA AQUÍ
"""  # noqa: E501
CUE_REGION = (slice(280, 360), slice(40, 320))  # rows, columns around the middle


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4 s 9:16 master with AAC sound, a dub, its subtitles, an ASS file and a font."""
    folder = tmp_path_factory.mktemp("render")
    # Awkward names on purpose: filter arguments must survive colons, quotes and brackets.
    awkward = folder / "subs: it's [a], test; ok"
    awkward.mkdir()
    fonts = awkward / "fonts"
    fonts.mkdir()
    (fonts / "Aileron-Regular.otf").write_bytes(ImageFont.load_default(size=20).font_bytes)
    paths = {
        "master": make_video(folder / "master.mp4", seconds=4),
        "dub": folder / "dub.wav",
        "original_wav": folder / "original.wav",
        "srt": folder / "es.srt",
        "vtt": folder / "en.vtt",
        "ass": awkward / "es.ass",
        "fonts": fonts,
    }
    t = np.arange(4 * 48_000) / 48_000
    write_wav(paths["dub"], np.stack([np.sin(2 * np.pi * 330 * t)] * 2, axis=1) * 0.3)
    write_wav(paths["original_wav"], (np.sin(2 * np.pi * 220 * t) * 0.3)[:, None])
    paths["srt"].write_text(SRT, encoding="utf-8")
    paths["vtt"].write_text(VTT, encoding="utf-8")
    paths["ass"].write_text(ASS, encoding="utf-8")
    return paths


def video_packets(path: Path) -> list[tuple[int, str]]:
    with av.open(str(path)) as container:
        return [
            (packet.size, hashlib.sha1(bytes(packet)).hexdigest())
            for packet in container.demux(container.streams.video[0])
            if packet.size
        ]


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        boxes.append(name.decode("latin-1"))
        if size == 1:  # a 64-bit size follows the name
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        offset += size or len(data)
    return boxes


def assert_faststart(path: Path) -> None:
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def frames_at(path: Path, times: list[float]) -> list[np.ndarray]:
    """Return the luma planes of the frames showing at ``times`` seconds."""
    found, wanted = [], sorted(times)
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if wanted and frame.time >= wanted[0]:
                found.append(frame.to_ndarray(format="gray").astype(np.int16))
                wanted.pop(0)
    return found


def test_soft_subbed_cut_copies_the_picture_and_carries_both_tracks(media, tmp_path):
    out = tmp_path / "es.mp4"
    progress: list[float] = []

    mux_soft_subbed(
        media["master"],
        media["dub"],
        media["master"],
        [(media["srt"], "es"), (media["vtt"], "en")],
        out,
        language="es",
        original_language="en",
        progress=progress.append,
    )

    with av.open(str(out)) as container:
        video, (dub, original) = container.streams.video[0], container.streams.audio
        assert video.codec_context.name == "h264"
        assert (dub.codec_context.name, dub.sample_rate, dub.channels) == ("aac", 48_000, 2)
        assert dub.metadata["language"] == "spa"
        assert dub.disposition & av.stream.Disposition.default
        assert original.codec_context.name == "aac"
        assert original.metadata["language"] == "eng"
        assert not original.disposition & av.stream.Disposition.default
        subtitles = container.streams.subtitles
        assert [s.codec_context.name for s in subtitles] == ["mov_text", "mov_text"]
        assert [s.metadata["language"] for s in subtitles] == ["spa", "eng"]
    assert video_packets(out) == video_packets(media["master"])  # copied, not re-encoded
    assert_faststart(out)
    assert progress[-1] == 1.0


def test_soft_subbed_cut_encodes_an_original_that_is_not_aac(media, tmp_path):
    out = tmp_path / "es.mp4"

    mux_soft_subbed(media["master"], media["dub"], media["original_wav"], [], out, language="es")

    with av.open(str(out)) as container:
        _, original = container.streams.audio
        assert original.codec_context.name == "aac"
        assert (original.sample_rate, original.channels) == (48_000, 2)
        assert original.metadata["language"] == "und"
        assert not container.streams.subtitles


@pytest.fixture(scope="module")
def burned(media, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("burned") / "es-social.mp4"
    burn_in(media["master"], media["dub"], media["ass"], out, fonts_dir=media["fonts"])
    return out


TIMES = [0.5, 1.8, 3.2]  # before, during and after the cue


def test_burned_in_cut_is_platform_h264_with_the_text_drawn_where_the_cue_is(media, burned):
    with av.open(str(burned)) as container:
        video, (audio,) = container.streams.video[0], container.streams.audio
        assert video.codec_context.name == "h264"
        assert (video.codec_context.profile, video.codec_context.level) == ("High", 41)
        assert video.format.name == "yuv420p"
        assert (video.width, video.height) == (360, 640)
        assert (audio.codec_context.name, audio.sample_rate, audio.channels) == ("aac", 48_000, 2)
        assert not container.streams.subtitles
    assert_faststart(burned)
    frames, source = frames_at(burned, TIMES), frames_at(media["master"], TIMES)
    change = [np.abs(b - s)[CUE_REGION].mean() for b, s in zip(frames, source, strict=True)]
    assert change[1] > 40, change  # the cue's box and letters cover the region
    assert change[0] < 6 and change[2] < 6, change  # elsewhere only re-encoding noise


def test_burn_in_draws_with_the_font_from_fonts_dir(media, burned, tmp_path):
    fallback = tmp_path / "system-font.mp4"
    progress: list[float] = []

    burn_in(media["master"], media["dub"], media["ass"], fallback, progress=progress.append)

    # Aileron (from fonts_dir) and the system's fallback font draw different letters.
    ours, theirs = frames_at(burned, TIMES[1:2])[0], frames_at(fallback, TIMES[1:2])[0]
    assert np.abs(ours - theirs)[CUE_REGION].mean() > 10
    assert progress[-1] == 1.0


def test_filter_values_are_escaped_as_ffmpeg_documents():
    # The example of ffmpeg's "Quoting and escaping" documentation, both levels.
    value = escape_filter_value("this is a 'string': may contain one, or more, special characters")
    assert value == r"this is a \'string\'\: may contain one, or more, special characters"
    assert escape_filtergraph(f"text={value}") == (
        r"text=this is a \\\'string\\\'\\: may contain one\, or more\, special characters"
    )


def test_subtitles_filter_uses_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert subtitles_filter(Path("a.ass")) == "subtitles=" + escape_filtergraph(
        "filename=" + escape_filter_value(str(tmp_path / "a.ass"))
    )


@pytest.mark.parametrize(
    ("tag", "code"),
    [("es", "spa"), ("pt-BR", "por"), ("zh-Hant", "zho"), ("fil", "fil"), ("xx", "und")],
)
def test_mp4_language_codes(tag, code):
    assert mp4_language(tag) == code


def test_a_failing_render_raises_media_error_with_ffmpegs_words(media, tmp_path):
    with pytest.raises(ffmpeg.MediaError, match="ffmpeg failed"):
        burn_in(media["master"], media["dub"], tmp_path / "missing.ass", tmp_path / "x.mp4")
