"""The dashboards' numbers, aggregated in SQL (SQLite and PostgreSQL alike).

Everything reads ``metric_days`` (the latest snapshot per publication and day) and the
latest retention curve of each publication, joined to what the publication is: platform
and market (its channel), language and episode (its cut's localization), series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, true
from sqlmodel import Session, col, select

from hookline.models import (
    Channel,
    Episode,
    Localization,
    LocalizedCut,
    MetricCollection,
    MetricDay,
    Publication,
    RetentionCurve,
    Series,
)

GROUPS = ("publication", "episode", "series", "market", "platform", "language")
SUMS = ("views", "reach", "watch_time_s", "likes", "comments", "shares", "saves", "follows")
RATES = ("avg_percent_viewed", "completion_rate", "hook_rate")


@dataclass(frozen=True)
class Filters:
    """What a dashboard shows: a series, a period (UTC days, inclusive), a market, a platform."""

    series_id: int | None = None
    start: date | None = None
    end: date | None = None
    market: str | None = None
    platform: str | None = None
    episode_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def period(self, today: date) -> tuple[date, date]:
        end = self.end or today
        return (self.start or end - timedelta(days=27)), end

    def previous(self, today: date) -> tuple[date, date]:
        start, end = self.period(today)
        length = end - start + timedelta(days=1)
        return start - length, start - timedelta(days=1)


def channel_dims(filters: Filters) -> Any:
    """One row per publication with its platform and market, the filters applied.

    Lighter than ``dims`` (two tables, not five) where no filter needs the episode.
    """
    if filters.series_id or filters.episode_id:
        return dims(filters)
    query = select(
        col(Publication.id).label("publication_id"),
        col(Channel.platform).label("platform"),
        col(Channel.language).label("market"),
    ).join(Channel, col(Channel.id) == Publication.channel_id)
    if filters.market:
        query = query.where(Channel.language == filters.market)
    if filters.platform:
        query = query.where(Channel.platform == filters.platform)
    return query.subquery("dims")


def dims(filters: Filters) -> Any:
    """One row per publication with what it is; the filters applied."""
    query = (
        select(
            col(Publication.id).label("publication_id"),
            col(Publication.title).label("title"),
            col(Publication.published_at).label("published_at"),
            col(Channel.platform).label("platform"),
            col(Channel.language).label("market"),
            col(Channel.timezone).label("timezone"),
            col(Localization.id).label("localization_id"),
            col(Localization.language).label("language"),
            col(Episode.id).label("episode_id"),
            col(Episode.number).label("episode"),
            col(Episode.hook_type).label("hook_type"),
            col(Episode.series_id).label("series_id"),
        )
        .join(Channel, col(Channel.id) == Publication.channel_id)
        .join(LocalizedCut, col(LocalizedCut.id) == Publication.cut_id)
        .join(Localization, col(Localization.id) == LocalizedCut.localization_id)
        .join(Episode, col(Episode.id) == Localization.episode_id)
    )
    if filters.series_id:
        query = query.where(Episode.series_id == filters.series_id)
    if filters.episode_id:
        query = query.where(Episode.id == filters.episode_id)
    if filters.market:
        query = query.where(Channel.language == filters.market)
    if filters.platform:
        query = query.where(Channel.platform == filters.platform)
    return query.subquery("dims")


def _latest_days(end: date) -> Any:
    """Each publication's latest day row on or before ``end``."""
    last = (
        select(MetricDay.publication_id, func.max(MetricDay.day).label("day"))
        .where(MetricDay.day <= end)
        .group_by(col(MetricDay.publication_id))
        .subquery("last")
    )
    return (
        select(MetricDay)
        .join(
            last,
            and_(
                col(MetricDay.publication_id) == last.c.publication_id,
                col(MetricDay.day) == last.c.day,
            ),
        )
        .subquery("latest")
    )


def _weighted(column: Any, views: Any) -> Any:
    known = func.sum(case((column.is_not(None), views)))
    return func.sum(column * views) / func.nullif(known, 0)


def kpis(session: Session, filters: Filters, *, group: str | None, end: date) -> list[dict]:
    """Totals and views-weighted rates as of ``end``, per ``group`` (or overall)."""
    d = dims(filters)
    latest = _latest_days(end)
    views = latest.c.views
    columns = [
        func.count().label("publications"),
        *[func.sum(latest.c[name]).label(name) for name in SUMS],
        (
            func.sum(latest.c.watch_time_s)
            / func.nullif(func.sum(case((latest.c.watch_time_s.is_not(None), views))), 0)
        ).label("avg_view_duration_s"),
        *[_weighted(latest.c[name], views).label(name) for name in RATES],
    ]
    keys = _group_columns(d, group)
    query = (
        select(*keys, *columns)
        .select_from(latest)
        .join(d, d.c.publication_id == latest.c.publication_id)
    )
    if group == "series":
        query = query.join(Series, col(Series.id) == d.c.series_id)
    if keys:
        query = query.group_by(*keys).order_by(func.sum(views).desc().nulls_last())
    return [dict(row._mapping) for row in session.exec(query)]  # type: ignore[call-overload]


