"""Small real media files made with ffmpeg, good and bad, and the bad-input matrix.

Importable as ``mediafixtures`` (tests/support is on the path). The files are made
once per test session, whichever module asks first: :func:`ingest_media` builds them
under pytest's base temp folder and later calls find them there.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookline import ffmpeg

X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
MIB = 1024 * 1024
# Padded to a constant bitrate: 2 s at 6 Mbit/s is about 1.4 MiB, a real, acceptable
# episode that is over a 1 MiB upload limit yet fits one request of a 1 MiB server.
OVERSIZED = "oversized.mp4"


def make_video(
    out: Path,
    *,
    size: str = "360x640",
    seconds: float = 2,
    rate: int = 25,
    pattern: str = "testsrc2",
    audio: bool = True,
    video_codec: Sequence[str] = X264,
    extra: Sequence[str] = (),
) -> Path:
    """Write a test pattern (with a tone unless ``audio=False``) to ``out``."""
    args = ["-f", "lavfi", "-i", f"{pattern}=s={size}:r={rate}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=d={seconds}:sample_rate=48000", "-c:a", "aac"]
    ffmpeg.run([*args, *video_codec, *extra, "-shortest", out])
    return out


def cut_in_half(source: Path, out: Path) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def scramble_after_ftyp(source: Path, out: Path) -> Path:
    """Overwrite 4 KiB after the ftyp box (the moov of a faststart file) with noise."""
    data = bytearray(source.read_bytes())
    start = int.from_bytes(data[:4], "big")
    data[start : start + 4096] = random.Random(7).randbytes(4096)
    out.write_bytes(bytes(data))
    return out


def ingest_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the folder of every file the ingest tests use, making it on the first call."""
    folder = tmp_path_factory.getbasetemp() / "ingest-media"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(exist_ok=True)
        _make_ingest_media(folder)
        done.touch()
    return folder


def _make_ingest_media(folder: Path) -> None:
    good = make_video(folder / "good.mp4")
    make_video(folder / "other.mp4", pattern="smptebars")
    make_video(folder / "landscape.mp4", size="640x360", audio=False)
    # Every platform warning at once: 16:9, silent, 3:10 long (1 fps keeps it cheap).
    make_video(folder / "wide-silent-long.mp4", size="256x144", seconds=190, rate=1, audio=False)
    faststart = make_video(folder / "faststart.mp4", extra=["-movflags", "+faststart"])
    make_video(folder / "mkv.mkv")
    make_video(folder / "mjpeg.mkv", audio=False, video_codec=["-c:v", "mjpeg"])
    make_video(folder / "ffv1.mkv", audio=False, video_codec=["-c:v", "ffv1"])
    make_video(folder / "tiny.mp4", size="64x64", audio=False)
    make_video(folder / "sliver.mp4", size="160x1280", audio=False)
    cbr = ["-b:v", "6M", "-minrate", "6M", "-maxrate", "6M", "-bufsize", "1M"]
    oversized = make_video(folder / OVERSIZED, extra=[*cbr, "-x264-params", "nal-hrd=cbr"])
    assert MIB < oversized.stat().st_size < 1.8 * MIB, oversized.stat().st_size
    # A fragmented MP4 stopped before its first frame: a video track holding no samples.
    empty_track = ["-c", "copy", "-an", "-frames:v", "0", "-movflags", "+frag_keyframe+empty_moov"]
    ffmpeg.run(["-i", good, *empty_track, folder / "empty-track.mp4"])
    ffmpeg.run(["-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", folder / "audio.m4a"])
    ffmpeg.run(["-f", "lavfi", "-i", "sine=d=2", folder / "dialogue.wav"])
    ffmpeg.run(["-f", "lavfi", "-i", "sine=d=2:frequency=220", folder / "music.wav"])
    cut_in_half(good, folder / "truncated.mp4")
    cut_in_half(faststart, folder / "truncated-faststart.mp4")
    scramble_after_ftyp(faststart, folder / "scrambled.mp4")
    (folder / "notes.mp4").write_text("Episode 1 notes: the CEO slaps the intern.\n")
    (folder / "script.txt").write_text("INT. PENTHOUSE - NIGHT\nLIN: You signed it.\n")
    (folder / "script-latin1.txt").write_bytes("Señor García\n".encode("latin-1"))


@dataclass(frozen=True)
class BadInput:
    """A file a user might try to ingest, the name they give it, and what they are told."""

    id: str
    file: str  # in the ingest_media folder
    filename: str  # as uploaded or as named on disk
    code: str
    phrase: str

    @property
    def status(self) -> int:
        return 413 if self.code == "too_large" else 422


# One of each kind of mistake; the size limit needs its own setting, see OVERSIZED.
BAD_INPUTS = [
    BadInput("not_media", "notes.mp4", "ep1.mp4", "not_media", "ep1.mp4 is not a video file"),
    BadInput(
        "truncated",
        "truncated.mp4",
        "ep1.mp4",
        "corrupt",
        "ep1.mp4 looks like an MP4/QuickTime file but cannot be read: it is truncated or damaged",
    ),
    BadInput("zero_duration", "empty-track.mp4", "ep1.mp4", "zero_duration", "has zero duration"),
    BadInput("no_video", "audio.m4a", "ep1.m4a", "no_video", "ep1.m4a has no video stream"),
    BadInput(
        "unsupported_codec",
        "mjpeg.mkv",
        "ep1.mkv",
        "unsupported_codec",
        "uses the mjpeg video codec",
    ),
    BadInput("absurd_dimensions", "tiny.mp4", "ep1.mp4", "bad_dimensions", "is 64x64 pixels"),
    BadInput(
        "wrong_extension",
        "mkv.mkv",
        "ep1.mp4",
        "wrong_extension",
        "ep1.mp4 is really a Matroska/WebM file; rename it to .mkv",
    ),
]
