"""centrale: energy index to kWh, power to kW, per-phase power, a simulated index that only counts up."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sensors.centrale import PLUGIN
from sensors.centrale.payload import CentralePayload
from sensors.centrale.simulator import workday_load

BRUSSELS = ZoneInfo("Europe/Brussels")
SAMPLE = json.loads((Path(__file__).parent / "sample.json").read_text())


def test_sample_document_in_kwh_and_kw():
    payload = PLUGIN.parse(SAMPLE)
    doc = PLUGIN.to_document(payload, BRUSSELS)
    assert doc["@timestamp"] == "2022-04-19T08:15:00Z"
    assert doc["energy_index_kwh"] == 57193.613
    assert doc["power_kw"] == 71.086
    assert (doc["power_l1_kw"], doc["power_l2_kw"], doc["power_l3_kw"]) == (24.169, 23.458, 23.459)
    assert PLUGIN.document_id(payload) == "centrale-30-100-20220419T101500-3928"


def test_units_already_canonical_and_optional_phases():
    message = {k: v for k, v in SAMPLE.items() if k not in ("P1", "P2", "P3", "P-U")}
    doc = PLUGIN.to_document(
        PLUGIN.parse({**message, "Index": "1234.5", "Index-U": "kWh", "Power": 2.5, "Power-U": "kW"}),
        BRUSSELS,
    )
    assert (doc["energy_index_kwh"], doc["power_kw"]) == (1234.5, 2.5)
    assert "power_l1_kw" not in doc


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Index": -5}, "Index -0.005 kWh is outside"),
        ({"Power": 1e12}, "Power 1e\\+09 kW is outside"),
        ({"Index-U": "J"}, "unknown energy unit 'J'"),
        ({"P-U": "hp"}, "unknown power unit 'hp'"),
    ],
)
def test_bad_values_are_rejected(change, reason):
    with pytest.raises(ValidationError, match=reason):
        PLUGIN.parse({**SAMPLE, **change})


def test_workday_profile():
    assert workday_load(12.0, weekday=1) == 1.0
    assert workday_load(3.0, weekday=1) == 0.0
    assert workday_load(12.0, weekday=6) == 0.0
    assert 0 < workday_load(7.0, weekday=1) < 1


def test_simulated_index_only_counts_up():
    stream = PLUGIN.simulate(6, seed=1, start=datetime(2022, 4, 18, 4, tzinfo=UTC))
    per_device: dict[str, list[float]] = {}
    for message in itertools.islice(stream, 6 * 600):
        payload = CentralePayload.model_validate(message.payload)
        assert payload.energy_index_kwh is not None
        per_device.setdefault(payload.device_key, []).append(payload.energy_index_kwh)
    for series in per_device.values():
        assert all(b >= a for a, b in itertools.pairwise(series))
        assert series[-1] > series[0]
