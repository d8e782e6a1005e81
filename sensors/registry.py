"""Discovers sensor plugins: every sub-package of `sensors/` that exposes `PLUGIN`."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import sensors
from sensors.base import SensorPlugin


@cache
def available_sensors() -> tuple[str, ...]:
    return tuple(
        sorted(
            m.name for m in pkgutil.iter_modules(sensors.__path__) if m.ispkg and not m.name.startswith("_")
        )
    )


def get_sensor(name: str) -> SensorPlugin:
    if name not in available_sensors():
        raise KeyError(f"unknown sensor {name!r}; known sensors: {', '.join(available_sensors())}")
    module = importlib.import_module(f"sensors.{name}")
    plugin = getattr(module, "PLUGIN", None)
    if not isinstance(plugin, SensorPlugin):
        raise TypeError(f"sensors/{name}/__init__.py must define PLUGIN = <SensorPlugin instance>")
    return plugin
