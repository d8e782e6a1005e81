"""Simulated air lines: pressure drifting around a setpoint, occasional leaks that decay and recover."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sensors.simulation import Episode, FamilySimulator, SimulatedDevice

LEAK_DROP_BAR = 0.8  # a leaking line settles this far below the valve's opening pressure
RESPONSE = 0.5  # fraction of the way to the target covered per message (a leak shows within ~2 messages)


class AirSimulator(FamilySimulator):
    sensor = "air"
    mod = "air"
    gateway_base = 10
    random_leak_chance = 0.0005  # per message: start of a spontaneous leak

    def __init__(self, devices: int, seed: int = 0, start: datetime | None = None, **options: Any) -> None:
        self.leaks: list[Episode] = list(options.pop("leaks", None) or [])
        super().__init__(devices, seed, start, **options)

    def device_name(self, index: int) -> str:
        return f"line-{index + 1}"

    def init_state(self, device: SimulatedDevice) -> None:
        setpoint = round(self.rng.uniform(6.2, 6.8), 2)
        device.state.update(
            setpoint=setpoint,
            opening=round(self.rng.uniform(5.5, 6.0), 2),
            pressure=setpoint,
            drift_phase=self.rng.uniform(0, 2 * math.pi),
            unit="mbar" if device.index % 7 == 3 else "bar",  # some firmwares report millibar
            leak_messages_left=0,
        )

    def leaking(self, device: SimulatedDevice, moment: datetime) -> bool:
        state = device.state
        if any(episode.covers(device.key, moment) for episode in self.leaks):
            return True
        if state["leak_messages_left"] > 0:
            state["leak_messages_left"] -= 1
            return True
        if self.rng.random() < self.random_leak_chance:
            state["leak_messages_left"] = self.rng.randint(5, 30)
            return True
        return False

    def values(self, device: SimulatedDevice, moment: datetime) -> dict[str, Any]:
        state = device.state
        hours = moment.timestamp() / 3600
        if self.leaking(device, moment):
            target = state["opening"] - LEAK_DROP_BAR
        else:
            target = state["setpoint"] + 0.15 * math.sin(2 * math.pi * hours / 6 + state["drift_phase"])
        state["pressure"] += (target - state["pressure"]) * RESPONSE
        pressure = state["pressure"] + self.rng.gauss(0.0, 0.02)
        factor = 1000.0 if state["unit"] == "mbar" else 1.0
        return {
            "Pres": round(pressure * factor, 3),
            "Pres-U": state["unit"],
            "PresOpen": round(state["opening"] * factor, 3),
            "PresOpen-U": state["unit"],
        }
