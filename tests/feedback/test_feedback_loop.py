"""The feedback loop on plain values: the model, pooling, slates, the brief, the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.feedback import brief, model, simulate
from analytics.feedback.model import FeedbackInputError, Post
from analytics.feedback.slate import Rules, allocate, plan

HOOKS = ("slap", "betrayal", "identity", "rebirth")
MARKETS = ("es/tiktok", "en/youtube", "pt/tiktok")


def _posts(
    effects: dict[str, dict[str, float]],
    per_cell: int,
    seed: int,
    *,
    sigma: float = 0.15,
    exposure: float = 1.0,
) -> list[Post]:
    """Episodes whose viewers share the episode's own random quality (logit sd ``sigma``)."""
    rng = np.random.default_rng(seed)
    posts = []
    for market, by_hook in effects.items():
        for hook, effect in by_hook.items():
            for _ in range(per_cell):
                hour = int(rng.integers(8, 24))
                logit = 0.4 + effect + 0.2 * np.sin(hour / 24 * 2 * np.pi) + rng.normal(0, sigma)
                views = int(rng.integers(2000, 20000) * exposure)
                held = int(rng.binomial(views, 1 / (1 + np.exp(-logit))))
                posts.append(Post(market, hook, views, held, hour=hour, exposure=exposure))
    return posts


def _planted(scale: float = 1.0) -> dict[str, dict[str, float]]:
    base = {"slap": 0.3, "betrayal": -0.2, "identity": 0.5, "rebirth": -0.4}
    return {m: {h: scale * e + 0.05 * i for h, e in base.items()} for i, m in enumerate(MARKETS)}


def _centred(posterior: model.Posterior, market: str) -> np.ndarray:
    mean, _ = posterior.hook_effects(market)
    return mean - mean.mean()


def _centred_sd(posterior: model.Posterior, market: str) -> np.ndarray:
    """Posterior sd of each hook's effect against the market's average hook."""
    _, cov = posterior.hook_effects(market)
    centre = np.eye(len(cov)) - 1 / len(cov)
    return np.sqrt(np.diag(centre @ cov @ centre.T))


def test_model_recovers_planted_effects() -> None:
    planted = _planted()
    fitted = model.fit_posts(_posts(planted, 25, seed=1), markets=MARKETS, hooks=HOOKS)
    for market in MARKETS:
        truth = np.array([planted[market][h] for h in HOOKS])
        assert np.allclose(_centred(fitted, market), truth - truth.mean(), atol=0.08)
    assert 0.01 < fitted.sigma2 < 0.05  # the episodes' own spread (0.15² = 0.0225)
    summary = fitted.summary("es/tiktok", np.random.default_rng(0))
    best = max(summary, key=lambda r: r["chance_best"])
    assert best["hook"] == "identity" and best["chance_best"] > 0.9
    assert best["rate_low"] < best["rate"] < best["rate_high"]


def test_naive_per_viewer_model_is_over_confident() -> None:
    posts = _posts(_planted(), 10, seed=2)
    ours = model.fit_posts(posts, markets=MARKETS, hooks=HOOKS)
    naive = model.fit_posts(posts, markets=MARKETS, hooks=HOOKS, overdispersion=False)
    sd_ours, sd_naive = _centred_sd(ours, "es/tiktok"), _centred_sd(naive, "es/tiktok")
    assert (sd_naive < sd_ours / 2).all()


def test_pooling_shrinks_a_small_market_and_leaves_a_large_one_alone() -> None:
    planted = _planted()
    posts = _posts(planted, 30, seed=3)
    # A small market whose few posts make "rebirth" look far better than elsewhere.
    small = _posts({"id/tiktok": {**planted["es/tiktok"], "rebirth": 0.9}}, 1, seed=4)
    markets = (*MARKETS, "id/tiktok")
    pooled = model.fit_posts(posts + small, markets=markets, hooks=HOOKS)
    alone = model.fit_posts(posts + small, markets=markets, hooks=HOOKS, pooled=False)
    r = HOOKS.index("rebirth")
    others = np.mean([_centred(pooled, m)[r] for m in MARKETS])
    assert abs(_centred(pooled, "id/tiktok")[r] - others) < abs(
        _centred(alone, "id/tiktok")[r] - others
    )
    # The large market keeps its own estimate, pooled or not.
    assert np.allclose(_centred(pooled, "es/tiktok"), _centred(alone, "es/tiktok"), atol=0.05)


