"""The production brief: per market, the next slate with why, and when to post; Markdown and CSV.

Pure computation on :class:`~analytics.feedback.model.Post` values: the caller reads the
posts (from the database or a simulation), this fits the model and draws the slates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from analytics.feedback.model import Data, FeedbackInputError, Post, Posterior, covariates, fit
from analytics.feedback.slate import Rules, Slate, plan

MIN_POSTS = 10  # below this many tagged posts a market's slate is mostly a guess


@dataclass
class MarketBrief:
    market: str
    posts: int
    slate: Slate
    hooks: list[dict]
    tropes: list[dict]
    best_hours: list[int]
    note: str = ""


@dataclass
class Brief:
    kpi: str
    created_at: datetime
    markets: list[MarketBrief] = field(default_factory=list)
    untagged: int = 0
    note: str = ""

    @property
    def empty(self) -> bool:
        return not self.markets


def compose(
    posts: Iterable[Post],
    *,
    hooks: Sequence[str],
    tropes: Sequence[str] = (),
    rules: Rules | Mapping[str, Rules] | None = None,
    markets: Sequence[str] | None = None,
    kpi: str = "3-second hold",
    seed: int = 0,
    now: datetime | None = None,
) -> Brief:
    """Fit the model to ``posts`` and draw each market's slate under ``rules``."""
    if not hooks:
        raise FeedbackInputError(
            "the hook vocabulary is empty; add hooks before asking for a brief"
        )
    rules = Rules() if rules is None else rules
    posts = list(posts)
    chosen = tuple(markets) if markets else tuple(sorted({p.market for p in posts}))
    data = Data.from_posts(posts, markets=chosen, hooks=hooks, tropes=tropes)
    brief = Brief(kpi=kpi, created_at=now or datetime.now(UTC), untagged=data.untagged)
    for market in chosen:
        _rules(rules, market).check(hooks)
    if not len(data):
        brief.note = (
            "No data yet: no tagged episode has mature results "
            f"({data.untagged} untagged or outside the vocabulary). Tag episodes with a hook "
            "and publish them; the brief fills in once their numbers come back."
        )
        return brief
    posterior = fit(data)
    rng = np.random.default_rng(seed)
    counts = np.bincount(data.market, minlength=len(chosen))
    for m, market in enumerate(chosen):
        brief.markets.append(_market(posterior, market, int(counts[m]), _rules(rules, market), rng))
    return brief


def _rules(rules: Rules | Mapping[str, Rules], market: str) -> Rules:
    return rules if isinstance(rules, Rules) else rules.get(market, Rules())


def _market(
    posterior: Posterior, market: str, posts: int, rules: Rules, rng: np.random.Generator
) -> MarketBrief:
    note = ""
    if posts < MIN_POSTS:
        note = (
            f"Too little data: {posts} tagged post{'s' if posts != 1 else ''} in {market} "
            f"(fewer than {MIN_POSTS}). Estimates lean on the other markets; treat this slate "
            "as exploration."
        )
    return MarketBrief(
        market=market,
        posts=posts,
        slate=plan(posterior, market, rules, rng),
        hooks=posterior.summary(market, rng),
        tropes=posterior.trope_summary(market),
        best_hours=best_hours(posterior),
        note=note,
    )


def best_hours(posterior: Posterior, count: int = 3) -> list[int]:
    """The posting hours with the best estimated effect (adjusted for hooks and tropes)."""
    beta = posterior.mean[posterior.layout.beta : posterior.layout.beta + 4]
    hours = np.arange(24)
    effect = covariates(hours, np.ones(24))[:, :4] @ beta
    return [int(h) for h in np.argsort(-effect, kind="stable")[:count]]


def headline(market: MarketBrief) -> str:
    """'next 10 episodes for es/tiktok: 4 × secret_reveal (best, 71% chance), …'."""
    parts = []
    for pick in market.slate.picks:
        if pick.role == "best":
            parts.append(f"{pick.count} × {pick.hook} (best, {pick.chance_best:.0%} chance)")
        elif pick.role == "exploration":
            parts.append(f"{pick.count} × exploration: {pick.hook}")
        else:
            parts.append(f"{pick.count} × {pick.hook} ({pick.role}, {pick.chance_best:.0%} chance)")
    return f"next {market.slate.rules.size} episodes for {market.market}: " + ", ".join(parts)


def to_markdown(brief: Brief) -> str:
    lines = [f"# Production brief — {brief.created_at:%Y-%m-%d}", "", f"KPI: {brief.kpi}.", ""]
    if brief.note:
        lines += [brief.note, ""]
    if brief.untagged:
        lines += [f"{brief.untagged} untagged posts were counted and left out.", ""]
    for market in brief.markets:
        lines += [f"## {market.market}", "", headline(market), ""]
        if market.note:
            lines += [f"> {market.note}", ""]
        lines += ["| Episodes | Hook | Role | Why |", "|---:|---|---|---|"]
        lines += [f"| {p.count} | {p.hook} | {p.role} | {p.reason} |" for p in market.slate.picks]
        hours = ", ".join(f"{h:02d}:00" for h in market.best_hours)
        lines += ["", f"Best posting hours (local): {hours}.", ""]
    return "\n".join(lines)


CSV_FIELDS = (
    "market", "episodes", "hook", "role", "posts", "rate", "rate_low", "rate_high",
    "chance_best", "why",
)  # fmt: skip


def to_csv(brief: Brief) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for market in brief.markets:
        for p in market.slate.picks:
            writer.writerow(
                [
                    market.market,
                    p.count,
                    p.hook,
                    p.role,
                    p.posts,
                    f"{p.rate:.4f}",
                    f"{p.rate_low:.4f}",
                    f"{p.rate_high:.4f}",
                    f"{p.chance_best:.4f}",
                    p.reason,
                ]
            )
    return out.getvalue()
