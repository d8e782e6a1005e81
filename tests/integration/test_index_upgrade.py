"""A field added to a sensor's strict mapping reaches the daily indices that already exist."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
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


def test_a_changed_refresh_interval_reaches_the_daily_indices_that_already_exist(es, unique_name):
    plugin = get_sensor("air")
    index = naming.daily_index("air", datetime(2026, 11, 23, tzinfo=UTC), unique_name)
    try:
        ensure_sensor_template(es, plugin, unique_name, refresh_interval="1s")
        es.indices.create(index=index)  # made from the template: 1s
        ensure_sensor_template(es, plugin, unique_name, refresh_interval="500ms")
        settings = es.indices.get_settings(index=index, name="index.refresh_interval")
        assert settings[index]["settings"]["index"]["refresh_interval"] == "500ms"
    finally:
        es.indices.delete(index=f"{unique_name}-*", ignore_unavailable=True)
        es.indices.delete_index_template(name=naming.template_name("air", unique_name))
