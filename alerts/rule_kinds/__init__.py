"""One module per rule kind; `kind_for(rule)` picks the implementation from `rule.kind`."""

from __future__ import annotations

from typing import Any

from alerts.rule_kinds.base import RuleKind
from alerts.rule_kinds.message_gaps import MessageGapsKind
from alerts.rule_kinds.silent_device import SilentDeviceKind
from alerts.rule_kinds.threshold import ThresholdKind

KINDS: dict[str, RuleKind] = {
    "threshold": ThresholdKind(),
    "silent_device": SilentDeviceKind(),
    "message_gaps": MessageGapsKind(),
}


def kind_for(rule: Any) -> RuleKind:
    return KINDS[rule.kind]
