"""Plotly figures from rows: no queries here, only shapes (style.md example 8)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Applied when a figure is written out (``analytics.web.figure_json``): setting a template
# on a Figure deep-copies and validates it, which costs more than the rest of a page.
TEMPLATE = "plotly_white"
MAX_SHADED = 12
MARGIN = {"l": 50, "r": 20, "t": 50, "b": 40}
HEIGHT = 360
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title=title,
        margin=MARGIN,
        height=HEIGHT,
        **kw,
    )
    return fig


def views_over_time(rows: list[dict[str, Any]], by: str) -> go.Figure:
    series: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for row in rows:
        xs, ys = series[row["key"]]
        xs.append(str(row["day"]))
        ys.append(row["views"])
    fig = go.Figure(
        [go.Scatter(x=x, y=y, name=k, mode="lines+markers") for k, (x, y) in series.items()]
    )
    return _layout(fig, f"Views per day by {by}", yaxis_title="views gained")


def top_episodes(rows: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure(
        go.Bar(x=[f"Ep. {r['episode']}" for r in rows], y=[r["views"] for r in rows], name="views")
    )
    return _layout(fig, "Top episodes", yaxis_title="views")


def retention(
    curves: list[dict[str, Any]], by: str, typical: list[float] | None = None
) -> dict[str, Any]:
    """Curves over % of the cut; each point's hover names the line on screen, a click opens it.

    Plotly's JSON built directly, as :func:`drop_off` is (many curves, 101 points each).
    """
    xs = list(range(101))
    traces: list[dict[str, Any]] = []
    if typical:
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": typical,
                "name": "typical",
                "line": {"dash": "dot", "color": "#999"},
            }
        )
    for curve in curves:
        hover = curve.get("hover") or [""] * 101
        links = curve.get("links") or [""] * 101
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": curve["points"],
                "name": str(curve.get(by)),
                "customdata": [[link, text] for link, text in zip(links, hover, strict=True)],
                "hovertemplate": (
                    "%{x}%: %{y:.1%} watching<br>%{customdata[1]}<extra>%{fullData.name}</extra>"
                ),
            }
        )
    layout = {
        "title": {"text": f"Retention by {by}"},
        "margin": MARGIN,
        "height": HEIGHT,
        "xaxis": {"title": {"text": "% of the cut"}},
        "yaxis": {"title": {"text": "still watching"}, "tickformat": ".0%"},
    }
    return {"data": traces, "layout": layout}


def drop_off(series: list[dict[str, Any]], by: str, *, per_second: bool) -> dict[str, Any]:
    """Viewers lost at each step, the typical loss dotted, the excess over it as bars and
    significant drop-offs shaded; hover names the line viewers left on, a click opens it.

    Built as Plotly's JSON directly: an episode overlaid by many languages is hundreds of
    traces of 100 points, and validating them through ``go`` objects costs more than the
    page's queries.
    """
    unit = "per second" if per_second else "per 1% of the cut"
    where = "second %{x:.1f}" if per_second else "%{x}%"
    traces: list[dict[str, Any]] = []
    if series and series[0]["typical_lost"] is not None:
        traces.append(
            {
                "type": "scatter",
                "x": series[0]["x"],
                "y": series[0]["typical_lost"],
                "name": "typical",
                "line": {"dash": "dot", "color": "#999"},
                "hovertemplate": f"{where}: typically %{{y:.1%}} lost<extra></extra>",
            }
        )
    drops: list[tuple[float, float, float]] = []
    for n, curve in enumerate(series):
        color = COLORS[n % len(COLORS)]
        name = str(curve.get(by))
        hover = curve.get("drop_hover") or [""] * len(curve["x"])
        links = curve.get("drop_links") or [""] * len(curve["x"])
        customdata = [[link, text] for link, text in zip(links, hover, strict=True)]
        traces.append(
            {
                "type": "bar",
                "x": curve["x"],
                "y": curve["excess"],
                "name": f"{name}: above typical",
                "legendgroup": name,
                "marker": {"color": color, "opacity": 0.45},
                "customdata": customdata,
                "hovertemplate": f"{where}: %{{y:.1%}} more than typical<br>%{{customdata[1]}}"
                "<extra>%{fullData.name}</extra>",
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": curve["x"],
                "y": curve["lost"],
                "name": name,
                "legendgroup": name,
                "line": {"color": color},
                "customdata": customdata,
                "hovertemplate": f"{where}: %{{y:.1%}} of those left lost<br>%{{customdata[1]}}"
                "<extra>%{fullData.name}</extra>",
            }
        )
        drops.extend(curve["drops"])
    # The largest drop-offs shaded (a noisy curve can have dozens; the list page has them all).
    drops.sort(key=lambda d: -d[2])
    shaded = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": start,
            "x1": until,
            "y0": 0,
            "y1": 1,
            "fillcolor": "#d62728",
            "opacity": 0.12,
            "line": {"width": 0},
            "layer": "below",
        }
        for start, until, _excess in drops[:MAX_SHADED]
    ]
    layout = {
        "title": {"text": f"Drop-off {unit} by {by} (shaded: significant drop-offs)"},
        "margin": MARGIN,
        "height": HEIGHT,
        "barmode": "overlay",
        "shapes": shaded,
        "xaxis": {"title": {"text": "second of the cut" if per_second else "% of the cut"}},
        "yaxis": {"title": {"text": f"viewers lost {unit}"}, "tickformat": ".0%"},
    }
    return {"data": traces, "layout": layout}


def funnel(rows: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[f"Ep. {r['episode']}" for r in rows],
            y=[r["reach_from_first"] for r in rows],
            text=[f"{r['views'] or 0:,}" for r in rows],
        )
    )
    return _layout(fig, "Series funnel: share of episode 1's viewers", yaxis={"tickformat": ".0%"})


def hooks(rows: list[dict[str, Any]], kind: str) -> go.Figure:
    fig = go.Figure()
    by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["kind"] == kind:
            by_platform[row["platform"]].append(row)
    for platform, items in by_platform.items():
        fig.add_trace(
            go.Scatter(
                x=[r["name"] for r in items],
                y=[r["mean"] for r in items],
                mode="markers",
                name=platform,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        (r["high"] - r["mean"]) if r["high"] is not None else 0 for r in items
                    ],
                    "arrayminus": [
                        (r["mean"] - r["low"]) if r["low"] is not None else 0 for r in items
                    ],
                },
            )
        )
    metric = rows[0]["metric"] if rows else ""
    return _layout(
        fig, f"{kind.capitalize()}s: mean {metric} with 90% intervals", yaxis={"tickformat": ".0%"}
    )


def heatmap(grid: list[list[float | None]]) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(z=grid, x=[f"{h:02d}" for h in range(24)], y=list(WEEKDAYS), colorscale="Blues")
    )
    return _layout(fig, "Mean views by local posting weekday × hour", xaxis_title="local hour")
