"""The sensor plugins, one line each: sensor name -> module that exposes `PLUGIN`.

Adding a sensor = its folder `sensors/<name>/` + one line here (recipe: sensors/README.md).
A plugin may also live outside this package: any importable module path works.
"""

from __future__ import annotations

import importlib

from sensors.base import SensorPlugin

SENSORS: dict[str, str] = {
    "air": "sensors.air",
    "centrale": "sensors.centrale",
    "devicev01": "sensors.devicev01",
}


def available_sensors() -> tuple[str, ...]:
    return tuple(sorted(SENSORS))


def get_sensor(name: str) -> SensorPlugin:
    if name not in SENSORS:
        raise KeyError(
            f"unknown sensor {name!r}; known sensors: {', '.join(available_sensors())} "
            "(a new sensor needs its line in sensors/registry.py)"
        )
    module = importlib.import_module(SENSORS[name])
    plugin = getattr(module, "PLUGIN", None)
    if not isinstance(plugin, SensorPlugin):
        raise TypeError(f"{SENSORS[name]} must define PLUGIN = <SensorPlugin instance>")
    return plugin


def all_plugins() -> list[SensorPlugin]:
    return [get_sensor(name) for name in available_sensors()]
