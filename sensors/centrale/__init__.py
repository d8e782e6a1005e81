"""`centrale` sensor: the measuring centre's electricity meter (energy index, power)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sensors.base import SimulatedMessage
from sensors.centrale.payload import CentralePayload
from sensors.centrale.simulator import CentraleSimulator
from sensors.centrale.transform import measurements
from sensors.fields import FamilySensor
from sensors.simulation import Episode


class CentraleSensor(FamilySensor):
    name = "centrale"
    payload_model = CentralePayload
    folder = Path(__file__).parent

    def measurements(self, payload: CentralePayload) -> dict[str, Any]:
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
        """Meters with a work-day power profile; the index only counts up."""
        return iter(CentraleSimulator(devices, seed, start, silences=silences, period_s=period_s))


PLUGIN = CentraleSensor()
