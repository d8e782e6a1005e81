"""`devicev01` sensor: weather-type device (temperature, pressure, humidity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sensors.base import SimulatedMessage
from sensors.devicev01.payload import Devicev01Payload
from sensors.devicev01.simulator import Devicev01Simulator
from sensors.devicev01.transform import measurements
from sensors.fields import FamilySensor
from sensors.simulation import Episode


class Devicev01Sensor(FamilySensor):
    name = "devicev01"
    payload_model = Devicev01Payload
    folder = Path(__file__).parent

    def measurements(self, payload: Devicev01Payload) -> dict[str, Any]:
        return measurements(payload)

    def simulate(
        self,
        devices: int,
        seed: int = 0,
        start: datetime | None = None,
        *,
        silences: list[Episode] | None = None,
        period_s: float = 30.0,
    ) -> Iterator[SimulatedMessage]:
        """Weather devices with a daily temperature cycle."""
        return iter(Devicev01Simulator(devices, seed, start, silences=silences, period_s=period_s))


PLUGIN = Devicev01Sensor()
