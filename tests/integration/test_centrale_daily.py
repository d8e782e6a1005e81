"""Centrale daily consumption through the ingestor's real path: prepare -> _bulk -> after-index hook.

The plugin never touches Elasticsearch itself: the ingestor's `DerivedStore` runs its searches and
writes its derived documents into `<prefix>-centrale-daily`.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from finemeca import naming
from ingestor import bulk
from ingestor.derived import run_after_index
from ingestor.indices import ensure_sensor_template
from ingestor.prepare import Incoming, prepare
from sensors.registry import get_sensor

pytestmark = pytest.mark.integration
BRUSSELS = ZoneInfo("Europe/Brussels")
PLUGIN = get_sensor("centrale")


def message(local_time: str, count: int, index_kwh: float, device: int = 100) -> dict[str, object]:
    return {
        "Customer": "finemeca",
        "idGateway": 30,
        "idDevice": device,
        "Device": f"centrale-{device}",
        "Time": local_time,
        "msgCount": count,
        "Mod": "meter",
        "Index": index_kwh,
        "Index-U": "kWh",
        "Power": 12.0,
        "Power-U": "kW",
    }


def ingest(es, prefix: str, messages: list[dict[str, object]]) -> None:
    """One ingestor batch, as `Ingestor.process` runs it (without the queue)."""
    incoming = [Incoming(f"ack-{i}", 0, json.dumps(m).encode(), {}) for i, m in enumerate(messages)]
    batch = prepare(incoming, PLUGIN, BRUSSELS, prefix)
    assert batch.rejected == []
    outcome = bulk.write(es, batch.ready)
    run_after_index(es, PLUGIN, [(p.index, p.document) for p in outcome.created], prefix, BRUSSELS)


def daily_docs(es, prefix: str) -> dict[str, dict]:
    index = naming.extra_index("centrale-daily", prefix)
    es.indices.refresh(index=index)
    return {hit["_id"]: hit["_source"] for hit in es.search(index=index, size=1000)["hits"]["hits"]}


@pytest.fixture
def prefix(es, unique_name):
    ensure_sensor_template(es, PLUGIN, unique_name)
    yield unique_name
    es.indices.delete(index=f"{unique_name}-*", ignore_unavailable=True)
    es.indices.delete_index_template(name=naming.template_name("centrale", unique_name))


def test_after_index_recomputes_daily_docs_out_of_order_and_redelivered(es, prefix):
    messages = [
        message("2022-04-19 00:10:00", 1, 1000.0),  # 18th in UTC, 19th locally
        message("2022-04-19 12:00:00", 2, 1040.5),
        message("2022-04-19 23:50:00", 3, 1100.0),
        message("2022-04-20 00:20:00", 4, 1101.0),  # next local day
    ]
    # Out of order, with a redelivery: two batches, the second one repeating a message.
    ingest(es, prefix, [messages[3], messages[0]])
    ingest(es, prefix, [messages[1], messages[3], messages[2]])
    daily = daily_docs(es, prefix)
    assert set(daily) == {"30-100-2022-04-19", "30-100-2022-04-20"}
    day19 = daily["30-100-2022-04-19"]
    assert (day19["first_index_kwh"], day19["last_index_kwh"], day19["consumption_kwh"]) == (
        1000.0,
        1100.0,
        100.0,
    )
    assert day19["readings"] == 3
    assert day19["@timestamp"] == "2022-04-18T22:00:00Z"
    assert day19["device_name"] == "centrale-100"
    assert daily["30-100-2022-04-20"]["consumption_kwh"] == 0.0


def test_a_plugin_may_only_write_the_extra_indices_it_declares(es, prefix):
    from ingestor.derived import ElasticsearchDerivedStore

    store = ElasticsearchDerivedStore(es, PLUGIN, prefix)
    with pytest.raises(KeyError, match="does not declare"):
        store.write("centrale-hourly", {"x": {}})
