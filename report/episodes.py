"""Leak episodes of the air lines: the one place that knows where episodes come from.

Computed from the air readings themselves (`leak` true/false per reading, docs/CONTRACTS.md), not from the
alert history: the readings are the source of truth, their format is a published contract, and the report
then does not depend on the alert job having run, on its debounce settings or on its history format.
An episode starts at the first `leak: true` reading of a line and ends at the next `leak: false`
reading (a reading without pressure, `leak` unknown, changes nothing); no such reading before the end of
the window = still open. Found by walking transitions with one small search per line and step, sent in
batches (`msearch`): the cost grows with the number of episodes, not with the number of readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from finemeca.logs import get_logger

log = get_logger(__name__)
LOOKBACK = timedelta(days=7)  # how far before the window a leak already running is looked for


@dataclass(frozen=True)
class Episode:
    device_key: str
    start: datetime
    end: datetime | None  # None: still leaking at the end of the window
    started_before: bool = False  # already leaking when the window began (start = window start)

    def clipped(self, start: datetime, end: datetime) -> timedelta:
        """Leak time inside [start, end)."""
        stop = min(self.end or end, end)
        return max(timedelta(0), stop - max(self.start, start))

    def open_at(self, moment: datetime) -> bool:
        return self.start < moment and (self.end is None or self.end > moment)


def _ms(value: int | float) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def air_lines(es: Elasticsearch, index: str, customer: str, start: datetime, end: datetime) -> dict[str, str]:
    """device_key -> line name of every air line of the customer that reported in [start, end)."""
    body = es.search(
        index=index,
        size=0,
        query={"bool": {"filter": [{"term": {"customer": customer}}, _range(start, end)]}},
        aggs={"lines": {"terms": {"field": "device_key", "size": 65_000}, "aggs": _name_agg()}},
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return {b["key"]: _name(b) for b in body.get("aggregations", {}).get("lines", {}).get("buckets", [])}


def _name_agg() -> dict[str, Any]:
    return {
        "name": {"terms": {"field": "line", "size": 1}},
        "device": {"terms": {"field": "device_name", "size": 1}},
    }


def _name(bucket: dict[str, Any]) -> str:
    for agg in ("name", "device"):
        if bucket.get(agg, {}).get("buckets"):
            return str(bucket[agg]["buckets"][0]["key"])
    return str(bucket["key"])


def _range(start: datetime, end: datetime, include_start: bool = True) -> dict[str, Any]:
    return {"range": {"@timestamp": {"gte" if include_start else "gt": _iso(start), "lt": _iso(end)}}}


def _leaking_at(es: Elasticsearch, index: str, customer: str, moment: datetime) -> set[str]:
    """Lines whose last known leak state before `moment` is true."""
    body = es.search(
        index=index,
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"customer": customer}},
                    {"exists": {"field": "leak"}},
                    _range(moment - LOOKBACK, moment),
                ]
            }
        },
        aggs={
            "lines": {
                "terms": {"field": "device_key", "size": 65_000},
                "aggs": {
                    "last": {"top_hits": {"size": 1, "sort": [{"@timestamp": "desc"}], "_source": ["leak"]}}
                },
            }
        },
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    found = set()
    for bucket in body.get("aggregations", {}).get("lines", {}).get("buckets", []):
        if bucket["last"]["hits"]["hits"][0]["_source"].get("leak") is True:
            found.add(bucket["key"])
    return found


def _lines_with_leaks(
    es: Elasticsearch, index: str, customer: str, start: datetime, end: datetime
) -> set[str]:
    body = es.search(
        index=index,
        size=0,
        query={
            "bool": {
                "filter": [{"term": {"customer": customer}}, {"term": {"leak": True}}, _range(start, end)]
            }
        },
        aggs={"lines": {"terms": {"field": "device_key", "size": 65_000}}},
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return {b["key"] for b in body.get("aggregations", {}).get("lines", {}).get("buckets", [])}


def leak_episodes(
    es: Elasticsearch,
    index: str,
    customer: str,
    start: datetime,
    end: datetime,
    max_per_line: int = 500,
    batch: int = 500,
) -> dict[str, list[Episode]]:
    """Every episode overlapping [start, end), per device_key, in time order."""
    already = _leaking_at(es, index, customer, start)
    candidates = already | _lines_with_leaks(es, index, customer, start, end)
    episodes: dict[str, list[Episode]] = {key: [] for key in candidates}
    # cursor: (time, looking for leak=True (a start) or False (an end), start of the open episode)
    cursors: dict[str, tuple[datetime, bool, datetime | None]] = {
        key: ((start, False, start) if key in already else (start, True, None)) for key in candidates
    }
    while cursors:
        keys = list(cursors)[:batch]
        searches: list[dict[str, Any]] = []
        for key in keys:
            moment, want, _ = cursors[key]
            searches += [
                {"index": index, "ignore_unavailable": True, "allow_no_indices": True},
                {
                    "size": 1,
                    "_source": False,
                    "track_total_hits": False,
                    "sort": [{"@timestamp": "asc"}],
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"device_key": key}},
                                {"term": {"customer": customer}},
                                {"term": {"leak": want}},
                                _range(moment, end, include_start=want),
                            ]
                        }
                    },
                },
            ]
        for key, response in zip(keys, es.msearch(searches=searches)["responses"], strict=True):
            if "error" in response:
                raise RuntimeError(f"leak episodes of {key} in {index}: {response['error']}")
            hits = response["hits"]["hits"]
            moment, want, open_start = cursors.pop(key)
            found = _ms(hits[0]["sort"][0]) if hits else None
            if want:  # looking for a start
                if found is not None:
                    cursors[key] = (found, False, found)
                continue
            assert open_start is not None
            episodes[key].append(
                Episode(key, open_start, found, started_before=open_start == start and key in already)
            )
            if found is not None:
                if len(episodes[key]) >= max_per_line:
                    log.warning("report.episodes_capped", device_key=key, episodes=max_per_line)
                    continue
                cursors[key] = (found, True, None)
    return {key: value for key, value in episodes.items() if value}
