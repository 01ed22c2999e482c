"""Helpers for platform client tests: Hookline's test app, the callback, real videos."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av

from hookline import ffmpeg
from publisher.platforms.base import App, Media

APP = App(client_id="hookline-test", client_secret="s3cret")
REDIRECT = "http://127.0.0.1:5000/publishing/oauth/callback"


def make_video(path: Path, *, seconds: float, size: str = "720x1280", bitrate: str = "4M") -> Path:
    """Render a real H.264/AAC MP4 of about ``bitrate`` so its byte size is predictable."""
    ffmpeg.run(
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=s={size}:r=30:d={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            bitrate,
            "-maxrate",
            bitrate,
            "-bufsize",
            bitrate,
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            path,
        ]
    )
    return path


def media_of(path: Path) -> Media:
    """Describe a file as the publisher would (size, hash, duration, dimensions)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        duration = float(container.duration / av.time_base)
        return Media(
            path=path,
            size=path.stat().st_size,
            sha256=digest,
            duration_s=duration,
            width=video.codec_context.width,
            height=video.codec_context.height,
            video_codec=video.codec_context.name,
            fps=float(video.average_rate or 30),
        )
