"""Plotly figures from rows: no queries here, only shapes (style.md example 8)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Applied when a figure is written out (``analytics.web.figure_json``): setting a template
# on a Figure deep-copies and validates it, which costs more than the rest of a page.
TEMPLATE = "plotly_white"
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title=title,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        height=360,
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
) -> go.Figure:
    """Curves over % of the cut; each point's hover names the line on screen, a click opens it."""
    fig = go.Figure()
    xs = list(range(101))
    if typical:
        fig.add_trace(
            go.Scatter(x=xs, y=typical, name="typical", line={"dash": "dot", "color": "#999"})
        )
    for curve in curves:
        hover = curve.get("hover") or [""] * 101
        links = curve.get("links") or [""] * 101
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=curve["points"],
                name=str(curve.get(by)),
                customdata=[[link, text] for link, text in zip(links, hover, strict=True)],
                hovertemplate=(
                    "%{x}%: %{y:.1%} watching<br>%{customdata[1]}<extra>%{fullData.name}</extra>"
                ),
            )
        )
    return _layout(
        fig,
        f"Retention by {by}",
        xaxis_title="% of the cut",
        yaxis={"title": "still watching", "tickformat": ".0%"},
    )


def drop_off(series: list[dict[str, Any]], by: str, *, per_second: bool) -> go.Figure:
    """Viewers lost at each step, the typical loss dotted, the excess over it as bars and
    significant drop-offs shaded; hover names the line viewers left on, a click opens it."""
    fig = go.Figure()
    unit = "per second" if per_second else "per 1% of the cut"
    where = "second %{x:.1f}" if per_second else "%{x}%"
    if series and series[0]["typical_lost"] is not None:
        fig.add_trace(
            go.Scatter(
                x=series[0]["x"],
                y=series[0]["typical_lost"],
                name="typical",
                line={"dash": "dot", "color": "#999"},
                hovertemplate=f"{where}: typically %{{y:.1%}} lost<extra></extra>",
            )
        )
    for n, curve in enumerate(series):
        color = COLORS[n % len(COLORS)]
        name = str(curve.get(by))
        hover = curve.get("drop_hover") or [""] * len(curve["x"])
        links = curve.get("drop_links") or [""] * len(curve["x"])
        customdata = [[link, text] for link, text in zip(links, hover, strict=True)]
        fig.add_trace(
            go.Bar(
                x=curve["x"],
                y=curve["excess"],
                name=f"{name}: above typical",
                legendgroup=name,
                marker={"color": color, "opacity": 0.45},
                customdata=customdata,
                hovertemplate=f"{where}: %{{y:.1%}} more than typical<br>%{{customdata[1]}}"
                "<extra>%{fullData.name}</extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=curve["x"],
                y=curve["lost"],
                name=name,
                legendgroup=name,
                line={"color": color},
                customdata=customdata,
                hovertemplate=f"{where}: %{{y:.1%}} of those left lost<br>%{{customdata[1]}}"
                "<extra>%{fullData.name}</extra>",
            )
        )
        for start, until, _excess in curve["drops"]:
            fig.add_vrect(x0=start, x1=until, fillcolor="#d62728", opacity=0.12, line_width=0)
    return _layout(
        fig,
        f"Drop-off {unit} by {by} (shaded: significant drop-offs)",
        barmode="overlay",
        xaxis_title="second of the cut" if per_second else "% of the cut",
        yaxis={"title": f"viewers lost {unit}", "tickformat": ".0%"},
    )


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
