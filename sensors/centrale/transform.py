"""`centrale` payload -> sensor fields of the Elasticsearch document (docs/CONTRACTS.md)."""

from __future__ import annotations

from typing import Any

from sensors.centrale.payload import CentralePayload


def measurements(payload: CentralePayload) -> dict[str, Any]:
    return {
        "energy_index_kwh": payload.energy_index_kwh,
        "power_kw": payload.power_kw,
        "power_l1_kw": payload.phase_kw(payload.power_l1),
        "power_l2_kw": payload.phase_kw(payload.power_l2),
        "power_l3_kw": payload.phase_kw(payload.power_l3),
    }
