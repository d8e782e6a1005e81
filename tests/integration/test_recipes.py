"""The two recipes, followed to the letter on throwaway code (sensors/README.md, alerts/README.md).

A `thermo` sensor package and a `flatline` rule kind are written to a temp dir on sys.path and
registered with one line each, exactly as the recipes say. Then: the ingestor prepares and indexes
the sensor's messages into real Elasticsearch, the Kibana build draws its panels (kibana/ untouched),
and the rule kind validates from YAML and evaluates over the indexed readings.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts import rule_kinds
from alerts.lifecycle import Verdict
from alerts.rule_kinds import kind_for
from alerts.rule_kinds.base import Window
from alerts.rules import load_rule_file
from finemeca import naming
from finemeca.retry import RetryPolicy
from ingestor import bulk
from ingestor.indices import ensure_sensor_template
from ingestor.prepare import Incoming, prepare
from kibana.dashboards import all_objects
from kibana.validate import validate_objects
from sensors import registry

pytestmark = pytest.mark.integration
BRUSSELS = ZoneInfo("Europe/Brussels")
AIR_ONLY_FIELDS = {"pressure", "opening_pressure", "pressure_unit", "leak", "line"}

SENSOR_FILES = {
    "__init__.py": '''
        """`thermo`: a throwaway family sensor (temperature only)."""
        from pathlib import Path
        from typing import Any

        from pydantic import Field

        from sensors.fields import FamilyPayload, FamilySensor, OptionalFloat
        from sensors.simulation import FamilySimulator, SimulatedDevice


        class ThermoPayload(FamilyPayload):
            temperature: OptionalFloat = Field(None, alias="Temp")


        class ThermoSimulator(FamilySimulator):
            sensor = "thermo"
            mod = "thermo"
            gateway_base = 240

            def init_state(self, device: SimulatedDevice) -> None:
                device.state["t"] = 20.0

            def values(self, device: SimulatedDevice, moment: Any) -> dict[str, Any]:
                return {"Temp": device.state["t"]}


        class ThermoSensor(FamilySensor):
            name = "thermo"
            payload_model = ThermoPayload
            folder = Path(__file__).parent
            simulator = ThermoSimulator

            def measurements(self, payload: ThermoPayload) -> dict[str, Any]:
                return {"temperature": payload.temperature}


        PLUGIN = ThermoSensor()
    ''',
    "dashboard.yml": """
        description: "Thermometers."
        rows:
          - - title: "Thermo: temperature"
              chart: xy
              w: 48
              layers:
                - columns:
                    - {key: time, op: date_histogram}
                    - {key: device, op: terms, field: device_name, size: 20, label: Device}
                    - {key: temperature, op: average, field: temperature, label: Temperature (°C)}
    """,
}

KIND_MODULE = '''
    """`flatline`: a throwaway rule kind, a sensor stuck on one value over the window."""
    from typing import ClassVar, Literal

    from pydantic import Field

    from alerts.lifecycle import Observation, Verdict
    from alerts.rule_kinds.base import DeviceObservations, Window, device_buckets, time_filter
    from alerts.rules import RuleBase


    class FlatlineRule(RuleBase):
        kind: Literal["flatline"]
        field: str
        min_readings: int = Field(default=3, ge=2)


    class FlatlineKind:
        rule_model: ClassVar[type[FlatlineRule]] = FlatlineRule
        missing_means_breach: ClassVar[bool] = False

        def observations(self, window: Window) -> DeviceObservations:
            rule = window.rule
            assert isinstance(rule, FlatlineRule)
            aggs = {"low": {"min": {"field": rule.field}}, "high": {"max": {"field": rule.field}}}
            query = time_filter(rule, window.start, window.end)
            for bucket in device_buckets(window.es, window.index, query, aggs, window.page_size):
                flat = bucket["doc_count"] >= rule.min_readings and bucket["low"]["value"] == bucket["high"]["value"]
                verdict = Verdict.BREACH if flat else Verdict.OK
                values = {"readings": bucket["doc_count"], "value": bucket["low"]["value"]}
                yield bucket["key"]["device_key"], [Observation(at=window.end, verdict=verdict, values=values)]


    KIND = FlatlineKind()
'''


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recipes: a sensor folder + its registry line, a kind module + its registry line."""
    folder = tmp_path / "thermo_probe"
    folder.mkdir()
    for name, text in SENSOR_FILES.items():
        (folder / name).write_text(textwrap.dedent(text))
    air = json.loads((registry.get_sensor("air").folder / "mapping.json").read_text())  # copy a sibling's
    air["properties"] = {k: v for k, v in air["properties"].items() if k not in AIR_ONLY_FIELDS}
    air["properties"]["temperature"] = {"type": "float"}
    (folder / "mapping.json").write_text(json.dumps(air))
    (tmp_path / "flatline_kind.py").write_text(textwrap.dedent(KIND_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.SENSORS, "thermo", "thermo_probe")  # the sensor's registry line
    monkeypatch.setitem(rule_kinds.KINDS, "flatline", "flatline_kind")  # the kind's registry line
    return tmp_path


def message(device: int, minute: int, temperature: float) -> bytes:
    moment = datetime(2026, 3, 2, 10, minute)
    return json.dumps(
        {
            "Customer": "acme",
            "idGateway": 240,
            "idDevice": device,
            "Device": f"probe-{device}",
            "Time": f"{moment:%Y-%m-%d %H:%M:%S}",
            "msgCount": minute,
            "Temp": temperature,
        }
    ).encode()


def test_a_recipe_sensor_is_ingested_and_drawn_without_touching_kibana(throwaway, es, unique_name):
    plugin = registry.get_sensor("thermo")
    assert "thermo" in registry.available_sensors()

    # Ingestor: the prepare path and indexing into the sensor's daily index.
    batch = prepare([Incoming("1", 0, message(1, 0, 21.5), {})], plugin, BRUSSELS, unique_name)
    assert batch.rejected == []
    assert batch.ready[0].index == f"{unique_name}-thermo-data-2026.03.02"
    assert batch.ready[0].document["temperature"] == 21.5

    # Kibana: the build draws its panels, checked against the plugin's own mapping.
    objects = all_objects()
    titles = {(o["type"], o["attributes"]["title"]) for o in objects}
    assert ("dashboard", "Finemeca: thermo") in titles
    assert ("lens", "Thermo: temperature") in titles
    assert ("index-pattern", "finemeca-thermo-data*") in titles
    board = next(o for o in objects if o["attributes"]["title"] == "Finemeca: thermo")
    lens = next(o for o in objects if o["attributes"]["title"] == "Thermo: temperature")
    assert [r["id"] for r in board["references"]] == [lens["id"]]
    assert validate_objects(objects) == []


def test_a_recipe_rule_kind_validates_and_evaluates(throwaway, es, unique_name, tmp_path):
    plugin = registry.get_sensor("thermo")
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "rules:\n"
        "  - {name: thermo-stuck, kind: flatline, sensor: thermo, field: temperature}\n"
        "  - {name: thermo-broken, kind: flatline, sensor: thermo, field: temperature, min_readings: 1}\n"
    )
    loaded = load_rule_file(rules)
    assert [rule.name for rule in loaded.rules] == ["thermo-stuck"]
    assert type(loaded.rules[0]).__name__ == "FlatlineRule"
    assert [(p.rule, p.field) for p in loaded.problems] == [("#2 'thermo-broken'", "min_readings")]

    ensure_sensor_template(es, plugin, unique_name)
    try:
        incoming = [Incoming(str(m), 0, message(1, m, 19.0), {}) for m in range(4)]  # stuck
        incoming += [Incoming(f"b{m}", 0, message(2, m, 19.0 + m), {}) for m in range(4)]  # alive
        batch = prepare(incoming, plugin, BRUSSELS, unique_name)
        assert len(bulk.write(es, batch.ready, RetryPolicy()).created) == 8
        es.indices.refresh(index=naming.data_index_alias("thermo", unique_name))
        rule = loaded.rules[0]
        start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        window = Window(
            es, rule, naming.data_index_alias("thermo", unique_name), start, start + timedelta(hours=2)
        )
        verdicts = {key: [o.verdict for o in obs] for key, obs in kind_for(rule).observations(window)}
        assert verdicts == {"240-1": [Verdict.BREACH], "240-2": [Verdict.OK]}
    finally:
        es.indices.delete(index=f"{unique_name}-thermo-*", ignore_unavailable=True)
        es.indices.delete_index_template(name=naming.template_name("thermo", unique_name))
