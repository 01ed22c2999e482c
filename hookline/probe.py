"""Probe media with PyAV: accept episode masters Hookline can localize, reject the rest clearly.

:func:`probe_media` checks an episode master from its container down to its last
frame and raises :class:`~hookline.errors.MediaRejected` with a message saying what
is wrong and what to do. What a platform would only object to later (not 9:16, over
three minutes, no sound) becomes a warning instead. :func:`probe_audio` is the light
check for stems.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.error
import av.stream

from hookline.errors import MediaRejected

MP4 = "MP4/QuickTime"
MATROSKA = "Matroska/WebM"
AVI = "AVI"
# PyAV format name -> container family.
FAMILIES = {"mov,mp4,m4a,3gp,3g2,mj2": MP4, "matroska,webm": MATROSKA, "avi": AVI}
ARTICLES = {MP4: "an", MATROSKA: "a", AVI: "an"}
# Accepted file extensions -> the family they promise.
EXTENSIONS = {
    ".mp4": MP4,
    ".m4v": MP4,
    ".mov": MP4,
    ".mkv": MATROSKA,
    ".webm": MATROSKA,
    ".avi": AVI,
}
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "prores", "mpeg4"})
WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "opus", "vorbis"})

MIN_SIDE = 144
MAX_SIDE = 8192
MAX_ASPECT = 4.0
VERTICAL = 9 / 16
# Encoders round to even or macroblock sizes: 1088x1920 is still 9:16 to a platform.
ASPECT_TOLERANCE = 0.01
SHORT_FORM_MAX_S = 180.0
# How far the packets may stop short of the declared duration before we call it truncated.
TRUNCATION_SLACK_S = 0.5
TRUNCATION_SLACK_FRACTION = 0.02


@dataclass(frozen=True)
class MediaProbe:
    """What an accepted episode master is made of.

    ``width`` and ``height`` are in pixels, in the orientation players show: footage
    that a phone stored sideways with a rotation flag reads as vertical.
    """

    container: str
    extension: str
    mime_type: str
    duration_s: float
    width: int
    height: int
    fps: float | None
    video_codec: str
    audio_codec: str | None
    audio_channels: int | None
    sample_rate: int | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the probe as JSON-ready values."""
        return {**dataclasses.asdict(self), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class AudioProbe:
    """What an audio file (a stem) is made of."""

    container: str
    extension: str
    mime_type: str
    duration_s: float
    audio_codec: str
    audio_channels: int
    sample_rate: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Extent:
    """How far the packets of each stream reach, in seconds, measured by demuxing."""

    start: dict[int, float] = field(default_factory=dict)
    end: dict[int, float] = field(default_factory=dict)
    last_pts: dict[int, float] = field(default_factory=dict)

    def add(self, packet: av.Packet) -> None:
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None or not packet.size:
            return
        index, base = packet.stream.index, packet.time_base
        at = float(stamp * base)
        self.start[index] = min(self.start.get(index, at), at)
        self.end[index] = max(self.end.get(index, at), at + float((packet.duration or 0) * base))
        self.last_pts[index] = max(self.last_pts.get(index, at), at)

    def span(self, index: int | None = None) -> float:
        """Return seconds covered by one stream's packets, or by all streams'."""
        if index is not None:
            return self.end.get(index, 0.0) - self.start.get(index, 0.0)
        if not self.end:
            return 0.0
        return max(self.end.values()) - min(self.start.values())

    def reach(self, index: int | None = None) -> float:
        """Return how far the packets get, to compare with a declared duration.

        Muxers disagree on whether a declared duration counts from the first packet
        or from zero (a Matroska file starting at 10 s may declare 14 s for 4 s of
        video), so the packets get the benefit of the doubt.
        """
        if index is not None:
            return max(self.span(index), self.end.get(index, 0.0))
        return max(self.span(), max(self.end.values(), default=0.0))


def probe_media(path: Path, *, filename: str | None = None) -> MediaProbe:
    """Check an episode master and describe it; raise MediaRejected when it is unusable.

    ``filename`` is the name the user gave the file (the path may be a temp file);
    when it has an extension, that extension must match the real container.
    """
    name = Path(filename).name if filename else Path(path).name
    with _open(path, name) as container:
        video = _video_stream(container, name)
        _check_container(container, filename, name)
        _check_codec(video, name)
        _check_dimensions(video.codec_context.width, video.codec_context.height, name)
        extent = _demux(container, name)
        duration = _check_duration(container, video, extent, name)
        facts = _describe(container, video, duration)
        # Read everything needed from the stream now: it must not be touched once closed.
        pixel_aspect = video.sample_aspect_ratio or Fraction(1)
        index = video.index
    rotation = _check_decodes(path, extent.last_pts[index], name)
    aspect = _display_aspect(facts.width, facts.height, pixel_aspect, rotation)
    facts = _rotate(facts, rotation)
    return dataclasses.replace(facts, warnings=tuple(_platform_warnings(facts, aspect)))


def describe_video(path: Path) -> MediaProbe:
    """Describe a video Hookline rendered itself, from its headers only (no decode checks)."""
    name = Path(path).name
    with _open(path, name) as container:
        video = _video_stream(container, name)
        duration = _declared_duration(container, video)
        return _describe(container, video, duration)


def probe_audio(path: Path, *, filename: str | None = None) -> AudioProbe:
    """Describe an audio file from its header; raise MediaRejected when it has no sound."""
    name = Path(filename).name if filename else Path(path).name
    with _open(path, name) as container:
        if not container.streams.audio:
            raise MediaRejected(
                f"{name} has no audio stream; export the stem as WAV, FLAC or AAC.",
                code="no_audio",
            )
        audio = container.streams.audio[0]
        duration = _declared_duration(container, audio)
        if not duration:
            raise _zero_duration(name)
        extension, mime = _audio_naming(container.format.name)
        return AudioProbe(
            container=container.format.name,
            extension=extension,
            mime_type=mime,
            duration_s=round(duration, 3),
            audio_codec=_codec_name(audio),
            audio_channels=audio.codec_context.channels,
            sample_rate=audio.codec_context.sample_rate,
        )


def dimension_problem(width: int, height: int) -> str | None:
    """Return why a ``width`` x ``height`` picture cannot be a master, or None when it can."""
    if min(width, height) < MIN_SIDE:
        return f"at least {MIN_SIDE} px on each side is needed"
    if max(width, height) > MAX_SIDE:
        return f"at most {MAX_SIDE} px on a side is accepted"
    if max(width, height) / min(width, height) > MAX_ASPECT:
        return "the aspect ratio must lie between 1:4 and 4:1"
    return None


def ratio_label(aspect: float) -> str:
    """Return an aspect ratio (width / height) as ``16:9`` when it is one, else as ``1.85:1``."""
    near = Fraction(aspect).limit_denominator(32)
    if near.numerator <= 32 and abs(float(near) / aspect - 1) < 0.005:
        return f"{near.numerator}:{near.denominator}"
    return f"{aspect:.2f}:1"


def _open(path: Path, name: str) -> av.container.InputContainer:
    try:
        container = av.open(str(path), metadata_errors="replace")
    # Garbage makes libav fail to find a format (InvalidDataError) or run out of bytes
    # while reading a header (EOFError); anything else (missing file, I/O) propagates.
    except (av.error.InvalidDataError, av.error.EOFError):
        raise _unreadable(path, name) from None
    if not container.streams:
        container.close()
        raise _unreadable(path, name)
    return container


def _unreadable(path: Path, name: str) -> MediaRejected:
    family = _sniff_family(Path(path))
    if family:
        return MediaRejected(
            f"{name} looks like {ARTICLES[family]} {family} file but cannot be read: it is "
            "truncated or damaged. Copy or export it again and re-upload.",
            code="corrupt",
        )
    return MediaRejected(
        f"{name} is not a video file that Hookline can read. Check you picked the exported "
        "episode (MP4 or MOV), not a project file, a playlist or a text file.",
        code="not_media",
    )


def _sniff_family(path: Path) -> str | None:
    """Return the container family the first bytes promise, if any."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"}:
        return MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MATROSKA
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return AVI
    return None


def _video_stream(container: av.container.InputContainer, name: str) -> av.VideoStream:
    if not container.streams.video:
        raise MediaRejected(
            f"{name} has no video stream (it is audio only). Upload the episode's video "
            "master; attach audio stems to an episode instead.",
            code="no_video",
        )
    return container.streams.video[0]


def _check_container(
    container: av.container.InputContainer, filename: str | None, name: str
) -> None:
    suffix = Path(filename).suffix.lower() if filename else ""
    if suffix and suffix not in EXTENSIONS:
        raise MediaRejected(
            f"{name}: {suffix} files are not accepted. Export the episode as one of "
            f"{' '.join(EXTENSIONS)} (MP4 with H.264 is the safest).",
            code="wrong_extension",
        )
    family = FAMILIES.get(container.format.name)
    if family is None:
        raise MediaRejected(
            f"{name} is in the {container.format.long_name} format, which Hookline does not "
            "take as a master. Re-export it as MP4 (H.264).",
            code="unsupported_container",
        )
    if suffix and EXTENSIONS[suffix] != family:
        right = _video_naming(container)[0]
        also = "" if family == MP4 else " (or re-export as MP4)"
        raise MediaRejected(
            f"{name} is really {ARTICLES[family]} {family} file; rename it to .{right}{also}.",
            code="wrong_extension",
        )


def _check_codec(video: av.VideoStream, name: str) -> None:
    codec = _codec_name(video)
    if codec not in VIDEO_CODECS:
        label = video.codec_context.codec.long_name
        raise MediaRejected(
            f"{name} uses the {codec} video codec ({label}), which Hookline does not take as "
            "a master. Re-export it as H.264 (or HEVC, VP9, AV1 or ProRes).",
            code="unsupported_codec",
        )


def _check_dimensions(width: int, height: int, name: str) -> None:
    problem = dimension_problem(width, height)
    if problem:
        raise MediaRejected(
            f"{name} is {width}x{height} pixels ({ratio_label(width / height)}); {problem}. "
            "Re-export the episode at 1080x1920 (9:16).",
            code="bad_dimensions",
        )


def _demux(container: av.container.InputContainer, name: str) -> _Extent:
    extent = _Extent()
    try:
        for packet in container.demux():
            extent.add(packet)
    # Reading packets of an opened local file only fails on damaged or cut-off data.
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        raise _corrupt(name, f"reading it failed ({exc.strerror})") from None
    return extent


def _check_duration(
    container: av.container.InputContainer, video: av.VideoStream, extent: _Extent, name: str
) -> float:
    """Return the duration in seconds; reject empty files and files cut short."""
    if video.index not in extent.end:
        raise _zero_duration(name)
    declared = _declared_duration(container, video)
    video_declared = _stream_duration(video)
    if video_declared and _cut_short(extent.reach(video.index), video_declared):
        raise _truncated(name, extent.reach(video.index), video_declared)
    if declared and _cut_short(extent.reach(), declared):
        raise _truncated(name, extent.reach(), declared)
    # A declared duration that only the offset packets reach counts from zero: use the span.
    duration = declared if declared and not _cut_short(extent.span(), declared) else extent.span()
    if duration <= 0:
        raise _zero_duration(name)
    return duration


def _cut_short(reached: float, declared: float) -> bool:
    slack = max(TRUNCATION_SLACK_S, declared * TRUNCATION_SLACK_FRACTION)
    return reached < declared - slack


def _truncated(name: str, reached: float, declared: float) -> MediaRejected:
    return _corrupt(name, f"its frames stop at {reached:.1f} s of the {declared:.1f} s it declares")


def _corrupt(name: str, why: str) -> MediaRejected:
    return MediaRejected(
        f"{name} is truncated or damaged: {why}. Copy or export it again and re-upload.",
        code="corrupt",
    )


def _zero_duration(name: str) -> MediaRejected:
    return MediaRejected(
        f"{name} has zero duration: it holds no frames. Export the episode again and check "
        "the export finished.",
        code="zero_duration",
    )


def _check_decodes(path: Path, last_pts_s: float, name: str) -> int:
    """Decode the first frame and the last one; return the display rotation in degrees."""
    with av.open(str(path), metadata_errors="replace") as container:
        video = container.streams.video[0]  # the stream _video_stream picked
        assert video.time_base is not None  # demuxers always set it on opened streams
        try:
            first = _first_good_frame(container.decode(video), name)
            container.seek(int(last_pts_s / video.time_base), stream=video)
            _frame_at(container.decode(video), last_pts_s, name)
        # A decoder refusing a packet of an opened, fully demuxed file means damaged data.
        except (av.error.InvalidDataError, av.error.EOFError) as exc:
            raise _corrupt(name, f"a frame cannot be decoded ({exc.strerror})") from None
    return first.rotation


def _first_good_frame(frames: Iterator[av.VideoFrame], name: str) -> av.VideoFrame:
    frame = next(frames, None)
    if frame is None or frame.is_corrupt:
        raise _corrupt(name, "its first frame cannot be decoded")
    return frame


def _frame_at(frames: Iterator[av.VideoFrame], at_s: float, name: str) -> None:
    """Decode from a seek point up to the frame shown at ``at_s``; reject a damaged one."""
    frame = None
    for frame in frames:
        if frame.time is not None and frame.time >= at_s - 1e-3:
            break
    if frame is None or frame.is_corrupt:
        raise _corrupt(name, "its last frames cannot be decoded")


def _describe(
    container: av.container.InputContainer, video: av.VideoStream, duration: float
) -> MediaProbe:
    audio = container.streams.audio[0] if container.streams.audio else None
    extension, mime = _video_naming(container)
    return MediaProbe(
        container=container.format.name,
        extension=extension,
        mime_type=mime,
        duration_s=round(duration, 3),
        width=video.codec_context.width,
        height=video.codec_context.height,
        fps=round(float(video.average_rate), 3) if video.average_rate else None,
        video_codec=_codec_name(video),
        audio_codec=_codec_name(audio) if audio else None,
        audio_channels=audio.codec_context.channels if audio else None,
        sample_rate=audio.codec_context.sample_rate if audio else None,
    )


def _rotate(facts: MediaProbe, rotation: int) -> MediaProbe:
    """Swap width and height for pictures that players turn by 90 degrees (phone footage)."""
    if rotation % 180 == 0:
        return facts
    return dataclasses.replace(facts, width=facts.height, height=facts.width)


def _display_aspect(width: int, height: int, pixel_aspect: Fraction, rotation: int) -> float:
    """Return width / height as players show it: pixels stretched, then turned."""
    aspect = width * pixel_aspect / height
    return float(1 / aspect if rotation % 180 else aspect)


def _platform_warnings(facts: MediaProbe, aspect: float) -> Iterator[str]:
    if abs(aspect / VERTICAL - 1) > ASPECT_TOLERANCE:
        yield (
            f"Aspect ratio is {ratio_label(aspect)} ({facts.width}x{facts.height}), not 9:16: "
            "short-video platforms will letterbox or crop it. Re-export at 1080x1920 if you can."
        )
    if facts.duration_s > SHORT_FORM_MAX_S:
        yield (
            f"Runs {_clock(facts.duration_s)}, longer than 3 minutes: YouTube Shorts and Reels "
            "will not take it as a short. Trim it or split it into two episodes."
        )
    if facts.audio_codec is None:
        yield (
            "Has no audio stream: there is no dialogue to transcribe or dub. Attach a dialogue "
            "stem or re-export the episode with its sound."
        )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _declared_duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if container.duration:
        return container.duration / av.time_base
    return _stream_duration(stream)


def _stream_duration(stream: av.stream.Stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _codec_name(stream: av.stream.Stream) -> str:
    # canonical_name is the codec ("av1"), name may be the decoder ("libdav1d").
    return stream.codec_context.codec.canonical_name


def _video_naming(container: av.container.InputContainer) -> tuple[str, str]:
    """Return the file extension (without dot) and MIME type that fit the container."""
    family = FAMILIES.get(container.format.name)
    if family == MP4:
        if container.metadata.get("major_brand", "").strip() == "qt":
            return "mov", "video/quicktime"
        return "mp4", "video/mp4"
    if family == MATROSKA:
        codecs = {_codec_name(s) for s in container.streams if s.type in ("video", "audio")}
        if codecs <= WEBM_CODECS:
            return "webm", "video/webm"
        return "mkv", "video/x-matroska"
    if family == AVI:
        return "avi", "video/x-msvideo"
    return "", "application/octet-stream"


_AUDIO_NAMING = {
    "wav": ("wav", "audio/wav"),
    "flac": ("flac", "audio/flac"),
    "mp3": ("mp3", "audio/mpeg"),
    "ogg": ("ogg", "audio/ogg"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("m4a", "audio/mp4"),
    "matroska,webm": ("mka", "audio/x-matroska"),
}


def _audio_naming(format_name: str) -> tuple[str, str]:
    return _AUDIO_NAMING.get(format_name, ("", "application/octet-stream"))
