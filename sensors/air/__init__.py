"""`air` sensor: compressed-air line pressure vs the valve's opening pressure (leak detection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sensors.air.payload import AirPayload
from sensors.air.simulator import AirSimulator
from sensors.air.transform import measurements
from sensors.fields import FamilySensor


class AirSensor(FamilySensor):
    name = "air"
    payload_model = AirPayload
    folder = Path(__file__).parent
    simulator = AirSimulator

    def measurements(self, payload: AirPayload) -> dict[str, Any]:
        return measurements(payload)


PLUGIN = AirSensor()
