"""A field added to a sensor's strict mapping reaches the daily indices that already exist."""

from __future__ import annotations

import copy
import json
from zoneinfo import ZoneInfo

import pytest

from finemeca import naming
from finemeca.retry import RetryPolicy
from ingestor import bulk
from ingestor.indices import ensure_sensor_template
from ingestor.prepare import Incoming, prepare
from sensors.registry import get_sensor

pytestmark = pytest.mark.integration


def test_todays_index_from_an_older_template_accepts_the_new_field(es, unique_name):
    plugin = get_sensor("air")
    old = copy.deepcopy(plugin.index_mappings())
    del old["properties"]["ingest_lag_ms"]  # the mapping before the field existed
    sample = json.loads((plugin.folder / "sample.json").read_text())
    headers = {naming.HEADER_RECEIVED_AT: "1650239681000"}
    batch = prepare(
        [Incoming("1", 0, json.dumps(sample).encode(), headers)],
        plugin,
        ZoneInfo("Europe/Brussels"),
        unique_name,
    )
    es.indices.create(index=batch.ready[0].index, mappings=old)
    try:
        ensure_sensor_template(es, plugin, unique_name)
        outcome = bulk.write(es, batch.ready, RetryPolicy())
        assert (len(outcome.created), outcome.rejected) == (1, [])
    finally:
        es.indices.delete(index=f"{unique_name}-*", ignore_unavailable=True)
        es.indices.delete_index_template(name=naming.template_name("air", unique_name))
