"""Threshold: `field <op> value` or `field <op> other_field` (air leak: pressure < opening_pressure).

Two fields of one document are compared in Python over the latest readings per device (top_hits):
the test Elasticsearch has no scripting, and per-device buckets keep the transfer small.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
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
from alerts.rules import ThresholdRule

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def judge(rule: ThresholdRule, value: float, reference: float) -> Verdict:
    """BREACH if the condition holds; OK only when the value also clears the hysteresis margin."""
    compare = COMPARE[rule.op]
    if compare(value, reference):
        return Verdict.BREACH
    margin = rule.hysteresis if rule.op in ("<", "<=") else -rule.hysteresis
    return Verdict.MARGINAL if compare(value, reference + margin) else Verdict.OK


def reading(rule: ThresholdRule, doc: dict[str, Any]) -> Observation | None:
    value = doc.get(rule.field)
    reference = doc.get(rule.other_field) if rule.other_field else rule.value
    if not isinstance(value, int | float) or not isinstance(reference, int | float):
        return None  # a missing value ('NULL' from the device) is no evidence either way
    values: dict[str, Any] = {rule.field: value, "op": rule.op}
    values[rule.other_field or "threshold"] = reference
    return Observation(
        at=parse_time(doc["@timestamp"]),
        verdict=judge(rule, float(value), float(reference)),
        values=values,
        context=context_of(doc),
    )


class ThresholdKind:
    missing_means_breach: ClassVar[bool] = False

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
        fields = [rule.field] + ([rule.other_field] if rule.other_field else [])
        size = max(top_hits, rule.debounce.readings)
        buckets = device_buckets(
            es, index, time_filter(rule, start, end), {"latest": latest_hits(size, fields)}, page_size
        )
        for bucket in buckets:
            readings = [reading(rule, doc) for doc in hits_oldest_first(bucket)]
            yield bucket["key"]["device_key"], [r for r in readings if r is not None]
