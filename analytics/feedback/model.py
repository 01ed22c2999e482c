"""What each hook and trope does to a KPI in each market: a hierarchical model on logit rates.

One observation is one episode posted in one market (language × platform): how many
viewers it had so far (``trials``) and how many of them held past 3 s, finished, or went on
to the next episode (``successes``). On the logit scale::

    y_i = a_market + μ_hook + δ_market,hook + Σ_tropes (ζ_trope + η_market,trope) + x_i·β + e_i
    e_i ~ N(0, σₑ² + 1/k_i + 1/(n_i − k_i))

``σₑ²`` is the episode's own quality: viewers of one episode share it, so thousands of
views are not thousands of independent trials (``overdispersion=False`` drops it and gives
the naive per-viewer model, kept to show how over-confident that is). ``δ`` and ``η`` are
each market's departures from the hook's and trope's effect across markets, with variances
``τ²`` estimated from the data (empirical Bayes): a market with few posts is pulled toward
the others, one with many keeps its own estimate. ``x`` holds the confounders (posting hour
as two daily harmonics, the log of the episode's position). Immature posts count with the
viewers they have so far: their larger sampling variance gives them less weight.

Given the variances the posterior is Gaussian in closed form; the variances are refit by a
few expectation-maximisation steps. Everything is numpy on plain values (no database).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Z90 = 1.6448536269514722
HOOK_PRIOR_SD = 0.5  # the hook's effect across markets, on the logit scale
TROPE_PRIOR_SD = 0.5
MARKET_PRIOR_SD = 3.0  # a market's baseline: barely informative
COVARIATE_PRIOR_SD = 1.0
UNPOOLED_SD = 1.0  # each market on its own: a hook's effect there, a priori
DEFAULT_SIGMA2 = 0.04  # σₑ² until there are enough repeated cells to estimate it
MIN_VARIANCE = 1e-4


class FeedbackInputError(ValueError):
    """Input the feedback loop cannot use; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Post:
    """One episode in one market, as the model reads it."""

    market: str
    hook: str | None
    trials: float
    successes: float
    tropes: tuple[str, ...] = ()
    hour: int = 20
    episode: int = 1
    exposure: float = 1.0  # share of the maturity window behind the numbers (1 = mature)


@dataclass
class Data:
    """Posts as arrays: indices into ``markets``/``hooks``/``tropes`` and the counts."""

    markets: tuple[str, ...]
    hooks: tuple[str, ...]
    tropes: tuple[str, ...]
    market: np.ndarray
    hook: np.ndarray
    trope: np.ndarray  # (n, T) 0/1
    trials: np.ndarray
    successes: np.ndarray
    hour: np.ndarray
    episode: np.ndarray
    untagged: int = 0

    def __len__(self) -> int:
        return len(self.market)

    @classmethod
    def from_posts(
        cls,
        posts: Iterable[Post],
        *,
        markets: Sequence[str],
        hooks: Sequence[str],
        tropes: Sequence[str] = (),
    ) -> Data:
        """Index the posts; untagged ones (or hooks outside ``hooks``) are counted, left out."""
        m_index = {m: i for i, m in enumerate(markets)}
        h_index = {h: i for i, h in enumerate(hooks)}
        t_index = {t: i for i, t in enumerate(tropes)}
        kept: list[Post] = []
        untagged = 0
        for post in posts:
            if post.hook not in h_index or post.market not in m_index:
                untagged += 1
            elif post.trials > 0:
                kept.append(post)
        trope = np.zeros((len(kept), len(tropes)))
        for i, post in enumerate(kept):
            for name in post.tropes:
                if name in t_index:
                    trope[i, t_index[name]] = 1.0
        return cls(
            markets=tuple(markets),
            hooks=tuple(hooks),
            tropes=tuple(tropes),
            market=np.array([m_index[p.market] for p in kept], dtype=np.int64),
            hook=np.array([h_index[p.hook] for p in kept], dtype=np.int64),  # type: ignore[index]
            trope=trope,
            trials=np.array([p.trials for p in kept], dtype=float),
            successes=np.array([p.successes for p in kept], dtype=float),
            hour=np.array([p.hour for p in kept], dtype=float),
            episode=np.array([p.episode for p in kept], dtype=float),
            untagged=untagged,
        )


def covariates(hour: np.ndarray, episode: np.ndarray) -> np.ndarray:
    """The confounders as columns: posting hour (two daily harmonics), log episode position."""
    angle = np.asarray(hour, dtype=float) / 24.0 * 2 * np.pi
    position = np.log(np.maximum(np.asarray(episode, dtype=float), 1.0))
    return np.column_stack(
        [np.sin(angle), np.cos(angle), np.sin(2 * angle), np.cos(2 * angle), position]
    )


