"""What a rule kind provides, and the shared per-device aggregation (composite terms on device_key)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from elasticsearch import Elasticsearch

from alerts.lifecycle import Observation
from alerts.rules import Rule

CONTEXT_FIELDS = ("device_name", "line", "customer")
DeviceObservations = Iterator[tuple[str, list[Observation]]]


@dataclass(frozen=True)
class Window:
    """One evaluation: a rule over [start, end) of `index`; `watch` = devices whose alert is not ok."""

    es: Elasticsearch
    rule: Rule
    index: str
    start: datetime
    end: datetime
    watch: frozenset[str] = frozenset()
    top_hits: int = 20
    page_size: int = 2000


class RuleKind(Protocol):
    """A kind module's `KIND`: the pydantic model of its rules and how to evaluate them. Two families:

    - `per_reading = True` (threshold): every reading is judged once, as it is indexed (alerts/readings.py):
      the kind gives `fields(rule)`, per-device `bounds(rule)` aggregations with `may_breach(rule, bucket)`
      (a healthy fleet costs one light aggregation) and `judge(rule, doc) -> Observation | None`.
    - `per_reading = False` (silent device, message gaps): judged at now from an aggregation over a
      trailing window: `observations(window)`.
    """

    rule_model: ClassVar[type[Rule]]
    per_reading: ClassVar[bool]
    # A device with an open alert but no bucket in the window: True = still breaching (silent devices).
    missing_means_breach: ClassVar[bool]


class ReadingKind(RuleKind, Protocol):
    def fields(self, rule: Rule) -> list[str]: ...

    def bounds(self, rule: Rule) -> dict[str, Any]: ...

    def may_breach(self, rule: Rule, bucket: dict[str, Any]) -> bool: ...

    def judge(self, rule: Rule, doc: dict[str, Any]) -> Observation | None: ...


class TimedKind(RuleKind, Protocol):
    def observations(self, window: Window) -> DeviceObservations:
        """Devices that matter at `window.end`, each with its observations in time order."""
        ...


def time_filter(rule: Rule, gte: datetime, lt: datetime) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"range": {"@timestamp": {"gte": gte.isoformat(), "lt": lt.isoformat()}}}
    ]
    filters += [{"term": {name: value}} for name, value in rule.filter.items()]
    return {"bool": {"filter": filters}}


def device_buckets(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sub_aggs: dict[str, Any],
    page_size: int,
) -> Iterator[dict[str, Any]]:
    """Every device bucket, paged with a composite aggregation (bounded memory for any device count)."""
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {
            "size": page_size,
            "sources": [{"device_key": {"terms": {"field": "device_key"}}}],
        }
        if after:
            composite["after"] = after
        response = es.search(
            index=index,
            size=0,
            query=query,
            aggs={"devices": {"composite": composite, "aggs": sub_aggs}},
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        agg = (response.get("aggregations") or {}).get("devices")
        if not agg:
            return
        yield from agg["buckets"]
        after = agg.get("after_key")
        if not after or len(agg["buckets"]) < page_size:
            return


def latest_hits(size: int, fields: list[str]) -> dict[str, Any]:
    """top_hits sub-aggregation: the latest `size` documents, only the listed fields."""
    return {
        "top_hits": {
            "size": min(max(size, 1), 100),  # index.max_inner_result_window defaults to 100
            "sort": [{"@timestamp": {"order": "desc"}}],
            "_source": {"includes": ["@timestamp", *fields, *CONTEXT_FIELDS]},
        }
    }


def hits_oldest_first(bucket: dict[str, Any], name: str = "latest") -> list[dict[str, Any]]:
    return [hit["_source"] for hit in reversed(bucket[name]["hits"]["hits"])]


def context_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {name: doc[name] for name in CONTEXT_FIELDS if doc.get(name) is not None}


def parse_time(value: str | int | float) -> datetime:

    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def readings_of(
    window: Window, query: dict[str, Any], devices: list[str], size: int, fields: list[str]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Latest `size` documents (oldest first) of the listed devices, a page of devices per request."""
    for offset in range(0, len(devices), window.page_size):
        chunk = devices[offset : offset + window.page_size]
        narrowed = {"bool": {"filter": [query, {"terms": {"device_key": chunk}}]}}
        for bucket in device_buckets(
            window.es, window.index, narrowed, {"latest": latest_hits(size, fields)}, window.page_size
        ):
            yield bucket["key"]["device_key"], hits_oldest_first(bucket)
