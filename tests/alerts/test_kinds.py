"""Pure parts of the rule kinds and of event ids."""

from datetime import UTC, datetime

from alerts.events import event_id
from alerts.lifecycle import Verdict
from alerts.rule_kinds.message_gaps import MessageGapsRule, count_lost, judge_gaps
from alerts.rule_kinds.threshold import ThresholdRule, judge, reading

LEAK = ThresholdRule(
    name="l",
    kind="threshold",
    sensor="air",
    field="pressure",
    op="<",
    other_field="opening_pressure",
    hysteresis=0.1,
)


def test_threshold_two_fields_with_hysteresis():
    assert judge(LEAK, 4.0, 5.0) == Verdict.BREACH
    assert judge(LEAK, 5.05, 5.0) == Verdict.MARGINAL
    assert judge(LEAK, 5.2, 5.0) == Verdict.OK


def test_threshold_reading_ignores_missing_values():
    doc = {"@timestamp": "2026-01-01T00:00:00Z", "pressure": None, "opening_pressure": 5.0}
    assert reading(LEAK, doc) is None
    doc["pressure"] = 4.2
    obs = reading(LEAK, doc)
    assert obs is not None and obs.verdict == Verdict.BREACH
    assert obs.values == {"pressure": 4.2, "op": "<", "opening_pressure": 5.0}


def test_lost_messages_across_wraparound_and_reset():
    assert count_lost([1, 2, 3], 65536) == 0
    assert count_lost([65534, 65535, 0, 3], 65536) == 2
    assert count_lost([500, 7, 8], 65536) == 0  # device reboot, not 65 000 losses
    rule = MessageGapsRule(name="g", kind="message_gaps", sensor="air", max_loss_ratio=0.3, min_lost=2)
    verdict, values = judge_gaps(rule, [1, 5, 9])
    assert verdict == Verdict.BREACH and values["lost"] == 6


def test_event_ids_are_stable():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert event_id("r", "1-2", t, "fired") == event_id("r", "1-2", t, "fired", 0)
    assert event_id("r", "1-2", t, "reminder", 1) != event_id("r", "1-2", t, "reminder", 2)
