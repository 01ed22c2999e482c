"""Analytics: metric collection, retention, KPIs, dashboards, the feedback loop."""
