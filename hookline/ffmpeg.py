"""Run ffmpeg: argument lists in, checked results out, progress reported as it goes."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hookline.errors import MediaError

log = logging.getLogger(__name__)

ProgressFn = Callable[[float], None]


@functools.cache
def default_binary() -> str:
    """Return the static ffmpeg shipped in the imageio-ffmpeg wheel, or one on PATH."""
    try:
        import imageio_ffmpeg
    except ImportError:  # the wheel is a dependency; PATH is the fallback for odd installs
        found = shutil.which("ffmpeg")
        if not found:
            message = "ffmpeg not found: install imageio-ffmpeg or set HOOKLINE_FFMPEG"
            raise MediaError(message) from None
        return found
    return imageio_ffmpeg.get_ffmpeg_exe()


def run(
    args: Sequence[str | Path],
    *,
    binary: str | None = None,
    duration_s: float | None = None,
    progress: ProgressFn | None = None,
    timeout: float | None = None,
) -> None:
    """Run ``ffmpeg args``; raise MediaError with the tail of stderr when it fails.

    With ``duration_s`` and ``progress``, ``progress(fraction)`` is called as
    ffmpeg reports the output time it has reached.
    """
    command = [binary or default_binary(), "-hide_banner", "-nostdin", "-y"]
    if progress and duration_s:
        command += ["-progress", "pipe:1", "-nostats"]
    command += [str(a) for a in args]
    log.debug("ffmpeg %s", " ".join(command[1:]))
    if progress and duration_s:
        _run_with_progress(command, duration_s, progress, timeout)
        return
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        message = f"ffmpeg took longer than {timeout:.0f} s"
        raise MediaError(message, stderr=str(exc.stderr)) from exc
    if done.returncode != 0:
        raise MediaError(_failure(done.stderr), stderr=done.stderr)


@dataclass(frozen=True)
class Captured:
    """What a finished ffmpeg wrote: raw bytes on stdout, its log on stderr."""

    stdout: bytes
    stderr: str


def capture(
    args: Sequence[str | Path],
    *,
    binary: str | None = None,
    input: bytes | None = None,
    timeout: float | None = None,
) -> Captured:
    """Run ``ffmpeg args`` with ``input`` on stdin; return what it wrote.

    For filters that report on stderr (loudnorm, ebur128) and for audio piped
    through ``pipe:0`` / ``pipe:1``. Raises MediaError like :func:`run`.
    """
    command = [binary or default_binary(), "-hide_banner", "-nostdin", "-y"]
    command += [str(a) for a in args]
    log.debug("ffmpeg %s", " ".join(command[1:]))
    try:
        done = subprocess.run(
            command, input=input, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        message = f"ffmpeg took longer than {timeout:.0f} s"
        raise MediaError(message, stderr=str(exc.stderr)) from exc
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise MediaError(_failure(stderr), stderr=stderr)
    return Captured(stdout=done.stdout, stderr=stderr)


def piped(
    first: Sequence[str | Path],
    second: Sequence[str | Path],
    *,
    binary: str | None = None,
    timeout: float | None = None,
) -> Captured:
    """Run ``ffmpeg first | ffmpeg second``: two processes, so two cores share the work.

    ``first`` writes to ``pipe:1`` what ``second`` reads from ``pipe:0`` (raw audio, say,
    filtered by one and encoded by the other). Returns the first's stderr (what its
    filters reported); raises MediaError if either fails.
    """
    base = [binary or default_binary(), "-hide_banner", "-nostdin", "-y"]
    commands = [base + [str(a) for a in first], base + [str(a) for a in second]]
    log.debug("ffmpeg %s | ffmpeg %s", *(" ".join(c[1:]) for c in commands))
    with tempfile.TemporaryFile() as err1, tempfile.TemporaryFile() as err2:
        producer = subprocess.Popen(commands[0], stdout=subprocess.PIPE, stderr=err1)
        consumer = subprocess.Popen(commands[1], stdin=producer.stdout, stderr=err2)
        producer.stdout.close()  # the consumer holds the pipe now  # type: ignore[union-attr]
        try:
            consumer.wait(timeout=timeout)
            producer.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            producer.kill()
            consumer.kill()
            producer.wait()
            consumer.wait()
            raise MediaError(f"ffmpeg took longer than {timeout:.0f} s") from exc
        stderrs = []
        for err in (err1, err2):
            err.seek(0)
            stderrs.append(err.read().decode("utf-8", "replace"))
    for process, stderr in zip((producer, consumer), stderrs, strict=True):
        if process.returncode != 0:
            raise MediaError(_failure(stderr), stderr=stderr)
    return Captured(stdout=b"", stderr=stderrs[0])


def _run_with_progress(
    command: list[str], duration_s: float, progress: ProgressFn, timeout: float | None
) -> None:
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                progress(min(1.0, int(value) / 1e6 / duration_s))
        stderr = proc.stderr.read() if proc.stderr else ""
        proc.wait(timeout=timeout)
    if proc.returncode != 0:
        raise MediaError(_failure(stderr), stderr=stderr)
    progress(1.0)


def _failure(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    tail = lines[-1] if lines else "no output"
    return f"ffmpeg failed: {tail}"
