"""Prometheus metrics of the ingestor (labelled by sensor)."""

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("finemeca_ingestor_received_total", "messages received from ActiveMQ", ["sensor"])
INDEXED = Counter("finemeca_ingestor_indexed_total", "documents created in Elasticsearch", ["sensor"])
DUPLICATES = Counter(
    "finemeca_ingestor_duplicates_total", "redelivered messages whose document already existed", ["sensor"]
)
DEAD_LETTERED = Counter(
    "finemeca_ingestor_dead_lettered_total", "messages sent to the DLQ", ["sensor", "stage"]
)
CLOCK_SKEWED = Counter(
    "finemeca_ingestor_clock_skewed_total",
    "documents indexed with |device time - gateway receive time| > INGESTOR_CLOCK_SKEW_TOLERANCE",
    ["sensor"],
)
TRUNCATED = Counter(
    "finemeca_ingestor_truncated_total",
    "keyword values cut to their mapping's ignore_above (the reading is kept)",
    ["sensor", "field"],
)
RETRIES = Counter(
    "finemeca_ingestor_bulk_retries_total", "bulk items retried (429/5xx/unreachable)", ["sensor"]
)
BATCH_SIZE = Histogram(
    "finemeca_ingestor_batch_size",
    "documents per bulk request",
    ["sensor"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
BULK_SECONDS = Histogram("finemeca_ingestor_bulk_seconds", "bulk request time", ["sensor"])
LAG_SECONDS = Histogram(
    "finemeca_ingestor_lag_seconds",
    "gateway receive -> indexed and acked",
    ["sensor"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
PENDING = Gauge("finemeca_ingestor_pending", "messages received and not yet acknowledged", ["sensor"])
QUEUE_DEPTH = Gauge(
    "finemeca_queue_depth", "messages waiting in an ActiveMQ queue (statistics plugin)", ["sensor", "queue"]
)
QUEUE_DEPTH_AGE = Gauge(
    "finemeca_queue_depth_updated_timestamp_seconds", "when the queue depths were last read", ["sensor"]
)
