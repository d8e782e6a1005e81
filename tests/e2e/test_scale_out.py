"""Scale-out on the real stack: two gateways (MQTT 5 shared subscription) and two ingestors (competing
consumers on the ActiveMQ queue) for one sensor under load: zero loss, zero duplicates, shared work."""

from __future__ import annotations

import time

import pytest

from finemeca import naming
from tests.e2e.helpers import BackgroundPublisher, assert_exactly_once, simulated_stream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENSOR = "air"
MESSAGES = 20_000


def test_two_gateways_two_ingestors_share_the_load(start_pipeline, prefix, es_client):
    stream = simulated_stream(prefix, SENSOR, MESSAGES, devices=50, seed=3)
    alias = naming.data_index_alias(SENSOR, prefix)
    pipeline = start_pipeline([SENSOR], gateways=2, ingestors=2, GATEWAY_SHARED_GROUP=f"{prefix}-gw")
    gateways = [p for p in pipeline.processes if p.role == "gateway"]
    ingestors = [p for p in pipeline.processes if p.role == "ingestor"]
    assert len(gateways) == len(ingestors) == 2
    client_ids = {p.env["GATEWAY_CLIENT_ID"] for p in gateways}
    assert len(client_ids) == 2, f"gateway replicas share an MQTT client id: {client_ids}"

    started = time.monotonic()
    stats = BackgroundPublisher(stream.items, rate=None).start().join()
    assert_exactly_once(es_client, alias, stream.ids, timeout=180)
    elapsed = time.monotonic() - started

    forwarded = {p.name: (p.health() or {}).get("forwarded", 0) for p in gateways}
    indexed = {p.name: (p.health() or {}).get("indexed", 0) for p in ingestors}
    duplicates = sum((p.health() or {}).get("duplicates", 0) for p in ingestors)
    print(
        f"{MESSAGES} published in {stats.elapsed:.1f}s ({stats.rate:.0f} msg/s), all indexed after "
        f"{elapsed:.1f}s ({MESSAGES / elapsed:.0f} msg/s end to end); forwarded {forwarded}; "
        f"indexed {indexed}; redelivered duplicates {duplicates}"
    )
    assert sum(forwarded.values()) >= MESSAGES
    assert sum(indexed.values()) == MESSAGES, "ingestors created more or fewer documents than messages"
    for name, n in {**forwarded, **indexed}.items():
        # competing consumers are not round-robin, but each replica must carry a real share
        assert n >= MESSAGES * 0.1, f"{name} did {n} of {MESSAGES}: the replicas did not share the work"
