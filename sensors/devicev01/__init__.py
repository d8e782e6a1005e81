"""`devicev01` sensor: weather-type device (temperature, pressure, humidity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sensors.devicev01.payload import Devicev01Payload
from sensors.devicev01.simulator import Devicev01Simulator
from sensors.devicev01.transform import measurements
from sensors.fields import FamilySensor


class Devicev01Sensor(FamilySensor):
    name = "devicev01"
    payload_model = Devicev01Payload
    folder = Path(__file__).parent
    simulator = Devicev01Simulator

    def measurements(self, payload: Devicev01Payload) -> dict[str, Any]:
        return measurements(payload)


PLUGIN = Devicev01Sensor()
