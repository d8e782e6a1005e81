"""Simulated electricity meters: power follows a work-day profile, the energy index only counts up."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sensors.simulation import FamilySimulator, SimulatedDevice


def workday_load(local_hour: float, weekday: int) -> float:
    """Share (0..1) of the workshop's working load: ramps 6-8h, full 8-17h, down by 19h, none weekends."""
    if weekday >= 5:
        return 0.0
    ramp_up = min(max((local_hour - 6.0) / 2.0, 0.0), 1.0)
    ramp_down = min(max((19.0 - local_hour) / 2.0, 0.0), 1.0)
    return min(ramp_up, ramp_down)


class CentraleSimulator(FamilySimulator):
    sensor = "centrale"
    mod = "meter"
    gateway_base = 30

    def device_name(self, index: int) -> str:
        return f"centrale-{index + 1}"

    def init_state(self, device: SimulatedDevice) -> None:
        device.state.update(
            index_kwh=round(self.rng.uniform(10_000, 500_000), 3),
            base_kw=self.rng.uniform(3.0, 8.0),
            work_kw=self.rng.uniform(30.0, 90.0),
            last=None,
            energy_unit="Wh" if device.index % 5 == 2 else "kWh",
            power_unit="W" if device.index % 4 == 1 else "kW",
            phases=device.index % 3 == 0,  # some meters also report per-phase power
        )

    def values(self, device: SimulatedDevice, moment: datetime) -> dict[str, Any]:
        state = device.state
        local = moment.astimezone(self.tz)
        load = workday_load(self.local_hour(moment), local.weekday())
        power_kw = max(0.0, state["base_kw"] + state["work_kw"] * load + self.rng.gauss(0.0, 0.5))
        if state["last"] is not None:
            hours = max((moment - state["last"]).total_seconds(), 0.0) / 3600
            state["index_kwh"] += power_kw * hours
        state["last"] = moment
        power_factor = 1000.0 if state["power_unit"] == "W" else 1.0
        if state["energy_unit"] == "Wh":
            index: float = math.floor(state["index_kwh"] * 1000)
        else:
            index = math.floor(state["index_kwh"] * 1000) / 1000  # floor keeps the index monotonic
        values: dict[str, Any] = {
            "Index": index,
            "Index-U": state["energy_unit"],
            "Power": round(power_kw * power_factor, 3),
            "Power-U": state["power_unit"],
        }
        if state["phases"]:
            shares = (0.34, 0.33, 0.33)
            for phase, share in zip(("P1", "P2", "P3"), shares, strict=True):
                values[phase] = round(power_kw * share * power_factor, 3)
            values["P-U"] = state["power_unit"]
        return values