def _group_columns(d: Any, group: str | None) -> list[Any]:
    if group is None:
        return []
    if group == "publication":
        return [d.c.publication_id, d.c.title, d.c.platform, d.c.market, d.c.episode, d.c.hook_type]
    if group == "episode":
        return [d.c.episode_id, d.c.episode, d.c.series_id]
    if group == "series":
        return [d.c.series_id, col(Series.title).label("series")]
    if group in ("market", "platform", "language"):
        return [d.c[group]]
    raise ValueError(f"cannot group by {group!r}; use one of {', '.join(GROUPS)}")


def daily_cube(session: Session, filters: Filters, *, start: date, end: date) -> list[dict]:
    """Views and watch time gained per day, market and platform over [start, end].

    Each day row carries what it gained since the publication's previous day row (kept by
    ``analytics.store``), so this sums the period's rows only, in one pass.
    """
    d = channel_dims(filters)
    query = (
        select(
            col(MetricDay.day).label("day"),
            d.c.market,
            d.c.platform,
            func.sum(MetricDay.views_gained).label("views"),
            func.sum(MetricDay.watch_time_gained_s).label("watch_time_s"),
        )
        .join(d, d.c.publication_id == MetricDay.publication_id)
        .where(MetricDay.day >= start, MetricDay.day <= end)
        .group_by(col(MetricDay.day), d.c.market, d.c.platform)
    )
    return [dict(row._mapping) for row in session.exec(query)]  # type: ignore[call-overload]


def _fold(cube: list[dict], *, start: date, end: date, by: str | None) -> list[dict]:
    """The cube's days in [start, end] summed per day and ``by`` (or overall)."""
    folded: dict[tuple, dict[str, Any]] = {}
    for row in cube:
        if not start <= row["day"] <= end:
            continue
        key = (row["day"], row[by]) if by else ()
        entry = folded.setdefault(
            key,
            {"day": row["day"], "key": row[by], "views": None, "watch_time_s": None}
            if by
            else {"views": None, "watch_time_s": None},
        )
        for name in ("views", "watch_time_s"):
            if row[name] is not None:
                entry[name] = (entry[name] or 0) + row[name]
    return [folded[k] for k in sorted(folded, key=lambda k: (k[0], str(k[1])) if k else ())]


def daily(session: Session, filters: Filters, *, start: date, end: date, by: str) -> list[dict]:
    """Views and watch time gained per day, per ``by`` (market or platform)."""
    if by not in ("market", "platform"):
        raise ValueError(f"cannot show days by {by!r}; use market or platform")
    cube = daily_cube(session, filters, start=start, end=end)
    return _fold(cube, start=start, end=end, by=by)


def period_totals(session: Session, filters: Filters, *, start: date, end: date) -> dict:
    """Views and watch time gained over [start, end]."""
    cube = daily_cube(session, filters, start=start, end=end)
    return _totals(cube, start=start, end=end)


def _totals(cube: list[dict], *, start: date, end: date) -> dict:
    rows = _fold(cube, start=start, end=end, by=None)
    return rows[0] if rows else {"views": None, "watch_time_s": None}


def overview(session: Session, filters: Filters, *, today: date) -> dict[str, Any]:
    """KPI cards with the change against the previous period, views over time, top episodes."""
    start, end = filters.period(today)
    before_start, before_end = filters.previous(today)
    cube = daily_cube(session, filters, start=before_start, end=end)
    now = _totals(cube, start=start, end=end)
    before = _totals(cube, start=before_start, end=before_end)
    rates_now = (kpis(session, filters, group=None, end=end) or [{}])[0]
    rates_before = (kpis(session, filters, group=None, end=before_end) or [{}])[0]
    cards = []
    for name, label, current, previous in (
        ("views", "Views", now["views"], before["views"]),
        (
            "watch_time_h",
            "Watch time (h)",
            _hours(now["watch_time_s"]),
            _hours(before["watch_time_s"]),
        ),
        (
            "avg_percent_viewed",
            "Avg. % viewed",
            rates_now.get("avg_percent_viewed"),
            rates_before.get("avg_percent_viewed"),
        ),
        (
            "completion_rate",
            "Completion",
            rates_now.get("completion_rate"),
            rates_before.get("completion_rate"),
        ),
        ("follows", "Follows", rates_now.get("follows"), rates_before.get("follows")),
    ):
        change = (current - previous) / previous if current is not None and previous else None
        cards.append(
            {"name": name, "label": label, "value": current, "previous": previous, "change": change}
        )
    return {
        "period": {"start": start, "end": end},
        "previous": {"start": before_start, "end": before_end},
        "cards": cards,
        "by_market": _fold(cube, start=start, end=end, by="market"),
        "by_platform": _fold(cube, start=start, end=end, by="platform"),
        "top_episodes": kpis(session, filters, group="episode", end=end)[:10],
    }


