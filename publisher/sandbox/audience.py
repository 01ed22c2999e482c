"""The sandbox's simulated audience: the ground truth behind every number the emulators report.

Each post's viewers are simulated from effects drawn once from a seed (:func:`true_effects`):
the hook type in each market, the plot tropes, the episode's position in its series, the
dub and subtitle quality of its language, the local posting hour and weekday, and the
platform. From them come the expected 3-second hold and completion
(:func:`expected_rates`), a survival curve of watch time with any planted weak moments
(a badly translated line that makes viewers leave), and per-viewer watch durations drawn
from it, so every curve a platform reports is a real survival curve of simulated viewers.

Everything is deterministic for a seed and a post: the same question gets the same answer,
with noise that differs between posts, and each platform's reporting delay.
``analytics.audience`` re-exports the ground truth for the feedback loop's evaluation.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

HOOKS = (
    "cold_open_conflict",
    "secret_reveal",
    "public_humiliation",
    "contract_proposal",
    "flash_forward",
    "cliffhanger_question",
)
TROPES = (
    "contract_marriage",
    "hidden_billionaire",
    "revenge",
    "second_chance",
    "rebirth",
    "enemies_to_lovers",
    "mistaken_identity",
    "ceo_romance",
)
MARKETS = ("en", "es", "ca", "pt", "id", "zh", "ja", "ko", "fr", "de")
PLATFORMS = ("youtube", "tiktok", "instagram", "facebook", "douyin", "kuaishou")
HOLD_SECONDS = 3.0
STEP_S = 0.1  # watch durations are simulated to a tenth of a second
# How long after the fact each platform reports (platforms.md §7), in audience hours.
DELAY_H = {"youtube": 48, "tiktok": 24, "instagram": 24, "facebook": 6, "douyin": 24, "kuaishou": 2}
# Mean views of an average post, before every effect.
VIEWS_SCALE = {
    "youtube": 20_000,
    "tiktok": 50_000,
    "instagram": 15_000,
    "facebook": 8_000,
    "douyin": 80_000,
    "kuaishou": 40_000,
}
GROWTH_H = 30.0  # views approach their total as 1 - exp(-age / GROWTH_H)
SHAPE = 0.8  # Weibull shape of leaving after the hook: early leavers are the most


@dataclass(frozen=True)
class TrueEffects:
    """Effects on the logit of the 3-second hold and of completion among those held.

    ``hook_market`` is the hook × market interaction (keyed ``"hook|market"``);
    ``follow_through`` is the share of a market's viewers of episode N who watch N+1.
    Unknown hooks, tropes and markets have no effect.
    """

    seed: int
    base_hold: float
    base_continue: float
    hook: dict[str, float]
    hook_market: dict[str, float]
    trope_hold: dict[str, float]
    trope_continue: dict[str, float]
    market: dict[str, float]
    platform_hold: dict[str, float]
    platform_continue: dict[str, float]
    episode_continue: float  # per episode after the first: later episodes hold the faithful
    follow_through: dict[str, float]
    hour: tuple[float, ...]  # by local posting hour, on the hold and on views
    weekday: tuple[float, ...]  # Monday first
    quality_slope: float  # per unit of dub/subtitle quality below 1, on continuing
    episode_sigma: float  # an episode's own quality, beyond every listed effect

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rates:
    hold_3s: float  # share of plays still watching at 3 s
    completion: float  # share of plays that reach the end


@dataclass(frozen=True)
class Content:
    """What the audience knows of a post: the episode, its language and how well localized."""

    duration_s: float = 45.0
    hook: str = ""
    tropes: tuple[str, ...] = ()
    episode: int = 1
    series: str = ""
    market: str = "en"
    quality: float = 1.0  # 1 = the original language; a poor dub or subtitles lower it
    timezone: str = "UTC"
    # Planted weak moments: (second, extra share of the remaining viewers who leave there).
    weak_moments: tuple[tuple[float, float], ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Content:
        fields = dict(data)
        fields["tropes"] = tuple(fields.get("tropes") or ())
        fields["weak_moments"] = tuple(tuple(m) for m in fields.get("weak_moments") or ())
        return cls(**fields)


def true_effects(seed: int = 0) -> TrueEffects:
    """Draw the ground truth for ``seed`` (the same seed always gives the same truth)."""
    rng = np.random.default_rng([seed, 7001])

    def draws(names: tuple[str, ...], scale: float) -> dict[str, float]:
        return {name: round(float(rng.normal(0, scale)), 4) for name in names}

    hook = draws(HOOKS, 0.45)
    hook_market = {f"{h}|{m}": round(float(rng.normal(0, 0.25)), 4) for h in HOOKS for m in MARKETS}
    hours = 0.25 * np.sin((np.arange(24) - 14) / 24 * 2 * np.pi) + rng.normal(0, 0.05, 24)
    return TrueEffects(
        seed=seed,
        base_hold=0.9,
        base_continue=-0.2,
        hook=hook,
        hook_market=hook_market,
        trope_hold=draws(TROPES, 0.15),
        trope_continue=draws(TROPES, 0.25),
        market=draws(MARKETS, 0.3),
        platform_hold=draws(PLATFORMS, 0.2),
        platform_continue=draws(PLATFORMS, 0.2),
        episode_continue=0.06,
        follow_through={m: round(float(rng.uniform(0.55, 0.85)), 4) for m in MARKETS},
        hour=tuple(round(float(h), 4) for h in hours),
        weekday=tuple(round(float(w), 4) for w in rng.normal(0, 0.08, 7)),
        quality_slope=2.5,
        episode_sigma=0.15,
    )


def expected_rates(
    effects: TrueEffects,
    *,
    hook: str,
    tropes: tuple[str, ...] | list[str],
    market: str,
    platform: str,
    episode: int,
    hour: int,
    weekday: int,
    quality: float,
    deviation: float = 0.0,
) -> Rates:
    """Return the expected 3-second hold and completion for a post with these traits.

    ``deviation`` is the episode's own quality on the logit scale (0 for the expectation).
    """
    hold = (
        effects.base_hold
        + effects.hook.get(hook, 0.0)
        + effects.hook_market.get(f"{hook}|{market}", 0.0)
        + sum(effects.trope_hold.get(t, 0.0) for t in tropes)
        + effects.market.get(market, 0.0)
        + effects.platform_hold.get(platform, 0.0)
        + effects.hour[hour % 24]
        + effects.weekday[weekday % 7]
        + deviation
    )
    carry_on = (
        effects.base_continue
        + sum(effects.trope_continue.get(t, 0.0) for t in tropes)
        + effects.platform_continue.get(platform, 0.0)
        + effects.episode_continue * (max(1, episode) - 1)
        - effects.quality_slope * (1.0 - min(1.0, max(0.0, quality)))
        + deviation
    )
    held = _sigmoid(hold)
    return Rates(hold_3s=held, completion=held * _sigmoid(carry_on))


def survival(rates: Rates, content: Content) -> np.ndarray:
    """Return S(t), the share still watching, at every STEP_S from 0 to the end (inclusive)."""
    duration = max(content.duration_s, HOLD_SECONDS + 1.0)
    t = np.arange(0.0, duration + STEP_S / 2, STEP_S)
    # The opening: a steady fall to the hold at 3 s.
    curve = np.where(t <= HOLD_SECONDS, 1.0 - (1.0 - rates.hold_3s) * t / HOLD_SECONDS, 0.0)
    # After it, a Weibull fall reaching the completion (among the held) at the end.
    rest = duration - HOLD_SECONDS
    among = max(1e-6, min(0.999, rates.completion / rates.hold_3s))
    scale = rest / (-math.log(among)) ** (1 / SHAPE)
    after = rates.hold_3s * np.exp(-(((t - HOLD_SECONDS).clip(0) / scale) ** SHAPE))
    curve = np.where(t > HOLD_SECONDS, after, curve)
    for second, share in content.weak_moments:
        curve = np.where(t >= second, curve * (1.0 - share), curve)
    return curve


def durations_from_counts(counts: np.ndarray, duration_s: float, rng: Any) -> np.ndarray:
    """Turn viewers per STEP_S bin (the last bin: finished) into per-viewer durations."""
    bins = np.repeat(np.arange(len(counts)), counts)
    durations = bins * STEP_S + rng.uniform(0, STEP_S, len(bins))
    return np.where(bins == len(counts) - 1, duration_s, np.minimum(durations, duration_s))


@dataclass
class Observation:
    """What the platform knows of a post at some moment: counts and how long each view lasted."""

    views: int
    reach: int
    likes: int
    comments: int
    shares: int
    saves: int
    follows: int
    duration_s: float
    counts: np.ndarray  # viewers who left in each STEP_S bin; the last bin finished
    data_through: float  # the unix time the platform's numbers run to

    @property
    def watch_time_s(self) -> float:
        t = np.arange(len(self.counts)) * STEP_S + STEP_S / 2
        t[-1] = self.duration_s
        return float((self.counts * np.minimum(t, self.duration_s)).sum())

    @property
    def avg_view_duration_s(self) -> float:
        return self.watch_time_s / self.views if self.views else 0.0

    def still_watching(self, second: float) -> float:
        """Share of views still watching at ``second`` (the empirical survival curve)."""
        if not self.views:
            return 0.0
        left = int(self.counts[: round(second / STEP_S)].sum())
        return 1.0 - left / self.views

    @property
    def completion(self) -> float:
        return float(self.counts[-1]) / self.views if self.views else 0.0

    def curve(self, points: int) -> list[float]:
        """Share still watching at ``points`` evenly spaced moments, the first at 0."""
        return [self.still_watching(self.duration_s * i / (points - 1)) for i in range(points)]


@dataclass
class Audience:
    """The simulated viewers of every post in one sandbox, with their ground truth saved.

    ``time_scale`` shrinks audience time for demos: at 1/60 an hour of a post's life
    (its growth and the platforms' reporting delays) passes in a minute.
    """

    effects: TrueEffects
    path: Path | None = None
    time_scale: float = 1.0
    contents: dict[str, Content] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, folder: Path, seed: int = 0) -> Audience:
        """The audience of the sandbox in ``folder`` (its saved settings and contents)."""
        path = folder / "audience.json"
        audience = cls(true_effects(seed), path=path)
        if path.exists():
            data = json.loads(path.read_text())
            audience.time_scale = float(data.get("time_scale", 1.0))
            audience.contents = {
                sha: Content.from_dict(c) for sha, c in data.get("contents", {}).items()
            }
        audience.save()
        return audience

    def save(self) -> None:
        """Write the settings, the contents and the ground truth beside the sandbox's state."""
        if self.path is None:
            return
        with self._lock:
            data = {
                "time_scale": self.time_scale,
                "contents": {sha: asdict(c) for sha, c in self.contents.items()},
                "true_effects": self.effects.as_dict(),
            }
        self.path.write_text(json.dumps(data, indent=1))

    def describe(self, sha256: str, content: Content) -> None:
        """Tell the audience what the file with this hash is (episode, language, quality)."""
        with self._lock:
            self.contents[sha256] = content
        self.save()

    def content_of(self, sha256: str) -> Content:
        with self._lock:
            return self.contents.get(sha256) or Content()

    # -- one post ----------------------------------------------------------------------------

    def deviation(self, post_key: str) -> float:
        """The episode's own quality for this post: fixed, drawn from the post's key."""
        rng = np.random.default_rng([self.effects.seed, _stable(post_key), 1])
        return float(rng.normal(0, self.effects.episode_sigma))

    def rates(self, platform: str, post_key: str, content: Content, published: float) -> Rates:
        local = datetime.fromtimestamp(published, UTC).astimezone(_zone(content.timezone))
        return expected_rates(
            self.effects,
            hook=content.hook,
            tropes=content.tropes,
            market=content.market,
            platform=platform,
            episode=content.episode,
            hour=local.hour,
            weekday=local.weekday(),
            quality=content.quality,
            deviation=self.deviation(post_key),
        )

    def total_views(self, platform: str, post_key: str, content: Content, published: float) -> int:
        """How many views the post gets over its life."""
        effects = self.effects
        local = datetime.fromtimestamp(published, UTC).astimezone(_zone(content.timezone))
        follow = effects.follow_through.get(content.market, 0.7)
        logit = (
            effects.market.get(content.market, 0.0)
            + 0.8 * effects.hook.get(content.hook, 0.0)
            + 2 * effects.hour[local.hour]
            + effects.weekday[local.weekday()]
            + 2 * self.deviation(post_key)
        )
        expected = VIEWS_SCALE.get(platform, 10_000) * math.exp(logit)
        return int(expected * follow ** (max(1, content.episode) - 1))

    def observe(
        self, platform: str, post_key: str, sha256: str, published: float, now: float
    ) -> Observation | None:
        """What the platform reports at ``now``; None while its reporting delay hides the post."""
        hour_s = 3600.0 * self.time_scale
        through = now - DELAY_H.get(platform, 24) * hour_s
        age_h = (through - published) / hour_s
        if age_h <= 0:
            return None
        content = self.content_of(sha256)
        total = self.total_views(platform, post_key, content, published)
        views = int(total * (1.0 - math.exp(-age_h / GROWTH_H)))
        rates = self.rates(platform, post_key, content, published)
        curve = survival(rates, content)
        pmf = np.append(-np.diff(curve), curve[-1]).clip(0)
        rng = np.random.default_rng([self.effects.seed, _stable(post_key), views])
        counts = rng.multinomial(views, pmf / pmf.sum()) if views else np.zeros(len(pmf), int)
        finished = float(counts[-1]) / views if views else 0.0
        engaged = views * (0.3 + finished)
        return Observation(
            views=views,
            reach=int(views * 0.82),
            likes=int(engaged * 0.06),
            comments=int(engaged * 0.004),
            shares=int(engaged * 0.008),
            saves=int(engaged * 0.01),
            follows=int(engaged * 0.003 * content.quality),
            duration_s=max(content.duration_s, HOLD_SECONDS + 1.0),
            counts=counts,
            data_through=through,
        )

    def watch_durations(
        self, platform: str, post_key: str, sha256: str, published: float, now: float
    ) -> np.ndarray:
        """Every simulated view's watch duration in seconds (finished views: the full length)."""
        seen = self.observe(platform, post_key, sha256, published, now)
        if seen is None:
            return np.zeros(0)
        rng = np.random.default_rng([self.effects.seed, _stable(post_key), 2])
        return durations_from_counts(seen.counts, seen.duration_s, rng)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # an unknown zone in a description: read it as UTC
        return ZoneInfo("UTC")
