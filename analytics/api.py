"""API: the dashboards' data as JSON: overview, KPIs, retention, drop-offs, funnel, hooks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import col, select

from analytics import analysis, queries
from analytics.queries import GROUPS, Filters
from hookline.api import api
from hookline.api.schemas import Out
from hookline.clock import utcnow
from hookline.errors import InvalidInput
from hookline.models import MetricCollection, MetricSnapshot
from hookline.web.context import db_session

TAGS = ("analytics",)


class FiltersIn(BaseModel):
    series: int | None = Field(default=None, description="Series id.")
    start: date | None = Field(default=None, description="First UTC day of the period.")
    end: date | None = Field(default=None, description="Last UTC day of the period (today).")
    market: str | None = Field(default=None, description="Market: the channel's language.")
    platform: str | None = None
    episode: int | None = Field(default=None, description="Episode id.")
    group: str | None = Field(default=None, description="KPIs: " + ", ".join(GROUPS) + ".")
    by: str = Field(default="language", description="Retention: language or platform.")

    def filters(self) -> Filters:
        if self.start and self.end and self.start > self.end:
            raise InvalidInput("The period starts after it ends: swap start and end.")
        return Filters(self.series, self.start, self.end, self.market, self.platform, self.episode)


class SnapshotOut(Out):
    as_of: datetime
    views: int | None
    reach: int | None
    watch_time_s: float | None
    avg_view_duration_s: float | None
    avg_percent_viewed: float | None
    completion_rate: float | None
    hook_rate: float | None
    hook_rate_definition: str | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    follows: int | None


class CollectionOut(Out):
    publication_id: int
    status: str
    next_at: datetime
    last_at: datetime | None
    last_outcome: str
    message: str
    collections: int


class PublicationMetricsOut(BaseModel):
    collection: CollectionOut | None
    snapshots: list[SnapshotOut]


Rows = list[dict[str, Any]]


def _end(query: FiltersIn) -> date:
    return query.filters().period(utcnow().date())[1]


@api.operation(
    "GET",
    "/analytics/overview",
    summary="KPI cards against the previous period, views over time, top episodes",
    permission="analytics.view",
    query=FiltersIn,
    response=dict[str, Any],
    tags=TAGS,
)
def overview(query: FiltersIn) -> dict[str, Any]:
    return queries.overview(db_session(), query.filters(), today=utcnow().date())


@api.operation(
    "GET",
    "/analytics/kpis",
    summary="KPIs per publication, episode, series, market, platform or language",
    permission="analytics.view",
    query=FiltersIn,
    response=Rows,
    tags=TAGS,
)
def kpis(query: FiltersIn) -> Rows:
    if query.group is not None and query.group not in GROUPS:
        raise InvalidInput(f"group={query.group!r}: use one of {', '.join(GROUPS)}.")
    return queries.kpis(db_session(), query.filters(), group=query.group, end=_end(query))


@api.operation(
    "GET",
    "/analytics/retention",
    summary="Retention curves (101 points), views-weighted, by language or platform",
    permission="analytics.view",
    query=FiltersIn,
    response=Rows,
    tags=TAGS,
)
def retention(query: FiltersIn) -> Rows:
    if query.by not in ("language", "platform"):
        raise InvalidInput("by= is language or platform.")
    return queries.retention_curves(db_session(), query.filters(), by=(query.by,))


@api.operation(
    "GET",
    "/analytics/relative-retention",
    summary=(
        "Each publication's average percentage viewed, ranked among the last 10 similar-length "
        "episodes on its platform and market"
    ),
    permission="analytics.view",
    query=FiltersIn,
    response=Rows,
    tags=TAGS,
)
def relative_retention(query: FiltersIn) -> Rows:
    return analysis.relative_retention(db_session(), query.filters())


@api.operation(
    "GET",
    "/analytics/drop-offs",
    summary="Drop-off moments tied to the line on screen, and language gaps",
    permission="analytics.view",
    query=FiltersIn,
    response=dict[str, Rows],
    tags=TAGS,
)
def drop_offs(query: FiltersIn) -> dict[str, Rows]:
    session = db_session()
    return {
        "drop_offs": analysis.drop_off_list(session, query.filters()),
        "language_gaps": analysis.language_gaps(session, query.filters()),
    }


@api.operation(
    "GET",
    "/analytics/funnel",
    summary="How many viewers of episode 1 reach each episode",
    permission="analytics.view",
    query=FiltersIn,
    response=Rows,
    tags=TAGS,
)
def funnel(query: FiltersIn) -> Rows:
    return analysis.funnel(db_session(), query.filters(), end=_end(query))


@api.operation(
    "GET",
    "/analytics/hooks",
    summary="Mean completion per hook type and trope, per platform, with 90% intervals",
    permission="analytics.view",
    query=FiltersIn,
    response=Rows,
    tags=TAGS,
)
def hooks(query: FiltersIn) -> Rows:
    return analysis.hooks_and_tropes(db_session(), query.filters(), end=_end(query))


@api.operation(
    "GET",
    "/analytics/timing",
    summary="Mean views by local weekday and hour of posting; best hours per market",
    permission="analytics.view",
    query=FiltersIn,
    response=dict[str, Any],
    tags=TAGS,
)
def timing(query: FiltersIn) -> dict[str, Any]:
    return analysis.timing(db_session(), query.filters(), end=_end(query))


@api.operation(
    "GET",
    "/analytics/publications/<int:publication_id>",
    summary="A publication's metric history and where its collection stands",
    permission="analytics.view",
    response=PublicationMetricsOut,
    tags=TAGS,
)
def publication_metrics(publication_id: int) -> PublicationMetricsOut:
    session = db_session()
    state = session.get(MetricCollection, publication_id)
    snapshots = session.exec(
        select(MetricSnapshot)
        .where(MetricSnapshot.publication_id == publication_id)
        .order_by(col(MetricSnapshot.as_of))
    ).all()
    return PublicationMetricsOut(
        collection=CollectionOut.model_validate(state) if state else None,
        snapshots=[SnapshotOut.model_validate(s) for s in snapshots],
    )
