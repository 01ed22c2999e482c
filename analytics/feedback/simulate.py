"""Run the whole loop against the sandbox audience, whose true effects are known.

Each round every policy gives each market a slate; the episodes are "posted", the sandbox
audience's ground truth (:func:`analytics.audience.true_effects`) decides how many viewers
held past 3 s (with each episode's own random quality, so viewers of one episode are not
independent), and the results are read once mature, at the next round. Regret is measured
against an oracle that knows the true best hook of each market: the 3-second hold it loses
per episode, in rate points, summed over episodes.

Policies: ``hookline`` (pooled model, Thompson slate with exploration and a cap),
``unpooled`` (Thompson sampling per market, no pooling), ``greedy`` (always the current
best, after a first uniform round), ``uniform`` (rotation) — and the naive per-viewer
model's interval coverage beside Hookline's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.audience import HOOKS, PLATFORMS, TROPES, true_effects
from analytics.feedback.model import Z90, Data, FeedbackInputError, Posterior, fit
from analytics.feedback.slate import Rules, allocate
from publisher.sandbox.audience import VIEWS_SCALE

POLICIES = ("hookline", "unpooled", "greedy", "uniform")
EXTRA_HOOKS = ("hidden_identity_reveal", "rebirth_revenge", "betrayal_reveal", "slap_confrontation")
DEFAULT_MARKETS = ("es/tiktok", "en/youtube", "pt/instagram", "id/tiktok")


@dataclass(frozen=True)
class Setup:
    """One simulation: the world and the loop's settings."""

    seed: int = 0
    rounds: int = 10
    markets: tuple[str, ...] = DEFAULT_MARKETS
    hooks: int = 8
    episodes: int = 20  # per market per round
    # The loop's own rules: a small exploring share; no cap, which would cost regret here.
    exploration: float = 0.05
    max_share: float = 1.0

    def check(self) -> None:
        if self.rounds <= 0 or self.episodes <= 0:
            raise FeedbackInputError("rounds and episodes per round must be above 0")
        if not 2 <= self.hooks <= len(HOOKS) + len(EXTRA_HOOKS):
            raise FeedbackInputError(
                f"hooks must be between 2 and {len(HOOKS) + len(EXTRA_HOOKS)}, not {self.hooks}"
            )
        for market in self.markets:
            platform = market.partition("/")[2]
            if platform not in PLATFORMS:
                raise FeedbackInputError(
                    f"market {market!r} must be language/platform with a platform among "
                    f"{', '.join(PLATFORMS)}"
                )


@dataclass
class World:
    """The truth of one seed: each market × hook's logit hold, and everything around it."""

    markets: tuple[str, ...]
    hooks: tuple[str, ...]
    cell: np.ndarray  # (M, H) true logit hold at an average hour, no tropes
    hour: np.ndarray  # (24,)
    weekday: np.ndarray
    trope: np.ndarray  # (T,)
    sigma: float
    views: np.ndarray  # (M,) typical views of a post

    @property
    def rate(self) -> np.ndarray:
        return 1 / (1 + np.exp(-self.cell))

    def effects(self) -> np.ndarray:
        """Each hook's true effect in each market, against the market's average hook."""
        return self.cell - self.cell.mean(axis=1, keepdims=True)


def world(setup: Setup) -> World:
    """The sandbox's ground truth for ``setup.seed``, with extra hooks drawn the same way."""
    truth = true_effects(setup.seed)
    hooks = (*HOOKS, *EXTRA_HOOKS)[: setup.hooks]
    rng = np.random.default_rng([setup.seed, 7002])
    extra = {h: float(rng.normal(0, 0.45)) for h in EXTRA_HOOKS}
    cell = np.zeros((len(setup.markets), len(hooks)))
    views = np.zeros(len(setup.markets))
    for m, market in enumerate(setup.markets):
        language, _, platform = market.partition("/")
        pair = np.random.default_rng([setup.seed, 7003, m])
        for h, hook in enumerate(hooks):
            main = truth.hook.get(hook, extra.get(hook, 0.0))
            inter = truth.hook_market.get(f"{hook}|{language}")
            inter = float(pair.normal(0, 0.25)) if inter is None else inter
            cell[m, h] = (
                truth.base_hold
                + main
                + inter
                + truth.market.get(language, 0.0)
                + truth.platform_hold.get(platform, 0.0)
            )
        views[m] = VIEWS_SCALE[platform]
    hour = np.array(truth.hour)
    return World(
        markets=setup.markets,
        hooks=hooks,
        cell=cell + hour[8:24].mean(),
        hour=hour - hour[8:24].mean(),
        weekday=np.array(truth.weekday),
        trope=np.array([truth.trope_hold[t] for t in TROPES]),
        sigma=truth.episode_sigma,
        views=views,
    )


