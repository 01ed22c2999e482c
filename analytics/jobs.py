"""The analytics job kinds: collect every due publication's metrics."""

from __future__ import annotations

from typing import Any

from analytics.collect import collect_due
from hookline.jobs import JobContext, job

COLLECT = "analytics.collect"


@job(COLLECT, max_attempts=3)
def collect(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Pull metrics for every published publication whose collection is due."""
    ctx.progress(0, "collecting metrics")
    outcome = collect_due(ctx.db, ctx.settings, now=ctx.now(), limit=payload.get("limit", 1000))
    return outcome.as_dict()
