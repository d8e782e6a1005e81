"""Silent device: seen within `lookback`, but nothing for longer than `after` (judged at the window end)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from elasticsearch import Elasticsearch

from alerts.lifecycle import Observation, Verdict
from alerts.rule_kinds.base import (
    DeviceObservations,
    context_of,
    device_buckets,
    hits_oldest_first,
    latest_hits,
    parse_time,
    time_filter,
)


class SilentDeviceKind:
    missing_means_breach: ClassVar[bool] = True  # gone past the lookback while alerting: still silent

    def observations(
        self,
        es: Elasticsearch,
        rule: Any,
        index: str,
        start: datetime,
        end: datetime,
        top_hits: int,
        page_size: int,
    ) -> DeviceObservations:
        query = time_filter(rule, end - rule.lookback, end)
        for bucket in device_buckets(es, index, query, {"latest": latest_hits(1, [])}, page_size):
            docs = hits_oldest_first(bucket)
            if not docs:
                continue
            last_seen = parse_time(docs[-1]["@timestamp"])
            silent_for = end - last_seen
            verdict = Verdict.BREACH if silent_for > rule.after else Verdict.OK
            values = {"last_seen": last_seen.isoformat(), "silent_seconds": int(silent_for.total_seconds())}
            yield (
                bucket["key"]["device_key"],
                [Observation(at=end, verdict=verdict, values=values, context=context_of(docs[-1]))],
            )
