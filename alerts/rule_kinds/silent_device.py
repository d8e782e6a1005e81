"""Silent device: seen within `lookback`, but nothing *received* for longer than `after` (judged at now).

Liveness is receive time (`received_at`, the gateway's clock; `@timestamp` only for documents without it):
a device clock that runs ahead or behind, or the repeated hour of a DST night, never makes a live device
look silent or a silent one look alive. The alert's "since" is the last receive time, not when the job
noticed. Last-seen times come from a max aggregation; names/lines are fetched only for silent devices.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from alerts.durations import Duration
from alerts.lifecycle import Observation, Verdict
from alerts.rule_kinds.base import (
    DeviceObservations,
    Window,
    context_of,
    device_buckets,
    parse_time,
    readings_of,
)
from alerts.rules import Rule, RuleBase


class SilentDeviceRule(RuleBase):
    """A device seen within `lookback` that sent nothing for longer than `after`."""

    kind: Literal["silent_device"]
    after: Duration
    lookback: Duration = timedelta(days=7)

    @model_validator(mode="after")
    def _after_within_lookback(self) -> SilentDeviceRule:
        if self.after >= self.lookback:
            raise ValueError("'after' must be shorter than 'lookback'")
        return self


def received_between(rule: Rule, gte: datetime, lte: datetime) -> dict[str, Any]:
    """Received in [gte, lte]; documents without `received_at` count by their device time."""
    span = {"gte": gte.isoformat(), "lte": lte.isoformat()}
    received = {
        "bool": {
            "should": [
                {"range": {"received_at": span}},
                {
                    "bool": {
                        "must_not": {"exists": {"field": "received_at"}},
                        "filter": {"range": {"@timestamp": span}},
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }
    filters = [received, *({"term": {name: value}} for name, value in rule.filter.items())]
    return {"bool": {"filter": filters}}


def last_seen_of(bucket: dict[str, Any]) -> datetime | None:
    value = bucket["received"]["value"]
    if value is None:
        value = bucket["device_time"]["value"]
    return parse_time(value) if value is not None else None


class SilentDeviceKind:
    rule_model: ClassVar[type[SilentDeviceRule]] = SilentDeviceRule
    per_reading: ClassVar[bool] = False
    missing_means_breach: ClassVar[bool] = True  # gone past the lookback while alerting: still silent

    def observations(self, window: Window) -> DeviceObservations:
        rule, end = window.rule, window.end
        assert isinstance(rule, SilentDeviceRule)
        query = received_between(rule, end - rule.lookback, end)
        aggs = {
            "received": {"max": {"field": "received_at"}},
            "device_time": {"max": {"field": "@timestamp"}},
        }
        last_seen = {
            bucket["key"]["device_key"]: seen
            for bucket in device_buckets(window.es, window.index, query, aggs, window.page_size)
            if (seen := last_seen_of(bucket)) is not None
        }
        silent = [key for key, seen in last_seen.items() if end - seen > rule.after]
        contexts = {
            key: context_of(docs[-1]) for key, docs in readings_of(window, query, silent, 1, []) if docs
        }
        for device_key, seen in last_seen.items():
            silent_for = end - seen
            if silent_for <= rule.after and device_key not in window.watch:
                continue  # healthy and not alerting: nothing can change
            verdict = Verdict.BREACH if silent_for > rule.after else Verdict.OK
            values = {"last_seen": seen.isoformat(), "silent_seconds": int(silent_for.total_seconds())}
            context = contexts.get(device_key, {})
            yield (
                device_key,
                [Observation(at=end, verdict=verdict, values=values, context=context, since=seen)],
            )


KIND = SilentDeviceKind()
