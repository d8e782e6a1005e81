"""Daily consumption: order- and redelivery-independent, per local day; recomputed from Elasticsearch."""

from __future__ import annotations

import random
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from elasticsearch import helpers

from finemeca.naming import daily_index, data_index_alias
from sensors.centrale import PLUGIN
from sensors.centrale.consumption import (
    Reading,
    daily_consumption,
    daily_index_name,
    day_start_utc,
    touched_device_days,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = date(2022, 4, 19)


def test_min_max_difference_independent_of_order_and_redelivery():
    readings = [Reading("30-100", DAY, 100.0 + i, f"id-{i}") for i in range(10)]
    shuffled = readings + readings[:4]  # four redelivered
    random.Random(1).shuffle(shuffled)
    expected = {("30-100", DAY): daily_consumption(readings)[("30-100", DAY)]}
    assert daily_consumption(shuffled) == expected
    assert expected[("30-100", DAY)] == {
        "first_index_kwh": 100.0,
        "last_index_kwh": 109.0,
        "consumption_kwh": 9.0,
        "readings": 10,
    }


def test_devices_and_days_are_separate():
    result = daily_consumption(
        [
            Reading("a", DAY, 1.0),
            Reading("a", DAY, 4.0),
            Reading("b", DAY, 7.0),
            Reading("a", date(2022, 4, 20), 9.0),
        ]
    )
    assert result[("a", DAY)]["consumption_kwh"] == 3.0
    assert result[("b", DAY)]["consumption_kwh"] == 0.0
    assert result[("a", date(2022, 4, 20))]["readings"] == 1


def test_local_day_is_the_site_calendar_day():
    # 00:30 Brussels summer time on the 20th is still the 19th in UTC: it belongs to the 20th.
    doc = PLUGIN.to_document(PLUGIN.parse(_message("2022-04-20 00:30:00", 1, 500.0)), BRUSSELS)
    assert doc["@timestamp"] == "2022-04-19T22:30:00Z"
    assert touched_device_days([doc]) == {("30-100", date(2022, 4, 20))}
    assert day_start_utc(date(2022, 3, 27), BRUSSELS).isoformat() == "2022-03-26T23:00:00+00:00"
    assert day_start_utc(date(2022, 3, 28), BRUSSELS).isoformat() == "2022-03-27T22:00:00+00:00"  # 23 h day


def _message(local_time: str, count: int, index_kwh: float) -> dict[str, object]:
    return {
        "Customer": "finemeca",
        "idGateway": 30,
        "idDevice": 100,
        "Device": "centrale-1",
        "Time": local_time,
        "msgCount": count,
        "Mod": "meter",
        "Index": index_kwh,
        "Index-U": "kWh",
        "Power": 12.0,
        "Power-U": "kW",
    }


@pytest.mark.integration
def test_after_index_recomputes_daily_docs_from_elasticsearch(es, unique_name):
    prefix = unique_name
    alias = data_index_alias("centrale", prefix)
    messages = [
        _message("2022-04-19 00:10:00", 1, 1000.0),  # 18th in UTC, 19th locally
        _message("2022-04-19 12:00:00", 2, 1040.5),
        _message("2022-04-19 23:50:00", 3, 1100.0),
        _message("2022-04-20 00:20:00", 4, 1101.0),  # next local day
    ]
    docs = [PLUGIN.to_document(PLUGIN.parse(m), BRUSSELS) for m in messages]
    ids = [PLUGIN.document_id(PLUGIN.parse(m)) for m in messages]
    timestamps = [PLUGIN.timestamp(PLUGIN.parse(m), BRUSSELS) for m in messages]
    for name in {daily_index("centrale", ts, prefix) for ts in timestamps}:
        es.indices.create(index=name, mappings=PLUGIN.index_mappings(), aliases={alias: {}})
    es.indices.create(index=daily_index_name(prefix), mappings=PLUGIN.extra_indices()["centrale-daily"])
    try:
        # Out of order, with a redelivery: indexed in two batches, the second one repeating a message.
        batches = [[3, 0], [1, 3, 2]]
        for batch in batches:
            actions = [
                {"_op_type": "index", "_index": daily_index("centrale", timestamps[i], prefix), "_id": ids[i],
                 "_source": docs[i]}
                for i in batch
            ]  # fmt: skip
            helpers.bulk(es, actions)
            PLUGIN.after_index(es, [docs[i] for i in batch], prefix)
        es.indices.refresh(index=daily_index_name(prefix))
        daily = {
            hit["_id"]: hit["_source"] for hit in es.search(index=daily_index_name(prefix))["hits"]["hits"]
        }
        assert set(daily) == {"30-100-2022-04-19", "30-100-2022-04-20"}
        day19 = daily["30-100-2022-04-19"]
        assert (day19["first_index_kwh"], day19["last_index_kwh"], day19["consumption_kwh"]) == (
            1000.0,
            1100.0,
            100.0,
        )
        assert day19["readings"] == 3
        assert day19["@timestamp"] == "2022-04-18T22:00:00Z"
        assert day19["device_name"] == "centrale-1"
        assert daily["30-100-2022-04-20"]["consumption_kwh"] == 0.0
    finally:
        es.indices.delete(index=f"{prefix}-centrale-*", ignore_unavailable=True)
