"""Prometheus metrics of the alert job."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("finemeca_alerts_events_total", "Alert events published", ["rule", "kind"])
RULE_ERRORS = Counter("finemeca_alerts_rule_errors_total", "Rule evaluations that failed", ["rule"])
RULE_PROBLEMS = Gauge("finemeca_alerts_rule_problems", "Rule file problems currently reported")
RULES_LOADED = Gauge("finemeca_alerts_rules_loaded", "Valid enabled rules")
FIRING = Gauge("finemeca_alerts_firing", "Devices currently firing", ["rule"])
LAG = Gauge("finemeca_alerts_watermark_lag_seconds", "now minus the rule's watermark", ["rule"])
CYCLE_SECONDS = Histogram(
    "finemeca_alerts_cycle_seconds",
    "Duration of one cycle over every rule",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60),
)
READINGS = Counter(
    "finemeca_alerts_readings_total",
    "Readings handed to a rule, by path: live, past (older than the late horizon -> occurred events), "
    "healthy_bounds (proven healthy by the device's bounds), no_value, clock_ahead, out_of_order",
    ["rule", "path"],
)
CATCH_UP_TRUNCATED = Counter(
    "finemeca_alerts_catch_up_truncated_total",
    "Times a watermark older than ALERTS_MAX_CATCH_UP was moved",
    ["rule"],
)
