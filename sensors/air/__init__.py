"""`air` sensor: compressed-air line pressure vs the valve's opening pressure (leak detection)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sensors.air.payload import AirPayload
from sensors.air.simulator import AirSimulator
from sensors.air.transform import measurements
from sensors.base import SimulatedMessage
from sensors.fields import FamilySensor
from sensors.simulation import Episode


class AirSensor(FamilySensor):
    name = "air"
    payload_model = AirPayload
    folder = Path(__file__).parent

    def measurements(self, payload: AirPayload) -> dict[str, Any]:
        return measurements(payload)

    def simulate(
        self,
        devices: int,
        seed: int = 0,
        start: datetime | None = None,
        *,
        leaks: list[Episode] | None = None,
        silences: list[Episode] | None = None,
        period_s: float = 30.0,
    ) -> Iterator[SimulatedMessage]:
        """Air lines around 6.5 bar; `leaks` forces a leak on a device between two times."""
        return iter(AirSimulator(devices, seed, start, leaks=leaks, silences=silences, period_s=period_s))


PLUGIN = AirSensor()
