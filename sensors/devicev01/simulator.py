"""Simulated weather devices: temperature with a daily cycle, pressure drift, humidity.

Device 0 reproduces the real `testBroker` quirks (gateway 170, device 100): `Pres-U` without `Pres`,
`Hum`/`Hum-U` sent as 'NULL'.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sensors.simulation import FamilySimulator, SimulatedDevice


class Devicev01Simulator(FamilySimulator):
    sensor = "devicev01"
    mod = "weath"
    gateway_base = 170

    def device_name(self, index: int) -> str:
        return "testBroker" if index == 0 else f"weather-{index + 1}"

    def init_state(self, device: SimulatedDevice) -> None:
        device.state.update(
            mean_c=self.rng.uniform(8.0, 16.0),
            swing_c=self.rng.uniform(3.0, 7.0),
            pressure_hpa=self.rng.uniform(1000.0, 1025.0),
            quirky=device.index == 0,
        )

    def values(self, device: SimulatedDevice, moment: datetime) -> dict[str, Any]:
        state = device.state
        # Coldest around 05:00, warmest around 17:00 local time.
        cycle = math.sin(2 * math.pi * (self.local_hour(moment) - 11.0) / 24.0)
        temperature = state["mean_c"] + state["swing_c"] * cycle + self.rng.gauss(0.0, 0.15)
        state["pressure_hpa"] += self.rng.gauss(0.0, 0.05) + (1013.0 - state["pressure_hpa"]) * 0.001
        humidity = min(100.0, max(15.0, 65.0 - 20.0 * cycle + self.rng.gauss(0.0, 1.5)))
        if state["quirky"]:
            return {
                "Pres-U": "hPa",
                "Temp": round(temperature, 2),
                "Temp-U": "C",
                "Hum": "NULL",
                "Hum-U": "NULL",
            }
        return {
            "Pres": round(state["pressure_hpa"], 1),
            "Pres-U": "hPa",
            "Temp": round(temperature, 2),
            "Temp-U": "C",
            "Hum": round(humidity, 1),
            "Hum-U": "%",
        }
