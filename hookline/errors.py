"""Hookline's exception hierarchy.

Every error a user can cause says what is wrong and what to do; the CLI prints
``str(error)`` and exits non-zero, the web and API map ``status`` to the response.
"""

from __future__ import annotations


class HooklineError(Exception):
    """Base of every error Hookline raises on purpose."""

    status = 500

    def __init__(self, message: str, *, detail: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class SettingsError(HooklineError):
    """A HOOKLINE_* variable is unknown or malformed."""

    status = 400


class NotFound(HooklineError):
    status = 404


class Conflict(HooklineError):
    status = 409


class InvalidInput(HooklineError):
    """The caller sent something we cannot use; the message says how to fix it."""

    status = 400


class MediaRejected(InvalidInput):
    """An uploaded or ingested file is not a usable episode master."""

    status = 422

    def __init__(self, message: str, *, code: str, detail: dict | None = None) -> None:
        super().__init__(message, detail=detail)
        self.code = code


class TooLarge(MediaRejected):
    status = 413

    def __init__(self, message: str, *, detail: dict | None = None) -> None:
        super().__init__(message, code="too_large", detail=detail)


class MediaError(HooklineError):
    """A media tool (ffmpeg) failed; carries the tail of its stderr."""

    def __init__(self, message: str, *, stderr: str = "") -> None:
        super().__init__(message, detail={"stderr": stderr[-2000:]})
        self.stderr = stderr


class JobError(HooklineError):
    """A job failed; the worker retries it with backoff."""


class PermanentJobError(JobError):
    """A job failed in a way retrying cannot fix; it is dead-lettered at once."""


class JobCancelled(JobError):
    """The job was cancelled while it ran."""


class RetryLater(JobError):
    """The job cannot run yet (it waits for other work); try again after ``delay_s``.

    Waiting is not failing: the attempt is not counted.
    """

    def __init__(self, message: str, *, delay_s: float = 2.0) -> None:
        super().__init__(message)
        self.delay_s = delay_s
