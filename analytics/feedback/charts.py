"""The feedback loop's chart: regret by round from a simulation's output (no queries)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from hookline.errors import InvalidInput

COLOURS = {"hookline": "#2563eb", "unpooled": "#9333ea", "greedy": "#ea580c", "uniform": "#6b7280"}


def regret(result: dict[str, Any]) -> go.Figure:
    """Cumulative regret by round per policy from ``hookline simulate``'s JSON (or one run)."""
    policies = result.get("policies") if isinstance(result, dict) else None
    if not isinstance(policies, dict) or not policies:
        raise InvalidInput(
            "This is not a simulation result: expected the JSON `hookline simulate --out` "
            "writes, with a 'policies' object."
        )
    fig = go.Figure()
    for name, values in policies.items():
        by_round = values.get("regret_by_round") if isinstance(values, dict) else None
        if not isinstance(by_round, list) or not all(isinstance(v, int | float) for v in by_round):
            raise InvalidInput(f"Policy {name!r} has no list of numbers in 'regret_by_round'.")
        total, cumulative = 0.0, []
        for value in by_round:
            total += float(value)
            cumulative.append(total)
        fig.add_scatter(
            x=list(range(1, len(cumulative) + 1)),
            y=cumulative,
            name=str(name),
            mode="lines+markers",
            line={"color": COLOURS.get(str(name))},
        )
    fig.update_layout(
        title="Cumulative regret by round (lower is better)",
        xaxis_title="Round",
        yaxis_title="Hold lost against the oracle (rate points)",
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        height=380,
    )
    return fig