@dataclass
class Log:
    """Everything posted so far by one policy, as arrays the model reads."""

    market: list[np.ndarray] = field(default_factory=list)
    hook: list[np.ndarray] = field(default_factory=list)
    trope: list[np.ndarray] = field(default_factory=list)
    trials: list[np.ndarray] = field(default_factory=list)
    successes: list[np.ndarray] = field(default_factory=list)
    hour: list[np.ndarray] = field(default_factory=list)
    episode: list[np.ndarray] = field(default_factory=list)

    def data(self, w: World) -> Data:
        def stack(parts: list[np.ndarray], shape: tuple[int, ...] = ()) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros((0, *shape))

        return Data(
            markets=w.markets,
            hooks=w.hooks,
            tropes=TROPES,
            market=stack(self.market).astype(np.int64),
            hook=stack(self.hook).astype(np.int64),
            trope=stack(self.trope, (len(TROPES),)),
            trials=stack(self.trials),
            successes=stack(self.successes),
            hour=stack(self.hour),
            episode=stack(self.episode),
        )


def post(w: World, log: Log, market: int, hooks: np.ndarray, rng: np.random.Generator) -> None:
    """Post one market's slate and record what its viewers did once the posts are mature."""
    n = len(hooks)
    hour = rng.integers(8, 24, n)
    weekday = rng.integers(0, 7, n)
    trope = np.zeros((n, len(TROPES)))
    picks = rng.random((n, len(TROPES))).argsort(axis=1)[:, :2]
    trope[np.arange(n), picks[:, 0]] = 1
    trope[np.arange(n), picks[:, 1]] = rng.random(n) < 0.5
    logit = (
        w.cell[market, hooks]
        + w.hour[hour]
        + w.weekday[weekday]
        + trope @ w.trope
        + rng.normal(0, w.sigma, n)
    )
    trials = np.maximum(50, np.round(w.views[market] * rng.lognormal(-1.0, 0.8, n)))
    successes = rng.binomial(trials.astype(np.int64), 1 / (1 + np.exp(-logit)))
    log.market.append(np.full(n, market))
    log.hook.append(np.asarray(hooks))
    log.trope.append(trope)
    log.trials.append(trials)
    log.successes.append(successes.astype(float))
    log.hour.append(hour.astype(float))
    log.episode.append(rng.integers(1, 80, n).astype(float))


def coverage(posterior: Posterior, w: World) -> float:
    """Share of true hook effects (against each market's average hook) inside the 90% interval."""
    H = len(w.hooks)
    centre = np.eye(H) - 1.0 / H
    truth = w.effects()
    inside = []
    for m, market in enumerate(w.markets):
        mean, cov = posterior.hook_effects(market)
        est, var = centre @ mean, np.diag(centre @ cov @ centre.T)
        inside.append(np.abs(est - truth[m]) <= Z90 * np.sqrt(np.clip(var, 0, None)))
    return float(np.mean(inside))


def _uniform(round_: int, size: int, H: int) -> np.ndarray:
    return (round_ * size + np.arange(size)) % H


def _slate(
    policy: str,
    posterior: Posterior | None,
    market: str,
    round_: int,
    setup: Setup,
    H: int,
    rng: np.random.Generator,
) -> np.ndarray:
    if policy == "uniform" or posterior is None:
        return _uniform(round_, setup.episodes, H)
    if policy == "greedy":
        mean, _ = posterior.hook_effects(market)
        return np.full(setup.episodes, int(np.argmax(mean)))
    if policy == "unpooled":
        rules = Rules(size=setup.episodes, exploration=0.0, max_share=1.0)
    else:
        rules = Rules(size=setup.episodes, exploration=setup.exploration, max_share=setup.max_share)
    counts = allocate(posterior, market, rules, rng)
    return np.repeat(np.arange(H), counts)


