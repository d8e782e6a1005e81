"""`centrale` sensor: the measuring centre's electricity meter (energy index, power)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sensors.base import DerivedStore, Document
from sensors.centrale import consumption
from sensors.centrale.payload import CentralePayload
from sensors.centrale.simulator import CentraleSimulator
from sensors.centrale.transform import measurements
from sensors.fields import FamilySensor


class CentraleSensor(FamilySensor):
    name = "centrale"
    payload_model = CentralePayload
    folder = Path(__file__).parent
    simulator = CentraleSimulator

    def measurements(self, payload: CentralePayload) -> dict[str, Any]:
        return measurements(payload)

    def extra_indices(self) -> dict[str, dict[str, Any]]:
        """`centrale-daily`: one consumption doc per device and local day."""
        return {consumption.DAILY: json.loads((self.folder / "daily_mapping.json").read_text())}

    def after_index(self, store: DerivedStore, documents: list[Document], tz: ZoneInfo) -> None:
        """Recompute the daily consumption of every (device, local day) the batch can change.

        Idempotent and order-independent: computed from what Elasticsearch holds, written with a
        deterministic `_id`.
        """
        store.write(consumption.DAILY, consumption.daily_docs(store, documents, tz))


PLUGIN = CentraleSensor()
