"""What the numbers say: drop-off moments tied to lines, language gaps, funnel, hooks, timing.

Built on :mod:`analytics.queries` (the aggregation, in SQL) and :mod:`analytics.retention`
(the math, on plain values).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlmodel import Session, col, select

from analytics import queries, retention
from analytics.queries import Filters
from hookline.models import Localization, SubtitleLine

Z90 = 1.645


def clock(second: float) -> str:
    return f"{int(second // 60)}:{int(second % 60):02d}"


def lines_of(session: Session, localization_ids: Iterable[int]) -> dict[int, list[SubtitleLine]]:
    ids = sorted(set(localization_ids))
    found: dict[int, list[SubtitleLine]] = defaultdict(list)
    if not ids:
        return found
    for line in session.exec(
        select(SubtitleLine)
        .where(col(SubtitleLine.localization_id).in_(ids))
        .order_by(SubtitleLine.localization_id, SubtitleLine.position)
    ):
        found[line.localization_id].append(line)
    return found


def _sources(session: Session, episode_ids: Iterable[int]) -> dict[int, int]:
    """The source-language localization of each episode."""
    ids = sorted(set(episode_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Localization.episode_id, Localization.id).where(
            col(Localization.episode_id).in_(ids), col(Localization.is_source)
        )
    ).all()
    return dict(rows)


def _line_on_screen(lines: list[SubtitleLine], second: float) -> SubtitleLine | None:
    index = retention.line_at([(line.start_s, line.end_s) for line in lines], second)
    return lines[index] if index >= 0 else None


def baselines(curves: list[dict[str, Any]]) -> dict[str, list[float]]:
    """The typical curve per platform: views-weighted over every curve of that platform."""
    by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for curve in curves:
        by_platform[curve["platform"]].append(curve)
    return {
        platform: retention.weighted_mean(
            [c["points"] for c in group], [c["views_basis"] or 0 for c in group]
        )
        for platform, group in by_platform.items()
    }


def drop_off_list(session: Session, filters: Filters) -> list[dict[str, Any]]:
    """Every significant drop-off of the filtered publications, tied to the line on screen."""
    every = queries.latest_curves(session, Filters(platform=filters.platform))
    typical = baselines(every)
    chosen = queries.latest_curves(session, filters)
    lines = lines_of(session, [c["localization_id"] for c in chosen])
    sources = _sources(session, [c["episode_id"] for c in chosen])
    source_lines = lines_of(session, sources.values())
    found = []
    for curve in chosen:
        base = typical.get(curve["platform"])
        if not base or not curve["views_basis"]:
            continue
        for drop in retention.drop_offs(
            curve["points"], base, views=curve["views_basis"], duration_s=curve["duration_s"]
        ):
            found.append(_described(curve, drop, lines, sources, source_lines, against="typical"))
    found.sort(key=lambda d: -d["excess"])
    return found


def _described(
    curve: dict[str, Any],
    drop: retention.DropOff,
    lines: dict[int, list[SubtitleLine]],
    sources: dict[int, int],
    source_lines: dict[int, list[SubtitleLine]],
    *,
    against: str,
) -> dict[str, Any]:
    line = _line_on_screen(lines.get(curve["localization_id"], []), drop.second)
    source_id = sources.get(curve["episode_id"])
    source = _line_on_screen(source_lines.get(source_id, []), drop.second) if source_id else None
    words = (line.text or line.source_text) if line else ""
    said = f", during '{words}'" if words else ""
    return {
        "publication_id": curve["publication_id"],
        "title": curve["title"],
        "platform": curve["platform"],
        "market": curve["market"],
        "language": curve["language"],
        "episode": curve["episode"],
        "second": round(drop.second, 2),
        "at": clock(drop.second),
        "loss": drop.loss,
        "excess": drop.excess,
        "z": drop.z,
        "localization_id": curve["localization_id"],
        "line_position": line.position if line else None,
        "line_text": words or None,
        "source_text": (source.text or source.source_text) if source else None,
        "summary": (
            f"at {clock(drop.second)}{said}, the {curve['language']} cut loses "
            f"{drop.excess:.0%} more than {against}"
        ),
    }


def language_gaps(session: Session, filters: Filters) -> list[dict[str, Any]]:
    """Where one language's curve of an episode falls and the others' do not.

    Per episode and platform, each language's pooled curve is compared with the pooled
    curve of the other languages; a drop only one language has is a localization problem.
    """
    curves = queries.latest_curves(session, filters)
    groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for curve in curves:
        groups[(curve["episode_id"], curve["platform"])].append(curve)
    lines = lines_of(session, [c["localization_id"] for c in curves])
    sources = _sources(session, [c["episode_id"] for c in curves])
    source_lines = lines_of(session, sources.values())
    gaps = []
    for group in groups.values():
        languages = sorted({c["language"] for c in group})
        if len(languages) < 2:
            continue
        for language in languages:
            mine = [c for c in group if c["language"] == language]
            others = [c for c in group if c["language"] != language]
            views = sum(c["views_basis"] or 0 for c in mine)
            pooled_mine = retention.weighted_mean(
                [c["points"] for c in mine], [c["views_basis"] or 0 for c in mine]
            )
            pooled_others = retention.weighted_mean(
                [c["points"] for c in others], [c["views_basis"] or 0 for c in others]
            )
            if not pooled_mine or not pooled_others:
                continue
            other_names = "/".join(sorted({c["language"] for c in others}))
            for drop in retention.drop_offs(
                pooled_mine, pooled_others, views=views, duration_s=mine[0]["duration_s"]
            ):
                gaps.append(
                    _described(mine[0], drop, lines, sources, source_lines, against=other_names)
                    | {"compared_with": other_names}
                )
    gaps.sort(key=lambda g: -g["excess"])
    return gaps


def drop_off_series(
    curves: list[dict[str, Any]], typical: list[float] | None, duration_s: float | None
) -> list[dict[str, Any]]:
    """Per curve, the share of viewers lost at each step, its excess over the typical curve's,
    and its significant drop-offs.

    With the cut's length known (one episode), steps are in seconds and losses per second;
    without it (curves of many lengths pooled) they are per 1% of the cut.
    """
    length = duration_s or float(retention.POINTS - 1)
    moments = retention.grid(length)[:-1]

    def rate(points: list[float]) -> np.ndarray:
        if duration_s:
            return retention.drop_per_second(points, duration_s)
        return retention.hazard(points)

    usual = rate(typical) if typical else None
    series = []
    for curve in curves:
        lost = rate(curve["points"])
        excess = np.clip(lost - usual, 0.0, None) if usual is not None else np.zeros_like(lost)
        drops = (
            retention.drop_offs(
                curve["points"], typical, views=int(curve["views"] or 0), duration_s=length
            )
            if typical
            else []
        )
        series.append(
            {
                **curve,
                "x": [round(float(m), 3) for m in moments],
                "lost": [round(float(v), 6) for v in lost],
                "typical_lost": [round(float(v), 6) for v in usual] if usual is not None else None,
                "excess": [round(float(v), 6) for v in excess],
                "drops": [(d.second, d.until, d.excess) for d in drops],
            }
        )
    return series


SIMILAR_LENGTH = 0.25  # cuts within 25% of each other's length are "of similar length"
PEERS = 10  # relative retention ranks a cut among this many earlier similar cuts


def relative_retention(session: Session, filters: Filters) -> list[dict[str, Any]]:
    """Each filtered publication's average percentage viewed, ranked among its peers.

    The peers are the last ``PEERS`` earlier publications of other episodes on the same
    platform and market whose cuts are of similar length (YouTube Studio's "typical
    retention"). The percentile is the share of peers it beats; 50 is typical.
    """
    chosen = queries.latest_curves(session, filters)
    if not chosen:
        return []
    pool: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    if filters.series_id or filters.episode_id:
        everyone = queries.latest_curves(
            session, Filters(platform=filters.platform, market=filters.market)
        )
    else:
        everyone = chosen
    for curve in everyone:
        if curve["published_at"] is not None:
            pool[(curve["platform"], curve["market"])].append(curve)
    for group in pool.values():
        group.sort(key=lambda c: c["published_at"], reverse=True)
    rows = [rank_among_peers(curve, pool[(curve["platform"], curve["market"])]) for curve in chosen]
    rows.sort(key=lambda r: (r["episode"], r["platform"], r["market"], r["publication_id"]))
    return rows


def _average_viewed(curve: dict[str, Any]) -> float:
    """The curve's average percentage viewed, kept on it: a curve is a peer of many."""
    if "average_viewed" not in curve:
        curve["average_viewed"] = retention.average_viewed(curve["points"])
    return curve["average_viewed"]


def rank_among_peers(curve: dict[str, Any], newest_first: list[dict[str, Any]]) -> dict[str, Any]:
    """Rank one curve among its peers, picked from its market's curves, newest first."""
    length = curve["duration_s"] or 0.0
    peers = []
    for other in newest_first:
        if len(peers) == PEERS:
            break
        if (
            curve["published_at"] is not None
            and other["published_at"] < curve["published_at"]
            and other["episode_id"] != curve["episode_id"]
            and abs((other["duration_s"] or 0.0) - length) <= SIMILAR_LENGTH * length
        ):
            peers.append(_average_viewed(other))
    score = _average_viewed(curve)
    rank = retention.percentile(score, peers)
    where = f"{curve['platform']} {curve['market']}"
    if rank is None:
        summary = f"no earlier episode of similar length on {where} to compare with yet"
    else:
        summary = (
            f"holds viewers better than {rank:.0f}% of the last {len(peers)} "
            f"similar-length episodes on {where}"
        )
    return {
        "publication_id": curve["publication_id"],
        "title": curve["title"],
        "episode": curve["episode"],
        "language": curve["language"],
        "platform": curve["platform"],
        "market": curve["market"],
        "average_viewed": score,
        "typical": float(np.median(peers)) if peers else None,
        "percentile": rank,
        "peers": len(peers),
        "summary": summary,
    }


def funnel(session: Session, filters: Filters, *, end: date) -> list[dict[str, Any]]:
    """Views of each episode of a series and the share of episode 1's viewers that reach it."""
    rows = queries.kpis(session, filters, group="episode", end=end)
    rows.sort(key=lambda r: r["episode"])
    first = next((r["views"] for r in rows if r["episode"] == 1 and r["views"]), None)
    return [
        {
            "episode": r["episode"],
            "episode_id": r["episode_id"],
            "views": r["views"],
            "reach_from_first": (r["views"] / first) if first and r["views"] is not None else None,
        }
        for r in rows
    ]


def _interval(values: list[float]) -> tuple[float, float, float]:
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = Z90 * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def hooks_and_tropes(
    session: Session, filters: Filters, *, end: date, metric: str = "completion_rate"
) -> list[dict[str, Any]]:
    """Mean ``metric`` per hook type and per trope, per platform, with 90% intervals.

    Rates are compared within a platform only: platforms define them differently.
    """
    rows = queries.publications(session, filters, end=end)
    groups: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for row in rows:
        value = row.get(metric)
        if value is None:
            continue
        groups[("hook", row["hook_type"] or "(none)", row["platform"])].append(value)
        for trope in row.get("tropes") or []:
            groups[("trope", trope, row["platform"])].append(value)
    out = []
    for (kind, name, platform), values in sorted(groups.items()):
        mean, low, high = _interval(values)
        out.append(
            {
                "kind": kind,
                "name": name,
                "platform": platform,
                "metric": metric,
                "mean": mean,
                "low": None if math.isnan(low) else low,
                "high": None if math.isnan(high) else high,
                "publications": len(values),
            }
        )
    return out


def timing(session: Session, filters: Filters, *, end: date) -> dict[str, Any]:
    """Mean views by local weekday × hour of posting, and the best hours per market."""
    rows = queries.publications(session, filters, end=end)
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    by_market: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["published_at"] is None or row["views"] is None:
            continue
        local = row["published_at"].replace(tzinfo=row["published_at"].tzinfo or UTC)
        local = local.astimezone(_zone(row["timezone"]))
        cells[(local.weekday(), local.hour)].append(row["views"])
        by_market[row["market"]][local.hour].append(row["views"])
    grid = [
        [float(np.mean(cells[(d, h)])) if cells.get((d, h)) else None for h in range(24)]
        for d in range(7)
    ]
    best = {
        market: [
            {"hour": hour, "mean_views": float(np.mean(v)), "publications": len(v)}
            for hour, v in sorted(hours.items(), key=lambda kv: -float(np.mean(kv[1])))[:3]
        ]
        for market, hours in by_market.items()
    }
    return {"grid": grid, "best_hours": best}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # a channel's zone is checked when saved; be safe anyway
        return ZoneInfo("UTC")
