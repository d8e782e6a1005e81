"""A known week (2026-W47, Europe/Brussels) loaded into the real Elasticsearch through the ingestor's own
prepare -> bulk -> after-index path, and the figures of the weekly report computed by hand from it.

Readings every 10 minutes per air line (REPORT_AIR_INTERVAL_S=600), one meter reading per 15 minutes.
- line-1 (10-101): leaks Tue 17 10:00 -> 12:30 (2 h 30) and Sat 21 23:00 -> Sun 22 01:10 (across midnight,
  2 h 10); previous week Wed 11 08:00 -> 09:00 (1 h). Flow from the DOE 1/8 in orifice (estimated).
- line-2 (10-102): leaks from Sun 22 20:00, still open at week end (4 h); measured flow 0.5 m³/min.
- line-3 (10-103): never leaks, silent from Fri 20 12:00 (last reading 11:50).
- centrale-100 (30-100): 8 kW all previous week; this week day i (Mon = 0) at 10 + i kW.
- another customer's leaking line, and dead letters of ours and of theirs (only ours count).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk as es_bulk

from finemeca import naming
from finemeca.deadletter import DEADLETTER_MAPPINGS
from finemeca.es import ensure_index
from finemeca.retry import RetryPolicy
from ingestor import bulk
from ingestor.derived import run_after_index
from ingestor.indices import ensure_sensor_template
from ingestor.prepare import Incoming, prepare
from report.costs import ReportConfig
from report.settings import ReportSettings
from sensors.registry import get_sensor

BRUSSELS = ZoneInfo("Europe/Brussels")
WEEK = "2026-W47"
PREVIOUS_MONDAY = datetime(2026, 11, 9, tzinfo=BRUSSELS)
MONDAY = datetime(2026, 11, 16, tzinfo=BRUSSELS)
NEXT_MONDAY = datetime(2026, 11, 23, tzinfo=BRUSSELS)
AIR_STEP = timedelta(minutes=10)
METER_STEP = timedelta(minutes=15)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local time in November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BRUSSELS)


LEAKS = {  # device id -> [start, end) local, end None = still open
    101: [(at(11, 8), at(11, 9)), (at(17, 10), at(17, 12, 30)), (at(21, 23), at(22, 1, 10))],
    102: [(at(22, 20), None)],
    103: [],
}
SILENT_FROM = {103: at(20, 12)}


def leaking(device: int, moment: datetime) -> bool:
    return any(start <= moment and (end is None or moment < end) for start, end in LEAKS.get(device, []))


def air_message(customer: str, device: int, moment: datetime, count: int) -> dict[str, object]:
    return {
        "Customer": customer,
        "idGateway": 10,
        "idDevice": device,
        "Device": f"line-{device - 100}",
        "Time": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "msgCount": count,
        "Mod": "air",
        "Pres": 5.1 if leaking(device, moment) else 6.4,
        "Pres-U": "bar",
        "PresOpen": 5.9,
        "PresOpen-U": "bar",
    }


def meter_kw(moment: datetime) -> float:
    return 8.0 if moment < MONDAY else 10.0 + (moment.date() - MONDAY.date()).days


def meter_messages(customer: str) -> list[dict[str, object]]:
    out, index, moment, count = [], 1000.0, PREVIOUS_MONDAY, 0
    while moment <= NEXT_MONDAY:
        out.append(
            {
                "Customer": customer,
                "idGateway": 30,
                "idDevice": 100,
                "Device": "centrale-100",
                "Time": moment.strftime("%Y-%m-%d %H:%M:%S"),
                "msgCount": count,
                "Mod": "meter",
                "Index": round(index, 6),
                "Index-U": "kWh",
                "Power": meter_kw(moment),
                "Power-U": "kW",
            }
        )
        index += meter_kw(moment) * 0.25  # energy of the next quarter hour at this power
        moment, count = (moment.astimezone(UTC) + METER_STEP).astimezone(BRUSSELS), count + 1
    return out


def air_messages(customer: str) -> list[dict[str, object]]:
    out = []
    for device in LEAKS:
        moment, count = PREVIOUS_MONDAY, 0
        while moment < NEXT_MONDAY and moment < SILENT_FROM.get(device, NEXT_MONDAY):
            out.append(air_message(customer, device, moment, count))
            moment, count = moment + AIR_STEP, count + 1
    return out


def ingest(es: Elasticsearch, sensor: str, prefix: str, messages: list[dict[str, object]]) -> None:
    """Ingestor batches as `Ingestor.process` runs them (without the queue)."""
    plugin = get_sensor(sensor)
    for first in range(0, len(messages), 2000):
        chunk = messages[first : first + 2000]
        incoming = [Incoming(f"ack-{i}", 0, json.dumps(m).encode(), {}) for i, m in enumerate(chunk)]
        batch = prepare(incoming, plugin, BRUSSELS, prefix)
        assert batch.rejected == []
        outcome = bulk.write(es, batch.ready, RetryPolicy())
        run_after_index(es, plugin, [(p.index, p.document) for p in outcome.created], prefix, BRUSSELS)


def dead_letters(es: Elasticsearch, prefix: str) -> None:
    index = naming.deadletter_index(prefix)
    ensure_index(es, index, DEADLETTER_MAPPINGS)
    rows = [
        (at(17, 9), "10-101", "invalid JSON"),
        (at(18, 9), "10-101", "invalid JSON"),
        (at(19, 9), "10-102", "Pres out of range"),
        (at(12, 9), "10-101", "invalid JSON"),  # previous week
        (at(18, 9), "99-1", "invalid JSON"),  # another customer's device
    ]
    es_bulk(
        es,
        (
            {
                "_index": index,
                "@timestamp": moment.isoformat(),
                "sensor": "air",
                "stage": "validate",
                "reason": reason,
                "device_key": key,
            }
            for moment, key, reason in rows
        ),
        refresh="wait_for",
    )


@dataclass
class KnownWeek:
    prefix: str
    customer: str
    settings: ReportSettings
    config: ReportConfig


@pytest.fixture(scope="module")
def known_week(es: Elasticsearch) -> Iterator[KnownWeek]:
    prefix = f"test-report-{datetime.now(UTC):%H%M%S%f}"
    customer = f"{prefix}-customer"
    for sensor in ("air", "centrale"):
        ensure_sensor_template(es, get_sensor(sensor), prefix)
    ingest(es, "air", prefix, air_messages(customer))
    other = [
        air_message("someone-else", 101, at(18, h), h) for h in range(24)
    ]  # 101 does not leak on the 18th
    other += [
        {**air_message("someone-else", 101, at(18, h), 100 + h), "Pres": 1.0} for h in range(2, 4)
    ]  # leaks
    ingest(es, "air", prefix, other)
    ingest(es, "centrale", prefix, meter_messages(customer))
    dead_letters(es, prefix)
    es.indices.refresh(index=f"{prefix}-*")
    config = ReportConfig.model_validate(
        {
            "customers": {
                customer: {
                    "recipients": ["Plant manager <plant@customer.example>"],
                    "timezone": "Europe/Brussels",
                    "sites": {
                        "main": {
                            "specific_energy_kwh_per_m3": 0.12,
                            "energy_price_per_kwh": 0.25,
                            "lines": {
                                "line-1": {"orifice": "1/8"},
                                "line-2": {"leak_flow_m3_per_min": 0.5, "flow_source": "measured"},
                            },
                        }
                    },
                }
            }
        }
    )
    settings = ReportSettings(index_prefix=prefix, air_interval_s=600, centrale_interval_s=900)
    yield KnownWeek(prefix, customer, settings, config)
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
    for sensor in ("air", "centrale"):
        es.options(ignore_status=404).indices.delete_index_template(name=naming.template_name(sensor, prefix))
