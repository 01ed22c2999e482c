"""API: the feedback model's estimates per market, the production brief, vocabularies, tagging."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from analytics.feedback import store, vocabulary
from analytics.feedback.slate import Rules
from hookline.api import api
from hookline.clock import utcnow
from hookline.models import TermKind
from hookline.web.context import db_session

TAGS = ("feedback",)


class BriefIn(BaseModel):
    kpi: str = Field(
        default="hook_rate", description="hook_rate (3-second hold) or completion_rate."
    )
    size: int = Field(default=10, description="Episodes per market in the slate.")
    exploration: float = Field(default=10, description="Share of the slate that explores, in %.")
    limit: float = Field(default=50, description="Most any one hook may take of a slate, in %.")
    must: str = Field(default="", description="Hooks every slate must include, comma-separated.")
    seed: int = Field(default=0, description="The random draw; the same seed gives the same brief.")


class TermOut(BaseModel):
    id: int
    kind: str
    name: str
    label: str
    keywords: list[str]
    retired: bool


class TagIn(BaseModel):
    hook: str | None = Field(description="A hook of the vocabulary, or null for untagged.")
    tropes: list[str] = Field(default_factory=list, description="Tropes of the vocabulary.")


class EpisodeTagsOut(BaseModel):
    id: int
    hook_type: str | None
    tropes: list[str]


def _brief(query: BriefIn) -> Any:
    rules = Rules(
        size=query.size,
        exploration=query.exploration / 100,
        max_share=query.limit / 100,
        must_include=tuple(m.strip() for m in query.must.split(",") if m.strip()),
    )
    return store.compose(db_session(), rules, kpi=query.kpi, seed=query.seed, now=utcnow())


@api.operation(
    "GET",
    "/feedback/estimates",
    summary="Each hook's and trope's estimated effect per market, with intervals and chance best",
    permission="feedback.view",
    query=BriefIn,
    response=dict[str, Any],
    tags=TAGS,
)
def estimates(query: BriefIn) -> dict[str, Any]:
    brief = _brief(query)
    return {
        "kpi": brief.kpi,
        "untagged": brief.untagged,
        "note": brief.note,
        "markets": [
            {
                "market": m.market,
                "posts": m.posts,
                "note": m.note,
                "hooks": m.hooks,
                "tropes": m.tropes,
            }
            for m in brief.markets
        ],
    }


@api.operation(
    "GET",
    "/feedback/brief",
    summary="The production brief: per market the next slate, each pick with why",
    permission="feedback.view",
    query=BriefIn,
    response=dict[str, Any],
    tags=TAGS,
)
def brief(query: BriefIn) -> dict[str, Any]:
    result = _brief(query)
    return {
        "kpi": result.kpi,
        "created_at": result.created_at.isoformat(),
        "untagged": result.untagged,
        "note": result.note,
        "markets": [
            {
                "market": m.market,
                "posts": m.posts,
                "note": m.note,
                "best_hours": m.best_hours,
                "picks": [
                    {
                        "hook": p.hook,
                        "episodes": p.count,
                        "role": p.role,
                        "posts": p.posts,
                        "rate": p.rate,
                        "rate_low": p.rate_low,
                        "rate_high": p.rate_high,
                        "chance_best": p.chance_best,
                        "why": p.reason,
                    }
                    for p in m.slate.picks
                ],
            }
            for m in result.markets
        ],
    }


@api.operation(
    "GET",
    "/feedback/vocabularies",
    summary="The hook and trope vocabularies, retired terms included",
    permission="feedback.view",
    response=dict[str, list[TermOut]],
    tags=TAGS,
)
def vocabularies() -> dict[str, list[TermOut]]:
    session = db_session()
    return {
        kind: [
            TermOut.model_validate(t, from_attributes=True)
            for t in vocabulary.terms(session, kind, retired=True)
        ]
        for kind in TermKind.ALL
    }


@api.operation(
    "PUT",
    "/episodes/<int:episode_id>/tags",
    summary="Tag an episode with a hook and tropes from the vocabularies",
    permission="feedback.edit",
    body=TagIn,
    response=EpisodeTagsOut,
    tags=TAGS,
)
def tag_episode(episode_id: int, body: TagIn) -> EpisodeTagsOut:
    session = db_session()
    episode = vocabulary.tag_episode(session, episode_id, hook=body.hook, tropes=body.tropes)
    session.commit()
    return EpisodeTagsOut(id=episode_id, hook_type=episode.hook_type, tropes=list(episode.tropes))
