"""The ingestor's side of a plugin's `after_index` hook: the Elasticsearch I/O, with the engine's names.

The plugin gets a `DerivedStore` (sensors/base.py): it searches its own data and writes into its own
extra indices by key; this module turns that into requests on the right indices.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch, helpers

from finemeca import naming
from sensors.base import Document, SensorPlugin


class ElasticsearchDerivedStore:
    """`DerivedStore` over one sensor's data alias; refreshes the batch's indices before the first search."""

    def __init__(
        self, es: Elasticsearch, plugin: SensorPlugin, prefix: str, touched_indices: Iterable[str] = ()
    ) -> None:
        self.es = es
        self.plugin = plugin
        self.prefix = prefix
        self._to_refresh = sorted(set(touched_indices))

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._to_refresh:  # the batch just written must be visible to the hook
            self.es.indices.refresh(index=",".join(self._to_refresh), ignore_unavailable=True)
            self._to_refresh = []
        response = self.es.search(
            index=naming.data_index_alias(self.plugin.name, self.prefix),
            ignore_unavailable=True,
            allow_no_indices=True,
            **body,
        )
        return dict(response.body)

    def write(self, extra_index: str, documents: dict[str, Document]) -> None:
        if extra_index not in self.plugin.extra_indices():
            raise KeyError(
                f"sensor {self.plugin.name!r} writes to {extra_index!r}, which its extra_indices() "
                f"does not declare ({', '.join(self.plugin.extra_indices()) or 'none'})"
            )
        if not documents:
            return
        index = naming.extra_index(extra_index, self.prefix)
        actions = (
            {"_op_type": "index", "_index": index, "_id": doc_id, "_source": doc}
            for doc_id, doc in documents.items()
        )
        helpers.bulk(self.es, actions)


def run_after_index(
    es: Elasticsearch,
    plugin: SensorPlugin,
    written: list[tuple[str, Document]],
    prefix: str,
    tz: ZoneInfo,
) -> None:
    """Run the plugin's hook over the newly created documents (`(index, document)` pairs)."""
    if not written:
        return
    store = ElasticsearchDerivedStore(es, plugin, prefix, {index for index, _ in written})
    plugin.after_index(store, [doc for _, doc in written], tz)
