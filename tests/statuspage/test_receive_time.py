"""Issue 16 #3 (status page side), on the real Elasticsearch: liveness and age come from receive time.

A device clock 2 h ahead sent a LEAK reading, then (clock fixed) a correct healthy one: the page shows the
healthy reading, aged from its receive time. A feed whose only reading carries a future device time but
was received 20 minutes ago is STALE, not alive with age 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch.helpers import bulk

from sensors.registry import get_sensor
from statuspage.settings import StatusPageSettings
from statuspage.snapshot import take_snapshot

pytestmark = pytest.mark.integration


def reading(key: str, device_time: datetime, received: datetime, pressure: float) -> dict:
    return {
        "@timestamp": device_time.isoformat(), "received_at": received.isoformat(),
        "ingested_at": received.isoformat(), "sensor": "air", "device_key": key, "line": f"Line {key}",
        "pressure": pressure, "opening_pressure": 5.0, "leak": pressure < 5.0, "pressure_unit": "bar",
    }  # fmt: skip


def test_future_reading_does_not_pin_the_page(es, unique_name):
    index = f"{unique_name}-air-data"
    es.indices.create(index=index, mappings=get_sensor("air").index_mappings())
    try:
        now = datetime.now(UTC)
        docs = [
            reading("1-1", now + timedelta(hours=2), now - timedelta(seconds=20), 4.0),  # clock ahead, LEAK
            reading("1-1", now - timedelta(seconds=10), now - timedelta(seconds=10), 6.2),  # clock fixed
            reading("1-2", now + timedelta(hours=2), now - timedelta(minutes=20), 6.0),  # quiet since 20 min
        ]
        bulk(es, ({"_index": index, "_source": d} for d in docs), refresh=True)
        settings = StatusPageSettings(air_index=index, sensors=["air"], index_prefix=unique_name)
        snapshot = take_snapshot(es, settings)
        rows = {row["device_key"]: row for row in snapshot["lines"]}
        assert rows["1-1"]["state"] == "OK" and rows["1-1"]["pressure"] == 6.2
        assert 9 <= rows["1-1"]["age_seconds"] < 60
        assert rows["1-2"]["state"] == "STALE" and rows["1-2"]["age_seconds"] >= 1199
        assert rows["1-2"]["clock_skew_seconds"] > 7000
        (air,) = snapshot["sensors"]
        assert air["last_minute"] == 2  # received 20 s and 10 s ago; not the one from 20 min ago
        assert 9 <= air["age_seconds"] < 60
    finally:
        es.indices.delete(index=index)
