"""Job kinds that only the tests use, loaded by workers through HOOKLINE_PLUGINS=jobkinds.

``test.record`` writes a row per execution into ``test_executions`` (created by the
test), so a test can count how many times each job really ran.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

from hookline.errors import PermanentJobError
from hookline.jobs import JobContext, job

CREATE_EXECUTIONS = (
    "CREATE TABLE test_executions "
    "(job_id INTEGER NOT NULL, phase VARCHAR(16) NOT NULL, worker VARCHAR(200))"
)


def _note(ctx: JobContext, phase: str) -> None:
    with ctx.db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO test_executions (job_id, phase, worker) VALUES (:j, :p, :w)"),
            {"j": ctx.job_id, "p": phase, "w": ctx.worker},
        )


@job("test.record")
def record(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Record one execution."""
    _note(ctx, "done")
    return {"job": ctx.job_id}


@job("test.slow", max_attempts=3)
def slow(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Record the start, work for a while with progress, record the end."""
    _note(ctx, "start")
    seconds = float(payload.get("seconds", 3))
    steps = 20
    for step in range(steps):
        time.sleep(seconds / steps)
        ctx.progress(100 * (step + 1) / steps, f"step {step + 1} of {steps}")
    _note(ctx, "done")
    return {"slept": seconds}


@job("test.fails", max_attempts=3)
def fails(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Always fail with the same message."""
    raise RuntimeError(f"the render farm is on fire (attempt {ctx.attempt})")


@job("test.refuses")
def refuses(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fail in a way that retrying cannot fix."""
    raise PermanentJobError("this input can never work")


@job("test.waits")
def waits(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Wait (without spending attempts) until the file named in the payload exists."""
    from pathlib import Path

    from hookline.errors import RetryLater

    if not Path(payload["until"]).exists():
        raise RetryLater("waiting for the upstream file", delay_s=0.05)
    return {"waited": True}


RUNNING_CAPPED: list[int] = []
MOST_AT_ONCE: list[int] = [0]


@job("test.capped", parallel_setting="localize_parallel")
def capped(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Run for a moment, noting how many of its kind run at once in this process."""
    RUNNING_CAPPED.append(ctx.job_id)
    MOST_AT_ONCE[0] = max(MOST_AT_ONCE[0], len(RUNNING_CAPPED))
    time.sleep(0.2)
    RUNNING_CAPPED.remove(ctx.job_id)
    return {}
