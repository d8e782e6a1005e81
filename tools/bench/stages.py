"""Per-stage timings read from the gateway's and ingestor's own Prometheus /metrics (where time goes)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

# histogram name -> label in the report
HISTOGRAMS = {
    "finemeca_gateway_batch_size": "gateway: messages per STOMP transaction",
    "finemeca_gateway_commit_seconds": "gateway: send + commit per transaction, s",
    "finemeca_gateway_lag_seconds": "gateway: MQTT receive -> ActiveMQ commit, s",
    "finemeca_ingestor_batch_size": "ingestor: documents per bulk",
    "finemeca_ingestor_bulk_seconds": "ingestor: bulk request, s",
    "finemeca_ingestor_lag_seconds": "ingestor: gateway receive -> indexed, s",
}


def histogram_means(metrics_text: str) -> dict[str, tuple[float, int]]:
    """Histogram name -> (mean, count) from a Prometheus text exposition (pure)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name not in HISTOGRAMS:
            continue
        for sample in family.samples:
            if sample.name.endswith("_sum"):
                sums[family.name] = sums.get(family.name, 0.0) + sample.value
            elif sample.name.endswith("_count"):
                counts[family.name] = counts.get(family.name, 0) + int(sample.value)
    return {name: (sums[name] / counts[name], counts[name]) for name in counts if counts[name]}


def read(port: int) -> dict[str, str]:
    """Mean of each known histogram served on 127.0.0.1:`port`/metrics, labelled for the report."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {HISTOGRAMS[name]: f"{mean:,.3f} (n={n:,})" for name, (mean, n) in histogram_means(text).items()}