def run(setup: Setup, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run every policy for ``setup.rounds`` rounds; deterministic for ``setup.seed``."""
    setup.check()
    w = world(setup)
    M, H = len(w.markets), len(w.hooks)
    best = w.rate.max(axis=1)
    truly_best = w.rate.argmax(axis=1)
    result: dict[str, Any] = {"seed": setup.seed, "policies": {}}
    steps = len(POLICIES) * setup.rounds
    for p, policy in enumerate(POLICIES):
        rng = np.random.default_rng([setup.seed, 7100, p])
        log = Log()
        regret, share, cover = [], [], []
        posterior: Posterior | None = None
        for r in range(setup.rounds):
            lost, on_best = 0.0, 0
            for m, market in enumerate(w.markets):
                hooks = _slate(policy, posterior, market, r, setup, H, rng)
                lost += float((best[m] - w.rate[m, hooks]).sum())
                on_best += int((hooks == truly_best[m]).sum())
                post(w, log, m, hooks, rng)
            regret.append(lost)
            share.append(on_best / (M * setup.episodes))
            if policy != "uniform" or r == setup.rounds - 1:
                posterior = fit(log.data(w), pooled=policy != "unpooled")
                cover.append(coverage(posterior, w))
            if progress:
                progress(p * setup.rounds + r + 1, steps)
        assert posterior is not None
        final = [posterior.hook_effects(market)[0].argmax() for market in w.markets]
        result["policies"][policy] = {
            "regret_by_round": regret,
            "cumulative_regret": float(np.sum(regret)),
            "best_share_by_round": share,
            "final_best": float(np.mean(np.array(final) == truly_best)),
            "coverage": cover[-1],
        }
        if policy == "hookline":
            naive = fit(log.data(w), overdispersion=False)
            result["naive_coverage"] = coverage(naive, w)
            result["sigma2"] = posterior.sigma2
            result["true_sigma2"] = w.sigma**2
    return result


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Average several seeds' runs into the figures the benchmark checks."""
    out: dict[str, Any] = {"seeds": len(runs), "policies": {}}
    for policy in POLICIES:
        rows = [r["policies"][policy] for r in runs]
        out["policies"][policy] = {
            "cumulative_regret": float(np.mean([r["cumulative_regret"] for r in rows])),
            "regret_by_round": np.mean([r["regret_by_round"] for r in rows], axis=0).tolist(),
            "best_share_by_round": np.mean(
                [r["best_share_by_round"] for r in rows], axis=0
            ).tolist(),
            "final_best": float(np.mean([r["final_best"] for r in rows])),
            "coverage": float(np.mean([r["coverage"] for r in rows])),
        }
    p = out["policies"]
    out["regret_vs_uniform"] = (
        p["hookline"]["cumulative_regret"] / p["uniform"]["cumulative_regret"]
    )
    out["regret_vs_greedy"] = p["hookline"]["cumulative_regret"] / p["greedy"]["cumulative_regret"]
    out["coverage"] = p["hookline"]["coverage"]
    out["naive_coverage"] = float(np.mean([r["naive_coverage"] for r in runs]))
    return out


def report(summary: dict[str, Any]) -> list[str]:
    """The summary as lines for a terminal."""
    lines = [f"{'policy':<10} {'regret':>8} {'final best':>11} {'coverage':>9}"]
    for policy, v in summary["policies"].items():
        lines.append(
            f"{policy:<10} {v['cumulative_regret']:>8.2f} {v['final_best']:>11.0%} "
            f"{v['coverage']:>9.0%}"
        )
    lines.append(
        f"Hookline's regret: {summary['regret_vs_uniform']:.0%} of uniform rotation's, "
        f"{summary['regret_vs_greedy']:.2f}× greedy's; naive per-viewer intervals cover "
        f"{summary['naive_coverage']:.0%} (Hookline's {summary['coverage']:.0%})."
    )
    return lines
