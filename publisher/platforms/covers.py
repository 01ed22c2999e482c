"""Cover images made from the video itself, for platforms that want one with the post."""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image

COVER_WIDTH = 360  # big enough for a feed thumbnail, small enough to send with the post


class CoverError(Exception):
    """The video has no frame to make a cover from."""


def first_frame_jpeg(path: Path, *, width: int = COVER_WIDTH) -> bytes:
    """Return the video's first frame as a JPEG, ``width`` pixels wide."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise CoverError(f"{path.name} has no video stream")
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise CoverError(f"{path.name} has no video frame")
            image = frame.to_image()
    except av.FFmpegError as exc:
        raise CoverError(f"{path.name} is not a readable video ({exc.strerror})") from exc
    image.thumbnail((width, width * 4))
    return _jpeg(image)


def black_jpeg(width: int = 90, height: int = 160) -> bytes:
    """Return a small black 9:16 JPEG, the cover for a file whose frames cannot be read."""
    return _jpeg(Image.new("RGB", (width, height)))


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
