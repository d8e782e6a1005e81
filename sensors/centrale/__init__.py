"""`centrale` sensor: the measuring centre's electricity meter (energy index, power)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from elasticsearch import helpers

from sensors.base import Document
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
        """`<prefix>-centrale-daily`: one consumption doc per device and local day."""
        return {"centrale-daily": json.loads((self.folder / "daily_mapping.json").read_text())}

    def after_index(self, es: Any, documents: list[Document], index_prefix: str) -> None:
        """Recompute the daily consumption of every (device, local day) the batch touched.

        Idempotent and order-independent: min/max over what Elasticsearch holds, written with a
        deterministic `_id`. Refreshes the touched data indices first so the batch is searchable.
        """
        device_days = consumption.touched_device_days(documents)
        if not device_days:
            return
        indices = consumption.touched_data_indices(documents, index_prefix)
        es.indices.refresh(index=",".join(sorted(indices)), ignore_unavailable=True)
        actions = consumption.daily_docs(es, device_days, index_prefix=index_prefix)
        if actions:
            helpers.bulk(es, actions)


PLUGIN = CentraleSensor()
