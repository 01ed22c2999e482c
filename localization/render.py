"""Package a localized episode: a soft-subbed MP4 (picture untouched) and a burned-in cut.

The soft-subbed file copies the master's video stream bit for bit: re-encoding would
cost minutes and quality for nothing. The burned-in cut is for platforms that show
no subtitle tracks (TikTok, Reels, Shorts): H.264 High 4.1, yuv420p, AAC, moov first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import av

from hookline import ffmpeg as ffmpeg_tool
from hookline.ffmpeg import ProgressFn

log = logging.getLogger(__name__)

AUDIO_BITRATE = "192k"
CRF = 20
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(CRF)]
# High 4.1 covers 1080x1920 at 30 fps and is what every phone and platform decodes.
H264_PROFILE = ["-profile:v", "high", "-level:v", "4.1", "-pix_fmt", "yuv420p"]
FASTSTART = ["-movflags", "+faststart"]
# Codecs an MP4 can carry as they are; others (ProRes, VP8) are encoded to H.264.
MP4_COPYABLE = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"})
# MP4 tags languages with ISO 639-2/T codes; these are the languages Hookline dubs into.
ISO_639_2 = {
    "ar": "ara", "ca": "cat", "de": "deu", "en": "eng", "es": "spa", "fil": "fil",
    "fr": "fra", "hi": "hin", "id": "ind", "it": "ita", "ja": "jpn", "ko": "kor",
    "ms": "msa", "nl": "nld", "pl": "pol", "pt": "por", "ru": "rus", "th": "tha",
    "tl": "tgl", "tr": "tur", "uk": "ukr", "vi": "vie", "zh": "zho",
}  # fmt: skip


def mp4_language(tag: str) -> str:
    """Return the three-letter code MP4 stores for a BCP 47 tag (``und`` when unknown)."""
    base = tag.strip().lower().replace("_", "-").split("-")[0]
    if len(base) == 3 and base.isalpha():
        return base
    if base not in ISO_639_2:
        log.warning("no ISO 639-2 code for %r; tagged as undetermined", tag)
    return ISO_639_2.get(base, "und")


def mux_soft_subbed(
    video: Path,
    dub_audio: Path,
    original_audio_source: Path,
    subtitles: Sequence[tuple[Path, str]],
    out: Path,
    *,
    language: str,
    original_language: str = "",
    ffmpeg: str | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Write an MP4: the video copied, the dub (default) and original audio, soft subtitles.

    ``subtitles`` are (SRT/VTT/ASS path, language) pairs, stored as mov_text tracks.
    The original audio is copied when it is already AAC, else encoded to AAC.
    """
    original = _audio_codec(original_audio_source)
    inputs = ["-i", video, "-i", dub_audio]
    maps = ["-map", "0:v:0", "-map", "1:a:0"]
    if original is not None:
        inputs += ["-i", original_audio_source]
        maps += ["-map", "2:a:0"]
    else:
        log.warning("%s has no audio; the cut carries the dub only", original_audio_source)
    first_subtitle = 3 if original is not None else 2  # inputs: video, dub, [original], subs
    for number, (path, _) in enumerate(subtitles):
        inputs += ["-i", path]
        maps += ["-map", f"{first_subtitle + number}:s:0"]
    codecs = [*_video_codec(video), *_dub_codec(dub_audio, "-c:a:0")]
    codecs += [*_original_audio(original), "-c:s", "mov_text"]
    tags = _audio_tags(language, original_language, original is not None)
    tags += _subtitle_tags(subtitles)
    args = [*inputs, *maps, *codecs, *tags, *FASTSTART, out]
    ffmpeg_tool.run(args, binary=ffmpeg, duration_s=_duration(video), progress=progress)


