"""Pages of the analytics domain: overview, retention, drop-offs, funnel, hooks, timing.

Filters (series, period, market, platform, episode) live in the query string, so a
view can be shared by its URL. ``?export=<table>`` answers any page's table as CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import plotly
import plotly.io
from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from sqlmodel import select

from analytics import analysis, charts, queries
from analytics.queries import Filters
from analytics.retention import POINTS, line_at
from hookline.auth import requires
from hookline.clock import utcnow
from hookline.errors import InvalidInput
from hookline.models import Localization, LocalizedCut, MediaAsset
from hookline.web.context import db_session

bp = Blueprint("analytics", __name__, url_prefix="/analytics")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PAGES = (
    ("analytics.index", "Overview"),
    ("analytics.retention_page", "Retention"),
    ("analytics.dropoffs_page", "Drop-offs"),
    ("analytics.funnel_page", "Funnel"),
    ("analytics.hooks_page", "Hooks & tropes"),
    ("analytics.timing_page", "Posting times"),
)


def parse_filters(args: Any) -> Filters:
    """Read the filters from query parameters; a malformed one says which and how to fix it."""

    def number(name: str) -> int | None:
        raw = args.get(name) or ""
        if not raw:
            return None
        if not raw.isdigit():
            raise InvalidInput(f"{name}={raw!r} is not a number; pick one from the list.")
        return int(raw)

    def day(name: str) -> date | None:
        raw = args.get(name) or ""
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(f"{name}={raw!r} is not a date; write it as YYYY-MM-DD.") from None

    filters = Filters(
        series_id=number("series"),
        start=day("start"),
        end=day("end"),
        market=args.get("market") or None,
        platform=args.get("platform") or None,
        episode_id=number("episode"),
    )
    if filters.start and filters.end and filters.start > filters.end:
        raise InvalidInput("The period starts after it ends: swap start and end.")
    return filters


def figure_json(fig: Any) -> Markup:
    """A figure (a ``go.Figure`` or Plotly's JSON as a dict), in the charts' template, as JSON
    safe inside <script type="application/json">."""
    figure = fig if isinstance(fig, dict) else fig.to_plotly_json()
    figure["layout"].setdefault("template", template_json())
    text = plotly.io.to_json(figure, validate=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@cache
def template_json() -> dict[str, Any]:
    return plotly.io.templates[charts.TEMPLATE].to_plotly_json()


def csv_response(rows: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    columns = list(rows[0].keys()) if rows else ["empty"]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def page(template: str, tables: dict[str, list[dict[str, Any]]], **context: Any) -> Any:
    """Render ``template``, or one of its ``tables`` as CSV when ``?export=`` names it."""
    wanted = request.args.get("export")
    if wanted:
        if wanted not in tables:
            raise InvalidInput(f"No table {wanted!r} here; export one of {', '.join(tables)}.")
        return csv_response(tables[wanted], wanted)
    session = db_session()
    return render_template(
        template,
        tables=tables,
        options=queries.options(session),
        args=request.args,
        pages=PAGES,
        **context,
    )


def today() -> date:
    return utcnow().date()


@bp.get("/plotly.min.js")
@requires("analytics.view")
def plotly_js() -> Any:
    """plotly.js from the installed plotly package: no CDN (studios run closed networks)."""
    body, etag = plotly_bytes()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(etag)
    response.cache_control.max_age = 86400
    return response.make_conditional(request)


@cache
def plotly_bytes() -> tuple[bytes, str]:
    """Read once: every dashboard asks for it, and an open file per request leaks handles."""
    body = PLOTLY_JS.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.get("/")
@requires("analytics.view")
def index() -> Any:
    filters = parse_filters(request.args)
    data = queries.overview(db_session(), filters, today=today())
    figures = {
        "by-market": figure_json(charts.views_over_time(data["by_market"], "market")),
        "by-platform": figure_json(charts.views_over_time(data["by_platform"], "platform")),
        "top-episodes": figure_json(charts.top_episodes(data["top_episodes"])),
    }
    tables = {
        "kpis": data["cards"],
        "by_market": data["by_market"],
        "by_platform": data["by_platform"],
        "top_episodes": data["top_episodes"],
    }
    return page("analytics/index.html", tables, data=data, figures=figures)


@bp.get("/retention")
@requires("analytics.view")
def retention_page() -> Any:
    session = db_session()
    filters = parse_filters(request.args)
    by = request.args.get("by") or "language"
    if by not in ("language", "platform"):
        raise InvalidInput("by= is language or platform.")
    curves, typical = queries.retention_with_typical(session, filters, by=(by,))
    duration = _episode_duration(session, filters.episode_id) if filters.episode_id else None
    if filters.episode_id and duration:
        attach_lines(session, filters.episode_id, curves, by, duration)
    drops = analysis.drop_off_series(curves, typical, duration)
    figures = {
        "retention": figure_json(charts.retention(curves, by, typical)),
        "drop-off": figure_json(charts.drop_off(drops, by, per_second=bool(duration))),
    }
    rows = [
        {by: c[by], "views": c["views"], "curves": c["curves"], **_points(c["points"])}
        for c in curves
    ]
    # Ranking against similar episodes reads every curve of the market: only for a choice.
    ranked = filters.episode_id or filters.series_id
    relative = analysis.relative_retention(session, filters) if ranked else []
    tables = {"curves": rows, "relative_retention": relative}
    return page("analytics/retention.html", tables, figures=figures, by=by, ranked=ranked)


def _points(points: list[float]) -> dict[str, float]:
    return {f"p{i}": round(v, 4) for i, v in enumerate(points)}


def attach_lines(
    session: Any, episode_id: int, curves: list[dict[str, Any]], by: str, duration: float
) -> None:
    """Give each curve point the line on screen there and each step the line viewers left
    on (a moment before), with links that open that line in the review page."""
    localizations = {
        loc.language: loc
        for loc in session.exec(select(Localization).where(Localization.episode_id == episode_id))
    }
    source = next((v for v in localizations.values() if v.is_source), None)
    chosen = {
        id(curve): (localizations.get(curve.get(by)) if by == "language" else None) or source
        for curve in curves
    }
    lines_by_loc = analysis.lines_of(session, [loc.id for loc in chosen.values() if loc])
    step = duration / (POINTS - 1)
    for curve in curves:
        loc = chosen[id(curve)]
        if loc is None:
            continue
        lines = lines_by_loc.get(loc.id, [])
        spans = [(line.start_s, line.end_s) for line in lines]
        at = [line_at(spans, step * i, lag=0.0) for i in range(POINTS)]
        left_on = [line_at(spans, step * (i + 0.5)) for i in range(POINTS - 1)]
        points = [_described_line(lines[i] if i >= 0 else None) for i in at]
        steps = [_described_line(lines[i] if i >= 0 else None) for i in left_on]
        curve["hover"], curve["links"] = [p[0] for p in points], [p[1] for p in points]
        curve["drop_hover"], curve["drop_links"] = [p[0] for p in steps], [p[1] for p in steps]


def _described_line(line: Any) -> tuple[str, str]:
    """What the hover says about a line on screen, and the link that opens it in review."""
    if line is None:
        return "(no line on screen)", ""
    link = f"/localizations/{line.localization_id}?t={line.start_s:.2f}#line-{line.position}"
    return line.text or line.source_text, link


def _episode_duration(session: Any, episode_id: int) -> float | None:
    row = session.exec(
        select(MediaAsset.duration_s)
        .join(LocalizedCut, LocalizedCut.asset_id == MediaAsset.id)
        .join(Localization, Localization.id == LocalizedCut.localization_id)
        .where(Localization.episode_id == episode_id)
    ).first()
    return float(row) if row else None


@bp.get("/drop-offs")
@requires("analytics.view")
def dropoffs_page() -> Any:
    session = db_session()
    filters = parse_filters(request.args)
    drops = analysis.drop_off_list(session, filters)
    gaps = analysis.language_gaps(session, filters)
    return page("analytics/dropoffs.html", {"drop_offs": drops, "language_gaps": gaps})


@bp.get("/funnel")
@requires("analytics.view")
def funnel_page() -> Any:
    filters = parse_filters(request.args)
    _, end = filters.period(today())
    rows = analysis.funnel(db_session(), filters, end=end)
    return page(
        "analytics/funnel.html",
        {"funnel": rows},
        figures={"funnel": figure_json(charts.funnel(rows))},
    )


@bp.get("/hooks")
@requires("analytics.view")
def hooks_page() -> Any:
    filters = parse_filters(request.args)
    _, end = filters.period(today())
    metric = request.args.get("metric") or "completion_rate"
    if metric not in ("completion_rate", "hook_rate", "avg_percent_viewed"):
        raise InvalidInput("metric= is completion_rate, hook_rate or avg_percent_viewed.")
    rows = analysis.hooks_and_tropes(db_session(), filters, end=end, metric=metric)
    figures = {
        "hooks": figure_json(charts.hooks(rows, "hook")),
        "tropes": figure_json(charts.hooks(rows, "trope")),
    }
    return page("analytics/hooks.html", {"hooks_and_tropes": rows}, figures=figures)


@bp.get("/timing")
@requires("analytics.view")
def timing_page() -> Any:
    filters = parse_filters(request.args)
    _, end = filters.period(today())
    data = analysis.timing(db_session(), filters, end=end)
    best = [
        {"market": market, **hour} for market, hours in data["best_hours"].items() for hour in hours
    ]
    grid = [
        {"weekday": charts.WEEKDAYS[d], **{f"h{h:02d}": v for h, v in enumerate(row)}}
        for d, row in enumerate(data["grid"])
    ]
    return page(
        "analytics/timing.html",
        {"best_hours": best, "heatmap": grid},
        figures={"heatmap": figure_json(charts.heatmap(data["grid"]))},
    )
