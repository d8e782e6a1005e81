"""`devicev01` payload -> sensor fields of the Elasticsearch document (docs/CONTRACTS.md).

Values are normalised (°C, hPa, %); the `*_unit` fields keep the unit as the device sent it, even
when the value itself is missing (the real devices send `Pres-U` without `Pres`).
"""

from __future__ import annotations

from typing import Any

from sensors.devicev01.payload import Devicev01Payload


def measurements(payload: Devicev01Payload) -> dict[str, Any]:
    return {
        "temperature": payload.temperature_c,
        "temperature_unit": payload.temperature_unit,
        "pressure_hpa": payload.pressure_hpa,
        "pressure_unit": payload.pressure_unit,
        "humidity": payload.humidity_percent,
        "humidity_unit": payload.humidity_unit,
    }
