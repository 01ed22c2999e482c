"""The sandbox audience's ground truth, for evaluating analytics and the feedback loop.

The emulators answer every metric endpoint from a simulated audience
(:mod:`publisher.sandbox.audience`); this module is its documented, importable face::

    from analytics.audience import true_effects, expected_rates
    truth = true_effects(seed=0)            # what the sandbox with seed 0 uses
    rates = expected_rates(truth, hook="secret_reveal", tropes=("revenge",), market="es",
                           platform="tiktok", episode=3, hour=21, weekday=4, quality=0.9)
    rates.hold_3s, rates.completion        # expected 3-second hold and completion

``TrueEffects`` holds every effect on the logit scale (hook, hook × market, tropes,
market, platform, episode position, posting hour and weekday, localization quality);
a sandbox saves it, with what it knows of each post, in ``<sandbox folder>/audience.json``.
"""

from publisher.sandbox.audience import (
    HOOKS,
    MARKETS,
    PLATFORMS,
    TROPES,
    Audience,
    Content,
    Rates,
    TrueEffects,
    expected_rates,
    survival,
    true_effects,
)

__all__ = [
    "HOOKS",
    "MARKETS",
    "PLATFORMS",
    "TROPES",
    "Audience",
    "Content",
    "Rates",
    "TrueEffects",
    "expected_rates",
    "survival",
    "true_effects",
]
