"""What a Lens panel asks Elasticsearch, so a panel's figures can be checked on real data without Kibana.

A small, explicit translation of the Lens `formBased` layer state we generate (kibana/lens.py) into one
Elasticsearch search, and of the answer into the rows Lens would draw (one row per bucket combination,
keyed by column label). Operations covered, and where it is not exactly Kibana:

- buckets: `date_histogram` (the `auto` interval is the caller's choice: Kibana derives it from the
  time range and screen width), `terms` nested in column order (`size`, rank by a metric column or
  alphabetically, `otherBucket` computed as parent total minus the shown buckets for count/sum; Kibana
  runs a second request with a filters aggregation, same figure).
- metrics: count (with `timeScale`: divided by the bucket length), average, sum, min, max, median,
  unique_count (cardinality, approximate above 3,000 like Kibana's), last_value (top_hits on the sort
  field, values only from documents that have the field), formulas whose math is `add`/`subtract`
  over metric parts and numbers (our `msg_count_gaps` and `difference_formula`).
- the panel query: the KQL subset we use, `field : "value"`, `field : *`, `field : *pattern*`, joined
  by `and`.
- table `sorting` is applied to the rows; empty buckets of a histogram are kept (includeEmptyRows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

Row = dict[str, Any]
METRIC_AGG = {"average": "avg", "sum": "sum", "min": "min", "max": "max", "unique_count": "cardinality"}
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CALENDAR = {"1M": "month", "1d": "day", "1w": "week", "1y": "year"}


def kql_to_query(kql: str) -> dict[str, Any]:
    """The KQL subset used by our panels: clauses `field : "value"`, `field : *`, `field : *x*`, `and`."""
    if not kql.strip():
        return {"match_all": {}}
    filters = []
    for clause in re.split(r"\s+and\s+", kql.strip()):
        name, _, value = (part.strip() for part in clause.partition(":"))
        value = value.strip('"')
        if not name or not value:
            raise ValueError(f"KQL clause {clause!r} is outside the supported subset")
        if value == "*":
            filters.append({"exists": {"field": name}})
        elif "*" in value:
            filters.append({"wildcard": {name: {"value": value}}})
        else:
            filters.append({"term": {name: value}})
    return {"bool": {"filter": filters}}


class LayerQuery:
    """One layer of a Lens panel as an Elasticsearch request, and its answer as rows."""

    def __init__(self, layer: dict[str, Any], interval: str, tz: str = "UTC") -> None:
        self.columns: dict[str, dict[str, Any]] = layer["columns"]
        order = layer["columnOrder"]
        self.buckets = [c for c in order if self.columns[c]["isBucketed"]]
        referenced = {ref for col in self.columns.values() for ref in col.get("references", [])}
        self.metrics = [c for c in order if not self.columns[c]["isBucketed"] and c not in referenced]
        self.parts = [
            c
            for c in order
            if not self.columns[c]["isBucketed"]
            and self.columns[c]["operationType"] not in ("formula", "math")
        ]
        self.interval, self.tz = interval, tz

    # ---- request -------------------------------------------------------------------------------
    def body(
        self, query: dict[str, Any], time_field: str | None, start: datetime, end: datetime
    ) -> dict[str, Any]:
        filters = [query]
        if time_field:
            bounds = {"gte": start.isoformat(), "lt": end.isoformat(), "format": "strict_date_optional_time"}
            filters.append({"range": {time_field: bounds}})
        self.start, self.end = start, end
        return {
            "size": 0,
            "track_total_hits": True,
            "query": {"bool": {"filter": filters}},
            "aggs": self._level(0),
        }

    def _level(self, depth: int) -> dict[str, Any]:
        aggs = {col_id: self._metric_agg(col_id) for col_id in self.parts if self._metric_agg(col_id)}
        if depth == len(self.buckets):
            return aggs
        col_id = self.buckets[depth]
        column = self.columns[col_id]
        inner = self._level(depth + 1)
        if column["operationType"] == "date_histogram":
            interval = column["params"]["interval"]
            interval = self.interval if interval == "auto" else interval
            spec: dict[str, Any] = {"field": column["sourceField"], "time_zone": self.tz, "min_doc_count": 0}
            if interval in CALENDAR:
                spec["calendar_interval"] = CALENDAR[interval]
            else:
                spec["fixed_interval"] = interval
            bucket: dict[str, Any] = {"date_histogram": spec}
        else:
            params = column["params"]
            order_by = params["orderBy"]
            if order_by["type"] == "column":
                target = self.columns[order_by["columnId"]]
                key = "_count" if target["operationType"] == "count" else order_by["columnId"]
                order = {key: params["orderDirection"]}
            elif order_by["type"] == "custom":  # rank by a metric that is not shown
                rank = params["orderAgg"]
                inner = {**inner, "rank": {METRIC_AGG[rank["operationType"]]: {"field": rank["sourceField"]}}}
                order = {"rank": params["orderDirection"]}
            else:
                order = {"_key": "asc"}
            bucket = {"terms": {"field": column["sourceField"], "size": params["size"], "order": order}}
        bucket["aggs"] = inner
        return {**aggs, col_id: bucket}

    def _metric_agg(self, col_id: str) -> dict[str, Any] | None:
        column = self.columns[col_id]
        op = column["operationType"]
        if op == "count":
            return None  # doc_count
        if op in METRIC_AGG:
            return {METRIC_AGG[op]: {"field": column["sourceField"]}}
        if op == "median":
            return {"percentiles": {"field": column["sourceField"], "percents": [50]}}
        if op == "last_value":
            sort_field = column["params"]["sortField"]
            return {
                "filter": {"exists": {"field": column["sourceField"]}},
                "aggs": {
                    "top": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{sort_field: {"order": "desc"}}],
                            "_source": [column["sourceField"]],
                        }
                    }
                },
            }
        raise ValueError(f"operation {op!r} is outside the supported subset")

    # ---- answer --------------------------------------------------------------------------------
    def rows(self, response: dict[str, Any]) -> list[Row]:
        rows: list[Row] = []
        self._walk(response.get("aggregations", {}), 0, {}, rows, response["hits"]["total"]["value"])
        return rows

    def _walk(self, agg: dict[str, Any], depth: int, keys: Row, rows: list[Row], doc_count: int) -> None:
        if depth == len(self.buckets):
            rows.append({**keys, **self._values(agg, doc_count, keys)})
            return
        col_id = self.buckets[depth]
        column = self.columns[col_id]
        shown = agg[col_id]["buckets"]
        for bucket in shown:
            key = (
                bucket.get("key_as_string", bucket["key"])
                if column["operationType"] == "date_histogram"
                else bucket["key"]
            )
            self._walk(bucket, depth + 1, {**keys, column["label"]: key}, rows, bucket["doc_count"])
        if (
            column["operationType"] == "terms"
            and column["params"].get("otherBucket")
            and depth == len(self.buckets) - 1
        ):
            other = self._other(agg, shown, doc_count, keys)
            if other is not None:
                rows.append({**keys, column["label"]: "Other", **other})

    def _other(
        self, parent: dict[str, Any], shown: list[dict[str, Any]], doc_count: int, keys: Row
    ) -> Row | None:
        rest = doc_count - sum(b["doc_count"] for b in shown)
        if rest <= 0:
            return None
        values: Row = {}
        for col_id in self.metrics:
            column = self.columns[col_id]
            if column["operationType"] == "count":
                values[column["label"]] = self._scaled(column, rest, keys)
            elif column["operationType"] == "sum":
                values[column["label"]] = (parent[col_id]["value"] or 0) - sum(
                    b[col_id]["value"] or 0 for b in shown
                )
            else:
                values[column["label"]] = None  # not derivable from totals (Kibana asks Elasticsearch)
        return values

    def _values(self, agg: dict[str, Any], doc_count: int, keys: Row) -> Row:
        parts: dict[str, Any] = {}
        for col_id in self.parts:
            column = self.columns[col_id]
            op = column["operationType"]
            if op == "count":
                parts[col_id] = doc_count
            elif op == "median":
                parts[col_id] = next(iter(agg[col_id]["values"].values()))
            elif op == "last_value":
                hits = agg[col_id]["top"]["hits"]["hits"]
                parts[col_id] = dotted(hits[0]["_source"], column["sourceField"]) if hits else None
            elif column["dataType"] == "date" and agg[col_id].get("value_as_string"):
                parts[col_id] = agg[col_id]["value_as_string"]
            else:
                parts[col_id] = agg[col_id]["value"]
        values: Row = {}
        for col_id in self.metrics:
            column = self.columns[col_id]
            if column["operationType"] == "formula":
                math = self.columns[column["references"][0]]
                values[column["label"]] = evaluate(math["params"]["tinymathAst"], parts)
            elif column["operationType"] == "count":
                values[column["label"]] = self._scaled(column, parts[col_id], keys)
            else:
                values[column["label"]] = parts[col_id]
        return values

    def _scaled(self, column: dict[str, Any], value: float, keys: Row) -> float:
        unit = column.get("timeScale")
        if not unit:
            return value
        histogram = next(
            (self.columns[c] for c in self.buckets if self.columns[c]["operationType"] == "date_histogram"),
            None,
        )
        if histogram is None:
            seconds = (self.end - self.start).total_seconds()
        else:
            interval = histogram["params"]["interval"]
            seconds = parse_interval(self.interval if interval == "auto" else interval).total_seconds()
        return value / (seconds / UNIT_SECONDS[unit])


def dotted(source: dict[str, Any], path: str) -> Any:
    """`context.line` from `{"context": {"line": ...}}` (or a flat dotted key)."""
    if path in source:
        return source[path]
    value: Any = source
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def parse_interval(text: str) -> timedelta:
    number, unit = int(text[:-1]), text[-1]
    return timedelta(seconds=number * UNIT_SECONDS[unit])


def evaluate(node: Any, parts: dict[str, Any]) -> float | None:
    """tinymath AST of add/subtract over column references and numbers; None if a part is empty."""
    if isinstance(node, (int, float)):
        return node
    if isinstance(node, str):
        value = parts.get(node)
        return None if value is None else float(value)
    args = [evaluate(arg, parts) for arg in node["args"]]
    if any(arg is None for arg in args):
        return None
    left, right = args
    assert left is not None and right is not None
    if node["name"] == "add":
        return left + right
    if node["name"] == "subtract":
        return left - right
    raise ValueError(f"math function {node['name']!r} is outside the supported subset")


def run_panel(
    es: Elasticsearch,
    lens: dict[str, Any],
    index_of: Callable[[str], tuple[str, str | None]],
    start: datetime,
    end: datetime,
    interval: str = "1h",
    tz: str = "UTC",
) -> dict[str, list[Row]]:
    """Rows of every layer of a Lens saved object (`layer id -> rows`), as the panel would show them.

    `index_of(data view id)` gives the index pattern and time field behind the layer's data view."""
    state = lens["attributes"]["state"]
    query = kql_to_query(state["query"]["query"])
    refs = {ref["name"]: ref["id"] for ref in lens["references"]}
    results: dict[str, list[Row]] = {}
    for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
        index, time_field = index_of(refs[f"indexpattern-datasource-layer-{layer_id}"])
        translated = LayerQuery(layer, interval, tz)
        body = translated.body(query, time_field, start, end)
        response = es.search(index=index, ignore_unavailable=True, allow_no_indices=True, **body)
        rows = translated.rows(dict(response.body))
        sorting = state["visualization"].get("sorting")
        if sorting and sorting.get("columnId") in layer["columns"]:
            label = layer["columns"][sorting["columnId"]]["label"]
            present = [r for r in rows if r.get(label) is not None]
            present.sort(key=lambda r: r[label], reverse=sorting["direction"] == "desc")
            rows = present + [r for r in rows if r.get(label) is None]
        results[layer_id] = rows
    return results