def test_immature_posts_do_not_bias_estimates() -> None:
    planted = _planted()
    mature = _posts(planted, 20, seed=5)
    young = _posts(planted, 20, seed=6, exposure=0.15)  # a few hours old: 15% of their views
    with_young = model.fit_posts(mature + young, markets=MARKETS, hooks=HOOKS)
    only_young = model.fit_posts(young, markets=MARKETS, hooks=HOOKS)
    for market in MARKETS:
        truth = np.array([planted[market][h] for h in HOOKS])
        for fitted in (with_young, only_young):
            assert np.allclose(_centred(fitted, market), truth - truth.mean(), atol=0.1)
    # Counted with their exposure so far: fewer viewers, less weight, wider intervals.
    sd_young = _centred_sd(only_young, "es/tiktok")
    sd_all = _centred_sd(with_young, "es/tiktok")
    assert (sd_all < sd_young).all()


def test_slate_respects_limits_and_must_includes() -> None:
    fitted = model.fit_posts(_posts(_planted(), 20, seed=7), markets=MARKETS, hooks=HOOKS)
    rules = Rules(size=10, exploration=0.2, max_share=0.4, must_include=("rebirth",))
    for seed in range(20):
        counts = allocate(fitted, "es/tiktok", rules, np.random.default_rng(seed))
        assert counts.sum() == 10
        assert counts.max() <= 4
        assert counts[HOOKS.index("rebirth")] >= 1
    slate = plan(fitted, "es/tiktok", rules, np.random.default_rng(0))
    assert sum(slate.counts().values()) == 10
    best = [p for p in slate.picks if p.role == "best"]
    assert best and best[0].hook == "identity" and "chance best" in best[0].reason
    assert any(p.role == "must include" and p.hook == "rebirth" for p in slate.picks)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (Rules(must_include=("telepathy",)), "'telepathy' is not in the vocabulary"),
        (Rules(max_share=1.5), "between 0% and 100%, not 150%"),
        (Rules(exploration=-0.1), "between 0% and 100%"),
        (Rules(size=0), "above 0, not 0"),
        (Rules(size=-3), "above 0, not -3"),
        (Rules(size=10, max_share=0.1), "cannot fill 10 episodes; raise the limit"),
    ],
)
def test_bad_slate_rules_get_clear_errors(rules: Rules, message: str) -> None:
    fitted = model.fit_posts([], markets=MARKETS, hooks=HOOKS)
    with pytest.raises(FeedbackInputError, match=message.replace("(", r"\(")):
        plan(fitted, "es/tiktok", rules, np.random.default_rng(0))


def test_no_data_brief_says_so_and_counts_untagged() -> None:
    untagged = [Post("es/tiktok", None, 1000, 500), Post("es/tiktok", "telepathy", 900, 400)]
    made = brief.compose(untagged, hooks=HOOKS)
    assert made.empty and made.untagged == 2
    text = brief.to_markdown(made)
    assert "No data yet" in text and "2 untagged" in text
    assert brief.to_csv(made).strip() == ",".join(brief.CSV_FIELDS)


def test_brief_explains_each_recommendation_and_flags_thin_markets() -> None:
    posts = _posts(_planted(), 10, seed=8) + _posts({"id/tiktok": _planted()["es/tiktok"]}, 1, 9)
    posts.append(Post("es/tiktok", None, 1000, 500))
    made = brief.compose(posts, hooks=HOOKS, rules=Rules(size=10, max_share=0.5))
    text = brief.to_markdown(made)
    assert "next 10 episodes for es/tiktok: " in text and "(best, " in text
    assert "1 untagged posts were counted and left out" in text
    thin = next(m for m in made.markets if m.market == "id/tiktok")
    assert thin.note.startswith("Too little data: 4 tagged posts in id/tiktok")
    rows = brief.to_csv(made).strip().splitlines()
    assert len(rows) > 1 and all(len(r.split(",")) >= len(brief.CSV_FIELDS) for r in rows)
    assert all(0 <= h < 24 for h in made.markets[0].best_hours)


def test_simulation_is_deterministic_for_a_seed() -> None:
    setup = simulate.Setup(seed=3, rounds=3, episodes=8)
    first, again = simulate.run(setup), simulate.run(setup)
    assert first == again
    other = simulate.run(simulate.Setup(seed=4, rounds=3, episodes=8))
    assert other != first
    uniform = first["policies"]["uniform"]["cumulative_regret"]
    assert first["policies"]["hookline"]["cumulative_regret"] < uniform


def test_simulation_rejects_bad_settings() -> None:
    with pytest.raises(FeedbackInputError, match="hooks must be between 2 and"):
        simulate.run(simulate.Setup(hooks=1))
    with pytest.raises(FeedbackInputError, match="language/platform"):
        simulate.run(simulate.Setup(markets=("es/myspace",)))
