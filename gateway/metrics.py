"""Prometheus metrics of the gateway (labelled by sensor)."""

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("finemeca_gateway_received_total", "MQTT messages received", ["sensor"])
FORWARDED = Counter("finemeca_gateway_forwarded_total", "messages committed to ActiveMQ", ["sensor"])
DEAD_LETTERED = Counter("finemeca_gateway_dead_lettered_total", "messages sent to the DLQ", ["sensor"])
RETRIES = Counter("finemeca_gateway_commit_retries_total", "STOMP transactions retried", ["sensor"])
BATCH_SIZE = Histogram(
    "finemeca_gateway_batch_size",
    "messages per STOMP transaction",
    ["sensor"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
)
COMMIT_SECONDS = Histogram("finemeca_gateway_commit_seconds", "send+commit time per batch", ["sensor"])
LAG_SECONDS = Histogram(
    "finemeca_gateway_lag_seconds",
    "MQTT receive -> ActiveMQ commit",
    ["sensor"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INFLIGHT = Gauge("finemeca_gateway_inflight", "MQTT messages received and not yet acknowledged", ["sensor"])
