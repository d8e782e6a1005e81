"""Silent device: seen within `lookback`, but nothing for longer than `after` (judged at the window end).

Last-seen times come from a max aggregation; device names/lines are fetched only for silent devices.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

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
    time_filter,
)
from alerts.rules import RuleBase


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


class SilentDeviceKind:
    rule_model: ClassVar[type[SilentDeviceRule]] = SilentDeviceRule
    missing_means_breach: ClassVar[bool] = True  # gone past the lookback while alerting: still silent

    def observations(self, window: Window) -> DeviceObservations:
        rule, end = window.rule, window.end
        assert isinstance(rule, SilentDeviceRule)
        query = time_filter(rule, end - rule.lookback, end)
        last_seen = {
            bucket["key"]["device_key"]: parse_time(bucket["last"]["value"])
            for bucket in device_buckets(
                window.es, window.index, query, {"last": {"max": {"field": "@timestamp"}}}, window.page_size
            )
            if bucket["last"]["value"] is not None
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
            obs = Observation(at=end, verdict=verdict, values=values, context=contexts.get(device_key, {}))
            yield device_key, [obs]


KIND = SilentDeviceKind()
