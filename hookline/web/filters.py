"""Template filters: times, sizes and durations the way people read them."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from hookline.clock import utcnow


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        ago=ago, utc=utc, filesize=filesize, duration=duration, status_class=status_class
    )


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "—"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            break
    else:
        amount = f"{seconds} s"
    return f"in {amount}" if future else f"{amount} ago"


def utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def status_class(status: str) -> str:
    good = {"succeeded", "approved", "published", "connected", "ready"}
    bad = {"dead", "failed", "reconnect_needed", "unconfirmed"}
    busy = {"running", "uploading", "processing", "localizing"}
    if status in good:
        return "ok"
    if status in bad:
        return "bad"
    if status in busy:
        return "busy"
    return "neutral"
