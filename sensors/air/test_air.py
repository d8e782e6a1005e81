"""air: units normalised to bar, leak = pressure < opening pressure, simulated leaks."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sensors.air import PLUGIN
from sensors.air.payload import AirPayload
from sensors.air.transform import is_leaking
from sensors.simulation import Episode

BRUSSELS = ZoneInfo("Europe/Brussels")
SAMPLE = json.loads((Path(__file__).parent / "sample.json").read_text())


def test_sample_document():
    payload = PLUGIN.parse(SAMPLE)
    doc = PLUGIN.to_document(payload, BRUSSELS)
    assert doc["@timestamp"] == "2022-04-17T21:54:41Z"
    assert (doc["pressure"], doc["opening_pressure"], doc["pressure_unit"]) == (5.12, 5.9, "bar")
    assert doc["leak"] is True
    assert doc["line"] == "line-3" == doc["device_name"]
    assert PLUGIN.document_id(payload) == "air-10-102-20220417T235441-4361"


@pytest.mark.parametrize(
    ("value", "unit", "bar"),
    [(6500, "mbar", 6.5), (650, "kPa", 6.5), (94.27, "psi", 6.4997), (6.5, "bar", 6.5), (6.5, None, 6.5)],
)
def test_pressure_units_normalise_to_bar(value, unit, bar):
    payload = PLUGIN.parse({**SAMPLE, "Pres": value, "Pres-U": unit})
    assert PLUGIN.to_document(payload, BRUSSELS)["pressure"] == pytest.approx(bar, abs=1e-3)


@pytest.mark.parametrize(
    ("pressure", "opening", "leak"),
    [(5.0, 5.5, True), (6.5, 5.5, False), (5.5, 5.5, False), (None, 5.5, None)],
)
def test_leak_rule(pressure, opening, leak):
    assert is_leaking(pressure, opening) is leak


def test_missing_pressure_gives_no_leak_field_but_keeps_the_unit():
    doc = PLUGIN.to_document(PLUGIN.parse({**SAMPLE, "Pres": "NULL"}), BRUSSELS)
    assert "pressure" not in doc and "leak" not in doc
    assert doc["pressure_unit"] == "bar"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"Pres": 1e9}, "outside the plausible range"), ({"Pres-U": "atm"}, "unknown pressure unit 'atm'")],
)
def test_bad_values_are_rejected(change, reason):
    with pytest.raises(ValidationError, match=reason):
        PLUGIN.parse({**SAMPLE, **change})


def test_forced_leak_shows_within_two_messages_then_recovers():
    start = datetime(2022, 4, 17, 8, 0, tzinfo=UTC)
    leak = Episode("10-100", start + timedelta(minutes=10), start + timedelta(minutes=20))
    stream = PLUGIN.simulate(1, seed=2, start=start, leaks=[leak])
    docs = [PLUGIN.to_document(PLUGIN.parse(m.payload), BRUSSELS) for m in itertools.islice(stream, 80)]

    def leaking(minute_from: int, minute_to: int) -> set[bool]:
        return {
            d["leak"]
            for d in docs
            if start + timedelta(minutes=minute_from)
            <= datetime.fromisoformat(d["@timestamp"])
            < start + timedelta(minutes=minute_to)
        }

    assert leaking(0, 10) == {False}
    assert leaking(11, 20) == {True}
    assert leaking(22, 40) == {False}


def test_random_leaks_happen_and_end():
    stream = PLUGIN.simulate(20, seed=5, start=datetime(2022, 4, 17, tzinfo=UTC))
    leaks = [AirPayload.model_validate(m.payload) for m in itertools.islice(stream, 20_000)]
    flags = [(p.pressure_bar or 0) < (p.opening_pressure_bar or 0) for p in leaks]
    assert 0 < sum(flags) < len(flags) * 0.05
