"""Centrale daily consumption through the ingestor's real path: prepare -> _bulk -> after-index hook.

The plugin never touches Elasticsearch itself: the ingestor's `DerivedStore` runs its searches and
writes its derived documents into `<prefix>-centrale-daily`.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from finemeca import naming
from finemeca.retry import RetryPolicy
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
    outcome = bulk.write(es, batch.ready, RetryPolicy())
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
    day19, day20 = daily["30-100-2022-04-19"], daily["30-100-2022-04-20"]
    # Midnight falls 10 of the 30 minutes between 23:50 (1100) and 00:20 (1101): 1100.333333 kWh.
    assert (day19["first_index_kwh"], day19["last_index_kwh"], day19["consumption_kwh"]) == (
        1000.0,
        1100.333333,
        100.333333,
    )
    assert (day19["readings"], day19["complete"], day19["resets"]) == (3, True, 0)
    assert day19["@timestamp"] == "2022-04-18T22:00:00Z"
    assert day19["device_name"] == "centrale-100"
    assert (day20["consumption_kwh"], day20["complete"]) == (0.666667, False)
    assert day19["consumption_kwh"] + day20["consumption_kwh"] == pytest.approx(1101.0 - 1000.0)


def test_the_first_reading_after_midnight_closes_the_day_before(es, prefix):
    ingest(es, prefix, [message("2022-04-19 08:00:00", 1, 1000.0), message("2022-04-19 23:00:00", 2, 1100.0)])
    day19 = daily_docs(es, prefix)["30-100-2022-04-19"]
    assert (day19["last_index_kwh"], day19["complete"]) == (1100.0, False)  # still open
    ingest(es, prefix, [message("2022-04-20 01:00:00", 3, 1120.0)])  # a batch of the next day only
    day19 = daily_docs(es, prefix)["30-100-2022-04-19"]
    assert (day19["last_index_kwh"], day19["consumption_kwh"], day19["complete"]) == (1110.0, 110.0, True)


def test_a_month_adds_up_to_the_meter_difference_across_midnights_and_a_reset(es, prefix):
    """2.5 kWh every hour, read every 5 h 13 min (midnights are straddled), meter swapped mid-month:
    each April day is 60 kWh and the month is 30 x 60, whatever the reading times and batches."""
    rate, step = 2.5, timedelta(hours=5, minutes=13)
    start, end = datetime(2022, 3, 31, 20, 0), datetime(2022, 5, 1, 4, 0)  # local wall clock
    swap = datetime(2022, 4, 14, 9, 0)
    readings, moment, count = [], start, 0
    while moment <= end:
        hours = (moment - start).total_seconds() / 3600
        if moment < swap:
            kwh = 7000.0 + rate * hours
        else:  # the new meter started at 0 when the old one was read for the last time
            last_old = max(m for m in (start + i * step for i in range(1000)) if m < swap)
            kwh = rate * (moment - last_old).total_seconds() / 3600
        count += 1
        readings.append(message(f"{moment:%Y-%m-%d %H:%M:%S}", count, round(kwh, 6)))
        moment += step
    random.Random(7).shuffle(readings)
    for offset in range(0, len(readings), 37):
        ingest(es, prefix, readings[offset : offset + 37])
    daily = daily_docs(es, prefix)
    april = {k: v for k, v in daily.items() if v["day"].startswith("2022-04")}
    assert len(april) == 30
    assert {d: round(v["consumption_kwh"], 4) for d, v in april.items()} == {d: 60.0 for d in april}
    assert sum(v["consumption_kwh"] for v in april.values()) == pytest.approx(30 * 24 * rate)
    assert sum(v["resets"] for v in april.values()) == 1


def test_a_plugin_may_only_write_the_extra_indices_it_declares(es, prefix):
    from ingestor.derived import ElasticsearchDerivedStore

    store = ElasticsearchDerivedStore(es, PLUGIN, prefix)
    with pytest.raises(KeyError, match="does not declare"):
        store.write("centrale-hourly", {"x": {}})
