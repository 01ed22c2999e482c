"""The next production slate of a market: Thompson sampling with exploration and limits.

Each exploiting slot takes the hook with the best effect in a fresh posterior draw, so a
hook gets slots in proportion to its chance of being best. An explicit share of the slate
explores: those slots go to the hooks with the highest plausible effect (upper end of the
90% interval) among those the exploiting slots left out. No hook takes more than
``max_share`` of the slate, and every ``must_include`` hook gets at least one episode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analytics.feedback.model import Z90, FeedbackInputError, Posterior

ROLES = ("best", "exploit", "must include", "exploration")


@dataclass(frozen=True)
class Rules:
    """How a slate is drawn: its size, the exploring share, the cap per hook, the musts."""

    size: int = 10
    exploration: float = 0.1  # share of the slate, 0-1
    max_share: float = 0.5  # no hook takes more than this share of the slate, 0-1
    must_include: tuple[str, ...] = ()

    def check(self, hooks: Sequence[str]) -> None:
        """Raise FeedbackInputError saying what is wrong with these rules, if anything."""
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size <= 0:
            raise FeedbackInputError(
                f"the slate size must be a whole number of episodes above 0, not {self.size!r}"
            )
        for name, value in (("exploration share", self.exploration), ("limit", self.max_share)):
            if not 0 <= value <= 1:
                raise FeedbackInputError(
                    f"the {name} must be between 0% and 100%, not {value * 100:g}%"
                )
        if self.max_share <= 0:
            raise FeedbackInputError("the limit per hook must be above 0%: no hook could be used")
        unknown = [h for h in self.must_include if h not in hooks]
        if unknown:
            raise FeedbackInputError(
                f"must-include hook {', '.join(map(repr, unknown))} is not in the vocabulary "
                f"({', '.join(hooks)}); add it to the vocabulary or pick one of these"
            )
        if len(set(self.must_include)) > self.size:
            raise FeedbackInputError(
                f"{len(set(self.must_include))} must-include hooks do not fit in a slate of "
                f"{self.size}; raise the size or drop some"
            )
        if self.cap * len(hooks) < self.size:
            raise FeedbackInputError(
                f"a limit of {self.max_share:.0%} per hook ({self.cap} episodes) over "
                f"{len(hooks)} hooks cannot fill {self.size} episodes; raise the limit"
            )

    @property
    def cap(self) -> int:
        return max(1, math.floor(self.max_share * self.size + 1e-9))


@dataclass
class Pick:
    """Episodes of one hook in the slate, with why."""

    hook: str
    count: int
    role: str
    posts: int
    rate: float
    rate_low: float
    rate_high: float
    lift: float
    chance_best: float

    @property
    def reason(self) -> str:
        evidence = f"{self.posts} posts" if self.posts else "no posts yet"
        interval = f"{self.rate:.1%} (90%: {self.rate_low:.1%}–{self.rate_high:.1%})"
        if self.role == "exploration":
            return f"exploration: {evidence}, estimated {interval}, could still be best"
        if self.role == "must include":
            return f"must include: {evidence}, estimated {interval}"
        return f"{self.chance_best:.0%} chance best; {evidence}, estimated {interval}"


@dataclass
class Slate:
    market: str
    rules: Rules
    picks: list[Pick] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for pick in self.picks:
            totals[pick.hook] = totals.get(pick.hook, 0) + pick.count
        return totals

    def hooks(self) -> list[str]:
        """One hook per episode, in slate order."""
        return [p.hook for p in self.picks for _ in range(p.count)]


def allocate(
    posterior: Posterior, market: str, rules: Rules, rng: np.random.Generator
) -> np.ndarray:
    """Episodes per hook (as an array over ``posterior.hooks``) and the exploring ones."""
    counts, _ = _allocate(posterior, market, rules, rng)
    return counts


def _allocate(
    posterior: Posterior, market: str, rules: Rules, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    hooks = posterior.hooks
    rules.check(hooks)
    H, cap = len(hooks), rules.cap
    counts = np.zeros(H, dtype=np.int64)
    explored = np.zeros(H, dtype=np.int64)
    for name in dict.fromkeys(rules.must_include):
        counts[hooks.index(name)] += 1
    free = rules.size - int(counts.sum())
    n_explore = min(free, round(rules.exploration * rules.size))
    mean, cov = posterior.hook_effects(market)
    upper = mean + Z90 * np.sqrt(np.clip(np.diag(cov), 0, None))
    # Only a hook that could still be best is worth exploring; once none is left, the
    # exploring slots go back to Thompson sampling.
    plausible = upper > mean.max()
    plausible[int(np.argmax(mean))] = False
    n_explore = min(n_explore, int(plausible.sum()) * cap)
    draws = posterior.draws(market, free - n_explore, rng)
    for draw in draws:
        counts[_best_open(draw, counts, cap)] += 1
    for _ in range(n_explore):
        # Plausible hooks the exploiting slots left out first, then plausible ones under the cap.
        score = np.where(plausible, upper, -np.inf) + np.where(counts == 0, 100.0, 0.0)
        hook = _best_open(score, counts, cap)
        if hook < 0:
            hook = _best_open(mean, counts, cap)
        counts[hook] += 1
        explored[hook] += 1
    return counts, explored


def _best_open(score: np.ndarray, counts: np.ndarray, cap: int) -> int:
    """The best-scoring hook still under the cap, or -1 when none has a finite score."""
    open_score = np.where(counts < cap, score, -np.inf)
    best = int(np.argmax(open_score))
    return best if np.isfinite(open_score[best]) else -1


def plan(posterior: Posterior, market: str, rules: Rules, rng: np.random.Generator) -> Slate:
    """The slate for ``market`` with each hook's reason: posts, estimate, interval, chance."""
    counts, explored = _allocate(posterior, market, rules, rng)
    summary = {row["hook"]: row for row in posterior.summary(market, rng)}
    best = max(summary.values(), key=lambda r: r["chance_best"])["hook"]
    musts = set(rules.must_include)
    slate = Slate(market, rules)
    for h, hook in enumerate(posterior.hooks):
        exploit = int(counts[h] - explored[h])
        row = summary[hook]
        parts = []
        if hook in musts and exploit:
            parts.append(("must include", 1))
            exploit -= 1
        if exploit:
            parts.append(("best" if hook == best else "exploit", exploit))
        if explored[h]:
            parts.append(("exploration", int(explored[h])))
        for role, count in parts:
            slate.picks.append(
                Pick(
                    hook=hook,
                    count=count,
                    role=role,
                    posts=row["posts"],
                    rate=row["rate"],
                    rate_low=row["rate_low"],
                    rate_high=row["rate_high"],
                    lift=row["lift"],
                    chance_best=row["chance_best"],
                )
            )
    slate.picks.sort(key=lambda p: (ROLES.index(p.role), -p.count, -p.chance_best))
    return slate
