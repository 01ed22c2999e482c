"""Where the shell plugs the domains in: job modules, recurring work, blueprints.

Adding a domain feature is a line here; nothing else in ``hookline`` imports the
domains, so dependencies keep pointing one way.
"""

from __future__ import annotations

from datetime import timedelta

from hookline.jobs.recurring import CORE, Recurring

# Modules that declare job kinds with @job (imported by every worker).
JOB_MODULES: tuple[str, ...] = (
    "localization.jobs",
    "publisher.jobs",
    "analytics.jobs",
    "hookline.demo.publishing",
)

# Recurring work the elected scheduler enqueues.
RECURRING: tuple[Recurring, ...] = (
    *CORE,
    # A safety net: scheduled publications get their jobs when scheduled; this catches any
    # left without one (a deleted job, a restore from backup).
    Recurring("publications-sweep", "publisher.sweep", every=timedelta(minutes=5)),
    # Each publication has its own cadence (analytics.collect); this wakes it up.
    Recurring("metrics-collect", "analytics.collect", every=timedelta(minutes=10)),
)

# Blueprints of the domains, as "module:attribute" (imported when the app is built).
BLUEPRINTS: tuple[str, ...] = (
    "localization.web:bp",
    "publisher.web:bp",
    "analytics.web:bp",
    "analytics.feedback.web:bp",
)

# Modules that declare JSON API operations on hookline.api (imported when the app is built).
API_MODULES: tuple[str, ...] = (
    "localization.api",
    "publisher.api",
    "analytics.api",
    "analytics.feedback.api",
)