def mux_subtitled(
    video: Path,
    subtitles: Sequence[tuple[Path, str]],
    out: Path,
    *,
    original_language: str = "",
    ffmpeg: str | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Write an MP4 of the original (picture and sound, copied) with soft subtitles only."""
    original = _audio_codec(video)
    inputs, maps = ["-i", video], ["-map", "0:v:0"]
    if original is not None:
        maps += ["-map", "0:a:0"]
    for number, (path, _) in enumerate(subtitles, start=1):
        inputs += ["-i", path]
        maps += ["-map", f"{number}:s:0"]
    audio = ["-c:a", "copy"] if original == "aac" else ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
    code = mp4_language(original_language) if original_language else "und"
    tags = ["-metadata:s:a:0", f"language={code}"] if original is not None else []
    args = [*inputs, *maps, *_video_codec(video), *audio, "-c:s", "mov_text", *tags]
    args += [*_subtitle_tags(subtitles), *FASTSTART, out]
    ffmpeg_tool.run(args, binary=ffmpeg, duration_s=_duration(video), progress=progress)


def _video_codec(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
    if codec == "hevc":
        return ["-c:v", "copy", "-tag:v", "hvc1"]  # Apple players want hvc1, not hev1
    if codec in MP4_COPYABLE:
        return ["-c:v", "copy"]
    log.warning("%s video cannot be copied into MP4; encoding it to H.264", codec)
    return [*X264, *H264_PROFILE]


def _dub_codec(dub_audio: Path, option: str) -> list[str]:
    """Copy an AAC dub (what the pipeline makes: the mux stays a pure stream copy), else encode."""
    if _audio_codec(dub_audio) == "aac":
        return [option, "copy"]
    suffix = option.removeprefix("-c:a")
    return [
        option,
        "aac",
        f"-b:a{suffix}",
        AUDIO_BITRATE,
        f"-ar{suffix}",
        "48000",
        f"-ac{suffix}",
        "2",
    ]


def _audio_codec(path: Path) -> str | None:
    with av.open(str(path)) as container:
        streams = container.streams.audio
        return streams[0].codec_context.name if streams else None


def _original_audio(codec: str | None) -> list[str]:
    if codec is None:
        return []
    if codec == "aac":
        return ["-c:a:1", "copy"]
    return ["-c:a:1", "aac", "-b:a:1", AUDIO_BITRATE, "-ar:a:1", "48000", "-ac:a:1", "2"]


def _audio_tags(language: str, original_language: str, has_original: bool) -> list[str]:
    tags = ["-metadata:s:a:0", f"language={mp4_language(language)}"]
    tags += ["-metadata:s:a:0", f"handler_name=Dub ({language})", "-disposition:a:0", "default"]
    if has_original:
        code = mp4_language(original_language) if original_language else "und"
        tags += ["-metadata:s:a:1", f"language={code}"]
        tags += ["-metadata:s:a:1", "handler_name=Original", "-disposition:a:1", "0"]
    return tags


def _subtitle_tags(subtitles: Sequence[tuple[Path, str]]) -> list[str]:
    tags = []
    for number, (_, lang) in enumerate(subtitles):
        tags += [f"-metadata:s:s:{number}", f"language={mp4_language(lang)}"]
        tags += [f"-metadata:s:s:{number}", f"handler_name=Subtitles ({lang})"]
        tags += [f"-disposition:s:{number}", "0"]
    return tags


def burn_in(
    video: Path,
    dub_audio: Path,
    ass_path: Path,
    out: Path,
    *,
    ffmpeg: str | None = None,
    fonts_dir: Path | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Write a social cut: the subtitles drawn into the picture, the dub as its only audio."""
    picture = f"{subtitles_filter(ass_path, fonts_dir)},format=yuv420p"
    args = ["-i", video, "-i", dub_audio, "-map", "0:v:0", "-map", "1:a:0"]
    args += ["-vf", picture, *X264, *H264_PROFILE, *_dub_codec(dub_audio, "-c:a"), *FASTSTART, out]
    ffmpeg_tool.run(args, binary=ffmpeg, duration_s=_duration(video), progress=progress)


def subtitles_filter(path: Path, fonts_dir: Path | None = None) -> str:
    """Return a libass ``subtitles`` filter for ``path``, escaped for a filtergraph.

    Absolute paths only: a relative name with a colon would read as a protocol.
    """
    options = f"filename={escape_filter_value(str(Path(path).resolve()))}"
    if fonts_dir is not None:
        options += f":fontsdir={escape_filter_value(str(Path(fonts_dir).resolve()))}"
    return "subtitles=" + escape_filtergraph(options)


def escape_filter_value(value: str) -> str:
    """Escape a value inside a filter's option string (``key=value:key=value``)."""
    for special in ("\\", "'", ":"):
        value = value.replace(special, "\\" + special)
    return value


def escape_filtergraph(text: str) -> str:
    """Escape a filter's arguments for the filtergraph around them (second level)."""
    for special in ("\\", "'", "[", "]", ",", ";"):
        text = text.replace(special, "\\" + special)
    return text


def _duration(path: Path) -> float | None:
    with av.open(str(path)) as container:
        return container.duration / av.time_base if container.duration else None
