"""Alert history in Elasticsearch (`finemeca-alerts-history`): one doc per event, `_id` = event id."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from alerts.events import AlertEvent
from alerts.indices import mapping
from finemeca.es import ensure_index

FLATTENED_VALUES = ("pressure", "opening_pressure")  # handy for Kibana charts of leaks


def history_document(event: AlertEvent) -> dict[str, Any]:
    doc = event.model_dump(mode="json")
    doc["@timestamp"] = doc["at"]
    for name in FLATTENED_VALUES:
        if isinstance(event.values.get(name), int | float):
            doc[name] = event.values[name]
    return doc


class HistoryWriter:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def ensure(self) -> None:
        ensure_index(self.es, self.index, mapping("history"))

    def record(self, events: list[AlertEvent]) -> None:
        """Idempotent: a replayed event overwrites its own document."""
        if not events:
            return
        actions = (
            {"_op_type": "index", "_index": self.index, "_id": e.event_id, "_source": history_document(e)}
            for e in events
        )
        for ok, result in streaming_bulk(self.es, actions, raise_on_error=False, max_retries=3):
            if not ok:
                raise RuntimeError(f"cannot record alert history: {result}")
