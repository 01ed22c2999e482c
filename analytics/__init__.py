"""Analytics: metric collection, retention, KPIs, dashboards, the feedback loop.

Public surface: ``collect.collect_due`` (the recurring job's work), ``queries`` (SQL
aggregation behind the dashboards and the API), ``analysis`` (drop-offs tied to lines,
language gaps, funnel, hooks, timing), ``retention`` (curve math on plain values) and
``audience`` (the sandbox audience's ground truth).
"""
