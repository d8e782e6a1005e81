"""Proven on data: a known scenario in the real Elasticsearch, and every panel's request (its Lens state
translated by kibana/lens_query.py) read back as the operator would, against figures computed here
independently of the pipeline.

Scenario (UTC+1, Europe/Brussels winter time): air line-1 leaking now, line-10 with one short dip,
line-2 missing two messages, an hour of air outage; alert states/history with a leak, a silent device
and other rules' events; 22 meters (> 20) on two sites, read every 7 h (midnights straddled), one meter
swapped mid-month; two weather devices; dead letters of two stages; queue-depth samples of two sensors'
data queues and DLQs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from finemeca import naming
from finemeca.deadletter import DEADLETTER_MAPPINGS
from finemeca.queue_stats import QueueStats, depth_document
from finemeca.retry import RetryPolicy
from ingestor import bulk
from ingestor.derived import run_after_index
from ingestor.indices import ensure_queue_depth_template, ensure_sensor_template
from ingestor.prepare import Incoming, prepare
from kibana.dashboards import all_objects
from kibana.lens_query import Row, run_panel
from sensors.registry import get_sensor

pytestmark = pytest.mark.integration
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
AIR_START = NOW - timedelta(hours=4)
MONTH = (datetime(2026, 2, 1, tzinfo=BRUSSELS), datetime(2026, 3, 1, tzinfo=BRUSSELS))
METERS = 22
LAG_MS = 1500
SWAPPED = 5  # meter index swapped on Feb 15
OBJECTS = all_objects()
LENSES = [o for o in OBJECTS if o["type"] == "lens"]
ALERTS_MAPPINGS = Path(__file__).resolve().parents[2] / "alerts" / "mappings"


def local(moment: datetime) -> str:
    return f"{moment.astimezone(BRUSSELS):%Y-%m-%d %H:%M:%S}"


def rate_of(meter: int) -> float:
    return float(meter + 1)  # kWh per hour


# ---- the scenario ----------------------------------------------------------------------------------


def air_messages() -> list[dict[str, Any]]:
    messages = []
    lines = {101: "line-1", 102: "line-2", 110: "line-10"}
    for device, name in lines.items():
        moment, count = AIR_START, 0
        while moment < NOW:
            in_outage = NOW - timedelta(hours=3) <= moment < NOW - timedelta(hours=2)  # devices off
            count += 0 if in_outage else 1
            skipped = device == 102 and count in (5, 6)  # two messages lost on the radio
            if not in_outage and not skipped:
                pressure = 6.4
                if device == 101 and moment >= NOW - timedelta(minutes=15):
                    pressure = 5.1  # leaking now
                if device == 110 and moment == NOW - timedelta(hours=1):
                    pressure = 5.5  # one short dip below the opening pressure
                messages.append(
                    {
                        "Customer": "acme",
                        "idGateway": 10,
                        "idDevice": device,
                        "Device": name,
                        "Time": local(moment),
                        "msgCount": count,
                        "RSSI": -80,
                        "SNR": 7,
                        "Mod": "air",
                        "Pres": pressure,
                        "Pres-U": "bar",
                        "PresOpen": 5.8,
                        "PresOpen-U": "bar",
                    }
                )
            moment += timedelta(minutes=5)
    return messages


def centrale_messages() -> list[dict[str, Any]]:
    messages = []
    start, step = datetime(2026, 1, 31, 20, 0, tzinfo=BRUSSELS).astimezone(UTC), timedelta(hours=7)
    swap = datetime(2026, 2, 15, 9, 0, tzinfo=UTC)
    for meter in range(METERS):
        moment, count, last_old = start, 0, start
        while moment <= NOW:
            hours = (moment - start).total_seconds() / 3600
            if meter == SWAPPED and moment >= swap:  # new meter from 0 at the old one's last reading
                kwh = rate_of(meter) * (moment - last_old).total_seconds() / 3600
            else:
                kwh, last_old = 10_000.0 + rate_of(meter) * hours, moment
            count += 1
            messages.append(
                {
                    "Customer": "acme" if meter < 12 else "globex",
                    "idGateway": 30,
                    "idDevice": 100 + meter,
                    "Device": f"meter-{meter + 1:02d}",
                    "Time": local(moment),
                    "msgCount": count,
                    "Mod": "meter",
                    "Index": round(kwh, 6),
                    "Index-U": "kWh",
                    "Power": rate_of(meter),
                    "Power-U": "kW",
                    "P1": 1.0,
                    "P2": 2.0,
                    "P3": 3.0,
                    "P-U": "kW",
                }
            )
            moment += step
    return messages


def devicev01_messages() -> list[dict[str, Any]]:
    readings = [(100, "roof", NOW - timedelta(hours=3), 4.0), (100, "roof", NOW - timedelta(hours=1), 9.5)]
    readings += [
        (101, "cellar", NOW - timedelta(hours=2), 14.0),
        (101, "cellar", NOW - timedelta(minutes=30), 13.0),
    ]
    return [
        {
            "Customer": "acme",
            "idGateway": 170,
            "idDevice": device,
            "Device": name,
            "Time": local(moment),
            "msgCount": i,
            "Mod": "weath",
            "Temp": temperature,
            "Temp-U": "C",
            "Hum": 50.0 + i,
            "Hum-U": "%",
            "Pres": 1010.0,
            "Pres-U": "hPa",
        }
        for i, (device, name, moment, temperature) in enumerate(readings, start=1)
    ]


ALERT_STATES = [
    {"rule": "air-leak", "device_key": "10-101", "status": "firing", "fired_at": "2026-03-10T11:50:00Z",
     "updated_at": "2026-03-10T11:59:00Z", "context": {"line": "line-1", "customer": "acme"}},
    {"rule": "air-leak", "device_key": "10-102", "status": "ok", "updated_at": "2026-03-10T11:59:00Z",
     "context": {"line": "line-2", "customer": "acme"}},
    {"rule": "air-silent", "device_key": "10-103", "status": "firing", "fired_at": "2026-03-10T09:00:00Z",
     "updated_at": "2026-03-10T11:59:00Z", "context": {"line": "line-3", "device_name": "line-3"}},
    {"rule": "air-radio-losses", "device_key": "10-102", "status": "firing", "fired_at": "2026-03-10T10:00:00Z",
     "updated_at": "2026-03-10T11:59:00Z", "context": {"line": "line-2", "device_name": "line-2"}},
]  # fmt: skip
HISTORY = [
    ("air-leak", "fired", "line-1", "2026-03-10T09:10:00Z"),
    ("air-leak", "resolved", "line-1", "2026-03-10T09:40:00Z"),
    ("air-leak", "fired", "line-1", "2026-03-10T11:50:00Z"),
    ("air-silent", "fired", "line-3", "2026-03-10T09:00:00Z"),
    ("air-radio-losses", "fired", "line-2", "2026-03-10T10:00:00Z"),
]
DEAD_LETTERS = [("air", "validate", "Time: not a date")] * 3 + [
    ("centrale", "index", "mapper_parsing_exception")
]

QUEUE_SAMPLES = [  # (sensor, kind, minutes before NOW, depth)
    ("air", "data", 230, 40),
    ("air", "data", 200, 1200),  # the ingestor fell behind in the first hour
    ("air", "data", 130, 0),
    ("centrale", "data", 230, 5),
    ("air", "dlq", 230, 2),
    ("air", "dlq", 70, 9),
    ("centrale", "dlq", 70, 1),
]


def queue_samples(prefix: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    for sensor, kind, minutes, depth in QUEUE_SAMPLES:
        at = NOW - timedelta(minutes=minutes)
        name = naming.data_queue(sensor).removeprefix("/queue/")
        stats = QueueStats(f"DLQ.{name}" if kind == "dlq" else name, depth, depth, 0, 1)
        body += [
            {"index": {"_index": naming.queue_depth_index(at, prefix)}},
            depth_document(stats, sensor, kind, at),
        ]
    return body


def ingest(es: Any, prefix: str, sensor: str, messages: list[dict[str, Any]], batch: int = 400) -> None:
    plugin = get_sensor(sensor)
    for offset in range(0, len(messages), batch):
        chunk = messages[offset : offset + batch]
        received = str(int(datetime.now(UTC).timestamp() * 1000) - LAG_MS)  # the gateway got it 1.5 s ago
        headers = {naming.HEADER_RECEIVED_AT: received}
        incoming = [Incoming(str(i), 0, json.dumps(m).encode(), headers) for i, m in enumerate(chunk)]
        prepared = prepare(incoming, plugin, BRUSSELS, prefix)
        assert prepared.rejected == []
        outcome = bulk.write(es, prepared.ready, RetryPolicy())
        run_after_index(es, plugin, [(p.index, p.document) for p in outcome.created], prefix, BRUSSELS)


@pytest.fixture(scope="module")
def scenario(es) -> Iterator[str]:
    prefix = f"test-scenario-{datetime.now(UTC):%H%M%S%f}"
    for sensor, messages in (
        ("air", air_messages()),
        ("centrale", centrale_messages()),
        ("devicev01", devicev01_messages()),
    ):
        ensure_sensor_template(es, get_sensor(sensor), prefix)
        ingest(es, prefix, sensor, messages)
    es.indices.create(
        index=f"{prefix}-alerts-state", mappings=json.loads((ALERTS_MAPPINGS / "state.json").read_text())
    )
    es.indices.create(
        index=f"{prefix}-alerts-history", mappings=json.loads((ALERTS_MAPPINGS / "history.json").read_text())
    )
    es.indices.create(index=f"{prefix}-deadletters", mappings=DEADLETTER_MAPPINGS)
    ensure_queue_depth_template(es, prefix)
    operations = [{"index": {"_index": f"{prefix}-alerts-state"}} | {} for _ in ALERT_STATES]
    body: list[dict[str, Any]] = []
    for op, doc in zip(operations, ALERT_STATES, strict=True):
        body += [op, {"doc_type": "state", **doc}]
    for rule, kind, line, at in HISTORY:
        body += [
            {"index": {"_index": f"{prefix}-alerts-history"}},
            {"@timestamp": at, "rule": rule, "kind": kind, "sensor": "air", "line": line},
        ]
    for sensor, stage, reason in DEAD_LETTERS:
        body += [
            {"index": {"_index": f"{prefix}-deadletters"}},
            {"@timestamp": "2026-03-10T11:00:00Z", "sensor": sensor, "stage": stage, "reason": reason},
        ]
    body += queue_samples(prefix)
    es.bulk(operations=body, refresh=True)
    es.indices.refresh(index=f"{prefix}-*")
    yield prefix
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
    for sensor in ("air", "centrale", "devicev01"):
        es.indices.delete_index_template(name=naming.template_name(sensor, prefix))
    es.indices.delete_index_template(name=naming.queue_depth_template(prefix))


def index_of(prefix: str):
    views = {o["id"]: o["attributes"] for o in OBJECTS if o["type"] == "index-pattern"}

    def lookup(view_id: str) -> tuple[str, str | None]:
        view = views[view_id]
        return view["title"].replace(f"{naming.DEFAULT_PREFIX}-", f"{prefix}-", 1), view.get("timeFieldName")

    return lookup


def rows(es: Any, prefix: str, title: str, start: datetime, end: datetime, interval: str = "1h") -> list[Row]:
    lens = next(o for o in LENSES if o["attributes"]["title"] == title)
    layers = run_panel(es, lens, index_of(prefix), start, end, interval, tz="Europe/Brussels")
    return [row for layer_rows in layers.values() for row in layer_rows]


# ---- every panel answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("lens", LENSES, ids=lambda o: o["attributes"]["title"])
def test_every_panel_draws_something_on_the_scenario(es, scenario, lens):
    start, end = (MONTH[0], NOW) if lens["attributes"]["title"].startswith("Centrale") else (AIR_START, NOW)
    layers = run_panel(es, lens, index_of(scenario), start, end, "1h", tz="Europe/Brussels")
    shown = [row for layer_rows in layers.values() for row in layer_rows]
    assert shown, "the panel would be empty on the scenario"
    metrics = [
        v for row in shown for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    assert metrics or any(isinstance(v, (str, bool)) for row in shown for v in row.values())


# ---- the figures an operator reads ------------------------------------------------------------------


def test_air_one_line_leaking_now_and_its_open_leak(es, scenario):
    assert rows(es, scenario, "Air: lines leaking now", AIR_START, NOW) == [{"Lines leaking now": 1}]
    assert rows(es, scenario, "Air: open leaks", AIR_START, NOW) == [
        {"Line": "line-1", "Leaking since": "2026-03-10T11:50:00.000Z", "Customer": "acme"}
    ]


def test_air_current_state_puts_the_leak_first_and_the_dip_is_not_averaged_away(es, scenario):
    state = rows(es, scenario, "Air: current state per line", AIR_START, NOW)
    assert (state[0]["Line"], state[0]["Leak"]) == ("line-1", True)
    assert round(state[0]["Lowest margin (bar)"], 3) == round(5.1 - 5.8, 3)
    margin = rows(es, scenario, "Air: pressure margin above opening pressure per line", AIR_START, NOW)
    dips = {r["Line"] for r in margin if r["Margin (bar)"] is not None and r["Margin (bar)"] < 0}
    assert dips == {"line-1", "line-10"}  # line-10's one low reading in an hour of normal ones


def test_air_leak_events_count_the_leak_rule_only(es, scenario):
    events = rows(es, scenario, "Air: leak events", AIR_START, NOW)
    assert sum(r["Leak events"] for r in events) == 2  # not the silent and radio-loss events
    history = rows(es, scenario, "Air: leak history per line", AIR_START, NOW)
    assert [(r["Line"], r["Leaks"]) for r in history] == [("line-1", 2)]


def test_centrale_days_include_every_meter_and_the_night(es, scenario):
    day = datetime(2026, 2, 10, tzinfo=BRUSSELS)
    bars = rows(es, scenario, "Centrale: daily consumption", day, day + timedelta(days=1), "1d")
    assert len(bars) == 21  # top 20 meters + Other
    total = sum(r["Consumption (kWh)"] for r in bars)
    assert total == pytest.approx(24 * sum(rate_of(m) for m in range(METERS)), abs=1e-3)
    top = max(bars, key=lambda r: r["Consumption (kWh)"])
    assert (top["Meter"], round(top["Consumption (kWh)"], 3)) == (
        f"meter-{METERS:02d}",
        24 * rate_of(METERS - 1),
    )


def test_centrale_month_equals_the_meter_difference_and_sites_add_up(es, scenario):
    month = rows(es, scenario, "Centrale: monthly consumption per meter", MONTH[0], MONTH[1], "1M")
    by_meter = {r["Meter"]: r for r in month}
    first = by_meter["meter-01"]
    assert first["Consumption (kWh)"] == pytest.approx(28 * 24 * rate_of(0), abs=1e-3)
    assert first["Consumption (kWh)"] == pytest.approx(
        first["Index at the month's end (kWh)"] - first["Index at the month's start (kWh)"], abs=1e-3
    )
    swapped = by_meter[f"meter-{SWAPPED + 1:02d}"]  # reset mid-month: still the energy used
    assert swapped["Consumption (kWh)"] == pytest.approx(28 * 24 * rate_of(SWAPPED), abs=1e-3)
    sites = {r["Site"]: r["Consumption (kWh)"] for r in rows(es, scenario, "Centrale: kWh per site", *MONTH)}
    assert sites["acme"] == pytest.approx(28 * 24 * sum(rate_of(m) for m in range(12)), abs=1e-2)
    assert sites["globex"] == pytest.approx(28 * 24 * sum(rate_of(m) for m in range(12, METERS)), abs=1e-2)


def test_devicev01_latest_values_and_daily_extremes(es, scenario):
    latest = {
        r["Device"]: r for r in rows(es, scenario, "Devicev01: latest values per device", AIR_START, NOW)
    }
    assert (latest["roof"]["Temperature (°C)"], latest["cellar"]["Temperature (°C)"]) == (9.5, 13.0)
    daily = {r["Device"]: r for r in rows(es, scenario, "Devicev01: min/max per day", AIR_START, NOW, "1d")}
    assert (daily["roof"]["Min temperature (°C)"], daily["roof"]["Max temperature (°C)"]) == (4.0, 9.5)


def test_operations_rate_is_per_minute_with_the_outage_at_zero(es, scenario):
    rate = rows(es, scenario, "Operations: messages per minute per sensor", AIR_START, NOW)
    air = [r["air"] for r in rate if "air" in r]
    assert air[0] == pytest.approx((3 * 12 - 2) / 60)  # 3 lines x 12 readings, 2 lost, in the first hour
    assert 0 in air  # the hour of outage reads 0, not a line bridging it


def test_operations_radio_table_silent_devices_and_dead_letters(es, scenario):
    radio = rows(es, scenario, "Operations: radio and msgCount gaps: air", AIR_START, NOW)
    assert [(r["Device"], r["Missing messages"]) for r in radio] == [
        ("line-2", 2),
        ("line-1", 0),
        ("line-10", 0),
    ]
    silent = rows(es, scenario, "Operations: silent devices", AIR_START, NOW)
    assert [(r["Device"], r["Rule"]) for r in silent] == [("line-3", "air-silent")]
    dead = rows(es, scenario, "Operations: dead-lettered per sensor", AIR_START, NOW)
    assert {(r["Sensor"], r["Stage"], r["Reason"], r["Dead-lettered"]) for r in dead} == {
        ("air", "validate", "Time: not a date", 3),
        ("centrale", "index", "mapper_parsing_exception", 1),
    }


def test_operations_per_gateway(es, scenario):
    gateways = rows(es, scenario, "Operations: per gateway: air", AIR_START, NOW)
    assert [(r["Gateway"], r["Messages"], r["Devices"]) for r in gateways] == [(10, len(air_messages()), 3)]
    assert gateways[0]["Max lag (ms)"] >= LAG_MS


def test_operations_ingestion_lag(es, scenario):
    lag = [
        r["air (max ms)"]
        for r in rows(es, scenario, "Operations: ingestion lag", AIR_START, NOW)
        if r.get("air (max ms)")
    ]
    assert lag and all(LAG_MS <= value < LAG_MS + 60_000 for value in lag)


def test_operations_queue_depth_per_sensor_and_dlq_depth(es, scenario):
    data = rows(es, scenario, "Operations: queue depth per sensor", AIR_START, NOW)
    first_hour = {
        r["Sensor"]: r["Messages waiting (max)"] for r in data if r["@timestamp"] == data[0]["@timestamp"]
    }
    assert first_hour == {"air": 1200, "centrale": 5}  # the peak of the hour, per sensor
    assert max(r["Messages waiting (max)"] or 0 for r in data) == 1200  # no DLQ sample among them
    dlq = rows(es, scenario, "Operations: dead-letter queue depth per sensor", AIR_START, NOW)
    shown = {
        (r["Sensor"], r["Messages waiting (max)"]) for r in dlq if r["Messages waiting (max)"] is not None
    }
    assert shown == {("air", 2), ("air", 9), ("centrale", 1)}