@dataclass
class Layout:
    """Where each block of parameters sits in the parameter vector."""

    M: int
    H: int
    T: int
    K: int

    @property
    def a(self) -> int:
        return 0

    @property
    def mu(self) -> int:
        return self.M

    @property
    def delta(self) -> int:
        return self.M + self.H

    @property
    def zeta(self) -> int:
        return self.delta + self.M * self.H

    @property
    def eta(self) -> int:
        return self.zeta + self.T

    @property
    def beta(self) -> int:
        return self.eta + self.M * self.T

    @property
    def size(self) -> int:
        return self.beta + self.K


@dataclass
class Posterior:
    """The fitted model of one KPI: a Gaussian posterior over every effect."""

    markets: tuple[str, ...]
    hooks: tuple[str, ...]
    tropes: tuple[str, ...]
    layout: Layout
    mean: np.ndarray
    cov: np.ndarray
    sigma2: float  # episode-level overdispersion σₑ² (0 in the naive model)
    tau2: float  # spread of market × hook departures
    tau2_trope: float
    posts: np.ndarray  # (M, H) posts behind each market × hook
    trope_posts: np.ndarray  # (M, T)
    xbar: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean covariates per market

    def _hook_rows(self, market: int) -> np.ndarray:
        L = np.zeros((len(self.hooks), self.layout.size))
        for h in range(len(self.hooks)):
            L[h, self.layout.mu + h] = 1.0
            L[h, self.layout.delta + market * len(self.hooks) + h] = 1.0
        return L

    def _trope_rows(self, market: int) -> np.ndarray:
        L = np.zeros((len(self.tropes), self.layout.size))
        for t in range(len(self.tropes)):
            L[t, self.layout.zeta + t] = 1.0
            L[t, self.layout.eta + market * len(self.tropes) + t] = 1.0
        return L

    def market_index(self, market: str) -> int:
        if market not in self.markets:
            raise FeedbackInputError(
                f"unknown market {market!r}; the model knows {', '.join(self.markets) or 'none'}"
            )
        return self.markets.index(market)

    def hook_effects(self, market: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of each hook's logit effect in ``market``."""
        L = self._hook_rows(self.market_index(market))
        return L @ self.mean, L @ self.cov @ L.T

    def trope_effects(self, market: str) -> tuple[np.ndarray, np.ndarray]:
        L = self._trope_rows(self.market_index(market))
        return L @ self.mean, L @ self.cov @ L.T

    def baseline(self, market: str) -> float:
        """The market's logit rate at its average posting hour and position, before hooks."""
        m = self.market_index(market)
        beta = self.mean[self.layout.beta :]
        shift = float(self.xbar[m] @ beta) if self.xbar.size else 0.0
        return float(self.mean[self.layout.a + m]) + shift

    def draws(self, market: str, count: int, rng: np.random.Generator) -> np.ndarray:
        """Posterior draws (count × hooks) of each hook's logit effect in ``market``."""
        mean, cov = self.hook_effects(market)
        return _mvn(rng, mean, cov, count)

    def chance_best(self, market: str, rng: np.random.Generator, count: int = 4000) -> np.ndarray:
        draws = self.draws(market, count, rng)
        wins = np.bincount(draws.argmax(axis=1), minlength=len(self.hooks))
        return wins / count

    def summary(self, market: str, rng: np.random.Generator, count: int = 4000) -> list[dict]:
        """Per hook: posts, estimated rate and lift (90% intervals), chance of being best."""
        m = self.market_index(market)
        draws = self.draws(market, count, rng)
        base = self.baseline(market)
        rates = _sigmoid(base + draws)
        lifts = rates - rates.mean(axis=1, keepdims=True)  # against the market's average hook
        best = np.bincount(draws.argmax(axis=1), minlength=len(self.hooks)) / count
        rows = []
        for h, hook in enumerate(self.hooks):
            rows.append(
                {
                    "hook": hook,
                    "posts": int(self.posts[m, h]),
                    "rate": float(np.mean(rates[:, h])),
                    "rate_low": float(np.quantile(rates[:, h], 0.05)),
                    "rate_high": float(np.quantile(rates[:, h], 0.95)),
                    "lift": float(np.mean(lifts[:, h])),
                    "lift_low": float(np.quantile(lifts[:, h], 0.05)),
                    "lift_high": float(np.quantile(lifts[:, h], 0.95)),
                    "chance_best": float(best[h]),
                }
            )
        return rows

    def trope_summary(self, market: str) -> list[dict]:
        m = self.market_index(market)
        mean, cov = self.trope_effects(market)
        sd = np.sqrt(np.clip(np.diag(cov), 0, None))
        return [
            {
                "trope": trope,
                "posts": int(self.trope_posts[m, t]),
                "effect": float(mean[t]),
                "low": float(mean[t] - Z90 * sd[t]),
                "high": float(mean[t] + Z90 * sd[t]),
            }
            for t, trope in enumerate(self.tropes)
        ]


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


def _mvn(rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, count: int) -> np.ndarray:
    sym = (cov + cov.T) / 2
    values, vectors = np.linalg.eigh(sym)
    root = vectors * np.sqrt(np.clip(values, 0, None))
    return mean + rng.standard_normal((count, len(mean))) @ root.T


def logit_rates(trials: np.ndarray, successes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical logit of each rate and its binomial sampling variance (half-count corrected)."""
    k = np.clip(successes, 0, trials) + 0.5
    miss = trials - np.clip(successes, 0, trials) + 0.5
    return np.log(k / miss), 1.0 / k + 1.0 / miss


def _design(data: Data, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Each row's non-zero columns and their values (a fixed number per row)."""
    n, H, T = len(data), layout.H, layout.T
    base = np.column_stack(
        [
            layout.a + data.market,
            layout.mu + data.hook,
            layout.delta + data.market * H + data.hook,
        ]
    )
    cols = [base]
    vals = [np.ones((n, 3))]
    if T and n:
        # Only each row's own tropes (padded with zeros): rows have a few tropes, not all.
        width = max(1, int(data.trope.sum(axis=1).max()))
        order = np.argsort(-data.trope, axis=1, kind="stable")[:, :width]
        on = np.take_along_axis(data.trope, order, axis=1)
        cols += [layout.zeta + order, layout.eta + data.market[:, None] * T + order]
        vals += [on, on]
    cols.append(np.broadcast_to(layout.beta + np.arange(layout.K), (n, layout.K)))
    vals.append(covariates(data.hour, data.episode))
    return np.hstack(cols).astype(np.int64), np.hstack(vals)


def fit(
    data: Data,
    *,
    pooled: bool = True,
    overdispersion: bool = True,
    iterations: int = 12,
    sigma2: float | None = None,
) -> Posterior:
    """Fit the model of one KPI to ``data`` (any number of posts, none included)."""
    M, H, T = len(data.markets), len(data.hooks), len(data.tropes)
    if not M or not H:
        raise FeedbackInputError("the model needs at least one market and one hook")
    layout = Layout(M, H, T, K=5)
    P = layout.size
    y, v = logit_rates(data.trials, data.successes)
    cols, vals = _design(data, layout)
    pair = (cols[:, :, None] * P + cols[:, None, :]).ravel()
    outer = (vals[:, :, None] * vals[:, None, :]).reshape(len(data), cols.shape[1] ** 2)
    cells = data.market * H + data.hook
    s2 = DEFAULT_SIGMA2 if sigma2 is None else sigma2
    s2 = s2 if overdispersion else 0.0
    tau2, tau2_t = 0.05, 0.02
    mean, cov = np.zeros(P), np.eye(P)
    for _ in range(iterations):
        prior = _prior_precision(layout, pooled, tau2, tau2_t)
        w = 1.0 / (s2 + v)
        gram = np.bincount(pair, weights=(w[:, None] * outer).ravel(), minlength=P * P)
        precision = gram.reshape(P, P) + np.diag(prior)
        rhs = np.bincount(cols.ravel(), weights=((w * y)[:, None] * vals).ravel(), minlength=P)
        cov = np.linalg.inv(precision)
        mean = cov @ rhs
        old = (s2, tau2, tau2_t)
        if pooled:
            tau2 = _block_variance(mean, cov, layout.delta, M * H)
            if T:
                tau2_t = _block_variance(mean, cov, layout.eta, M * T)
        if overdispersion and sigma2 is None:
            fitted_rest = _rest(mean, cols, vals, layout)
            s2 = _within_cell_variance(y - fitted_rest, v, cells, M * H, default=s2)
        if np.allclose(old, (s2, tau2, tau2_t), rtol=2e-2, atol=1e-5):
            break
    xbar = np.zeros((M, layout.K))
    if len(data):
        x = covariates(data.hour, data.episode)
        counts = np.bincount(data.market, minlength=M)
        for k in range(layout.K):
            xbar[:, k] = np.bincount(data.market, weights=x[:, k], minlength=M) / np.maximum(
                counts, 1
            )
    return Posterior(
        markets=data.markets,
        hooks=data.hooks,
        tropes=data.tropes,
        layout=layout,
        mean=mean,
        cov=cov,
        sigma2=s2,
        tau2=tau2,
        tau2_trope=tau2_t,
        posts=np.bincount(cells, minlength=M * H).reshape(M, H),
        trope_posts=(
            np.stack([data.trope[data.market == m].sum(axis=0) for m in range(M)])
            if T
            else np.zeros((M, 0))
        ),
        xbar=xbar,
    )


def _prior_precision(layout: Layout, pooled: bool, tau2: float, tau2_t: float) -> np.ndarray:
    prior = np.empty(layout.size)
    prior[layout.a : layout.mu] = 1 / MARKET_PRIOR_SD**2
    if pooled:
        prior[layout.mu : layout.delta] = 1 / HOOK_PRIOR_SD**2
        prior[layout.delta : layout.zeta] = 1 / tau2
        prior[layout.zeta : layout.eta] = 1 / TROPE_PRIOR_SD**2
        prior[layout.eta : layout.beta] = 1 / tau2_t
    else:
        # Each market alone: no shared effect, a weakly informative prior per market.
        prior[layout.mu : layout.delta] = 1e6
        prior[layout.delta : layout.zeta] = 1 / UNPOOLED_SD**2
        prior[layout.zeta : layout.eta] = 1e6
        prior[layout.eta : layout.beta] = 1 / TROPE_PRIOR_SD**2
    prior[layout.beta :] = 1 / COVARIATE_PRIOR_SD**2
    return prior


def _block_variance(mean: np.ndarray, cov: np.ndarray, start: int, size: int) -> float:
    """The EM update of a block's prior variance: E[δ²] under the posterior."""
    block = slice(start, start + size)
    return max(MIN_VARIANCE, float(np.mean(mean[block] ** 2 + np.diag(cov)[block])))


def _rest(mean: np.ndarray, cols: np.ndarray, vals: np.ndarray, layout: Layout) -> np.ndarray:
    """Each post's fitted tropes and covariates: what varies within a market × hook cell."""
    keep = cols >= layout.zeta
    return (np.where(keep, vals * mean[cols], 0.0)).sum(axis=1)


def _within_cell_variance(
    r: np.ndarray, v: np.ndarray, cells: np.ndarray, count: int, *, default: float
) -> float:
    """Moment estimate of σₑ²: spread of posts around their cell's mean beyond sampling noise.

    For independent r_i with variances V_i, E Σ(r_i − r̄)² = (1 − 1/n) Σ V_i.
    """
    n = np.bincount(cells, minlength=count)
    if (n >= 2).sum() < 2 or (n - 1).clip(0).sum() < 5:
        return default
    sums = np.bincount(cells, weights=r, minlength=count)
    squares = np.bincount(cells, weights=r * r, minlength=count)
    repeated = n >= 2
    ss = squares[repeated] - sums[repeated] ** 2 / n[repeated]
    noise = np.bincount(cells, weights=v, minlength=count)[repeated] * (1 - 1 / n[repeated])
    excess = (ss.sum() - noise.sum()) / (n[repeated] - 1).sum()
    return max(MIN_VARIANCE, float(excess))


def fit_posts(
    posts: Iterable[Post],
    *,
    markets: Sequence[str],
    hooks: Sequence[str],
    tropes: Sequence[str] = (),
    **options: Any,
) -> Posterior:
    """Index and fit in one step."""
    return fit(Data.from_posts(posts, markets=markets, hooks=hooks, tropes=tropes), **options)


def chance_to_beat(
    posterior: Posterior, market: str, hook: str, other: str, draws: int = 20000, seed: int = 0
) -> float:
    """P(``hook``'s effect > ``other``'s) in ``market``, from the Gaussian posterior."""
    for name in (hook, other):
        if name not in posterior.hooks:
            raise FeedbackInputError(f"unknown hook {name!r}; known: {', '.join(posterior.hooks)}")
    mean, cov = posterior.hook_effects(market)
    a, b = posterior.hooks.index(hook), posterior.hooks.index(other)
    diff = mean[a] - mean[b]
    sd = float(np.sqrt(max(cov[a, a] + cov[b, b] - 2 * cov[a, b], 1e-12)))
    return float(_normal_cdf(diff / sd))


def _normal_cdf(z: float) -> float:
    from math import erf, sqrt

    return 0.5 * (1 + erf(z / sqrt(2)))