def _hours(seconds: float | None) -> float | None:
    return seconds / 3600 if seconds is not None else None


# -- retention ---------------------------------------------------------------------------------


def _points(session: Session) -> Any:
    """(curve id, index 0-100, value) of every stored curve's points, as a table."""
    if session.get_bind().dialect.name == "postgresql":
        each = (
            func.json_array_elements_text(RetentionCurve.points)
            .table_valued("value", with_ordinality="idx")
            .render_derived(name="pt")
        )
        return each, (each.c.idx - 1), cast(each.c.value, Float)
    # SQLite names json_each's columns itself (key, value) and takes no column list.
    each = func.json_each(RetentionCurve.points).table_valued("key", "value").alias("pt")
    return each, each.c.key, cast(each.c.value, Float)


def retention_curves(
    session: Session, filters: Filters, *, by: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Views-weighted mean of the latest curves, per ``by`` (e.g. language, platform)."""
    curves = _retention(session, filters, by=by)
    for curve in curves:
        del curve["weights"]
    return curves


def retention_with_typical(
    session: Session, filters: Filters, *, by: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[float] | None]:
    """The curves per ``by``, and the typical curve of the platform filtered on (or all).

    Where the filters are only a platform, the typical curve is the groups' curves
    combined by their weights (one query); otherwise it is asked for on its own.
    """
    curves = _retention(session, filters, by=by)
    if filters.series_id or filters.episode_id or filters.market:
        typical = _retention(session, Filters(platform=filters.platform), by=())
        points = typical[0]["points"] if typical else None
    else:
        points = _combined(curves)
    for curve in curves:
        del curve["weights"]
    return curves, points


def _combined(curves: list[dict[str, Any]]) -> list[float] | None:
    if not curves:
        return None
    points = []
    for i in range(101):
        weight = sum(c["weights"][i] for c in curves)
        total = sum(c["points"][i] * c["weights"][i] for c in curves)
        points.append(total / weight if weight else 0.0)
    return points


def _retention(session: Session, filters: Filters, *, by: tuple[str, ...]) -> list[dict[str, Any]]:
    d = dims(filters)
    each, index, value = _points(session)
    weight = func.coalesce(RetentionCurve.views_basis, 0)
    keys = [d.c[name] for name in by]
    query = (
        select(
            *keys,
            index.label("idx"),
            (func.sum(value * weight) / func.nullif(func.sum(weight), 0)).label("value"),
            func.sum(weight).label("views"),
            func.count().label("curves"),
        )
        .select_from(MetricCollection)
        .join(RetentionCurve, col(RetentionCurve.id) == MetricCollection.latest_curve_id)
        .join(d, d.c.publication_id == MetricCollection.publication_id)
        .join(each, true())
        .group_by(*keys, index)
        .order_by(*keys, index)
    )
    grouped: dict[tuple, dict[str, Any]] = {}
    for row in session.exec(query):  # type: ignore[call-overload]
        m = row._mapping
        key = tuple(m[name] for name in by)
        entry = grouped.setdefault(
            key,
            {
                **dict(zip(by, key, strict=True)),
                "points": [0.0] * 101,
                "weights": [0.0] * 101,
                "views": m["views"],
                "curves": m["curves"],
            },
        )
        if 0 <= int(m["idx"]) < 101 and m["value"] is not None:
            entry["points"][int(m["idx"])] = float(m["value"])
            entry["weights"][int(m["idx"])] = float(m["views"] or 0)
    return list(grouped.values())


def latest_curves(session: Session, filters: Filters) -> list[dict[str, Any]]:
    """Each publication's latest curve with what it is (for drop-offs)."""
    d = dims(filters)
    query = (
        select(
            d,
            RetentionCurve.points,
            RetentionCurve.duration_s,
            RetentionCurve.views_basis,
        )
        .select_from(MetricCollection)
        .join(RetentionCurve, col(RetentionCurve.id) == MetricCollection.latest_curve_id)
        .join(d, d.c.publication_id == MetricCollection.publication_id)
    )
    return [dict(row._mapping) for row in session.exec(query)]  # type: ignore[call-overload]


def publications(session: Session, filters: Filters, *, end: date) -> list[dict[str, Any]]:
    """Every publication's latest numbers with its traits (hook, tropes, time, zone)."""
    d = dims(filters)
    latest = _latest_days(end)
    query = (
        select(d, Episode.tropes, *[latest.c[n] for n in (*SUMS, *RATES)])
        .select_from(d)
        .join(latest, latest.c.publication_id == d.c.publication_id)
        .join(Episode, col(Episode.id) == d.c.episode_id)
    )
    return [dict(row._mapping) for row in session.exec(query)]  # type: ignore[call-overload]


def options(session: Session) -> dict[str, list]:
    """What the filters can choose from."""
    return {
        "series": [(s.id, s.title) for s in session.exec(select(Series).order_by(Series.title))],
        "markets": sorted(set(session.exec(select(Channel.language)).all())),
        "platforms": sorted(set(session.exec(select(Channel.platform)).all())),
    }
