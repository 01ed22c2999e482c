"""What a platform says about a post's audience, read into Hookline's one schema.

Each client's ``insights`` asks its platform and fills a :class:`Reading`: the metrics
the platform gives (the others stay None: missing is never zero), the retention curve
at the platform's own resolution, the raw answer, and a warning for anything it could
not read. A body that is not what the protocol promises raises :class:`Malformed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Hookline's metrics; a platform fills those it has.
METRICS = (
    "views",
    "reach",
    "watch_time_s",
    "avg_view_duration_s",
    "avg_percent_viewed",
    "completion_rate",
    "hook_rate",
    "likes",
    "comments",
    "shares",
    "saves",
    "follows",
)
COUNTS = ("views", "reach", "likes", "comments", "shares", "saves", "follows")


class Malformed(Exception):
    """The platform answered with something its protocol never sends (HTML, a wrong shape)."""


@dataclass
class Reading:
    """One reading of a post's metrics. ``curve_x`` are fractions of the cut (0 to 1)."""

    values: dict[str, float | int | None] = field(default_factory=dict)
    hook_rate_definition: str | None = None
    curve_x: list[float] | None = None
    curve_y: list[float] | None = None
    curve_resolution: str = ""
    relative_performance: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    delayed: bool = False  # the platform has no numbers for the post yet

    def put(self, name: str, value: Any, *, scale: float = 1.0, source: str = "") -> None:
        """Store ``value`` as metric ``name`` (scaled); warn when it is there but unreadable."""
        if value is None:
            self.warnings.append(f"{source or name} is missing from the platform's answer")
            return
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.warnings.append(f"{source or name} is not a number ({value!r})")
            return
        try:
            number = float(value) * scale
        except ValueError:
            self.warnings.append(f"{source or name} is not a number ({value!r})")
            return
        self.values[name] = round(number) if name in COUNTS else number

    def set_curve(self, xs: list[float], ys: list[float], resolution: str) -> None:
        if len(xs) < 2 or len(xs) != len(ys):
            self.warnings.append(f"the retention curve has too few points ({len(xs)})")
            return
        self.curve_x, self.curve_y, self.curve_resolution = xs, ys, resolution

    def derive(self, duration_s: float) -> None:
        """Fill what follows from what the platform gave (average percent from duration)."""
        views, watch = self.values.get("views"), self.values.get("watch_time_s")
        avg = self.values.get("avg_view_duration_s")
        if avg is None and views and watch is not None:
            self.values["avg_view_duration_s"] = watch / views
            avg = self.values["avg_view_duration_s"]
        if watch is None and views is not None and avg is not None:
            self.values["watch_time_s"] = avg * views
        if self.values.get("avg_percent_viewed") is None and avg is not None and duration_s:
            self.values["avg_percent_viewed"] = 100.0 * avg / duration_s
        ends = bool(self.curve_x) and self.curve_x[-1] >= 0.999  # type: ignore[index]
        if self.curve_y is not None and ends and self.values.get("completion_rate") is None:
            self.values["completion_rate"] = min(1.0, self.curve_y[-1])


def value_of(items: list[dict[str, Any]], name: str) -> Any:
    """The lifetime value of insight ``name`` in a Graph API ``data`` list (None when absent)."""
    for item in items:
        if isinstance(item, dict) and item.get("name") == name:
            values = item.get("values") or [{}]
            return values[0].get("value") if isinstance(values[0], dict) else None
    return None
