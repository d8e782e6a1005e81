"""`air` payload -> sensor fields of the Elasticsearch document (docs/CONTRACTS.md)."""

from __future__ import annotations

from typing import Any

from sensors.air.payload import PRESSURE, AirPayload


def is_leaking(pressure_bar: float | None, opening_pressure_bar: float | None) -> bool | None:
    """A line below its valve's opening pressure leaks; unknown (None) if either value is missing."""
    if pressure_bar is None or opening_pressure_bar is None:
        return None
    return pressure_bar < opening_pressure_bar


def measurements(payload: AirPayload) -> dict[str, Any]:
    pressure, opening = payload.pressure_bar, payload.opening_pressure_bar
    sent_any_pressure = any(
        v is not None for v in (pressure, opening, payload.pressure_unit, payload.opening_pressure_unit)
    )
    return {
        "pressure": pressure,
        "opening_pressure": opening,
        "pressure_unit": PRESSURE.canonical if sent_any_pressure else None,
        "leak": is_leaking(pressure, opening),
        "line": payload.device,
    }
