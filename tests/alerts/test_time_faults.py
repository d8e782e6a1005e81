"""Issue 11 #1/#6 and issue 16 #1-#3 (alert side), on the real Elasticsearch/ActiveMQ: the job down across
whole leaks, a slow device clock, a 3-day backfill, a clock 2 h ahead, flapping lines.

Documents are indexed directly with chosen device, receive and ingest times, and only once the job's clock
has passed their ingest time: what the job could see at each cycle is what a live pipeline would show it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch.helpers import bulk
from prometheus_client import REGISTRY

from alerts.catalog import load_catalog
from alerts.events import AlertEvent
from alerts.job import AlertJob
from alerts.publisher import StompPublisher
from alerts.replay import replay
from tests.alerts.conftest import air_doc, write_rule

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
PERIOD = timedelta(seconds=5)
LOW, HIGH = 4.0, 6.0


def rule_text(name: str, index: str, flapping: str = "{crossings: 6, window: 10m, settle: 5m}") -> str:
    return f"""
rules:
  - name: {name}
    kind: threshold
    sensor: air
    index: {index}
    severity: critical
    field: pressure
    op: "<"
    other_field: opening_pressure
    hysteresis: 0.05
    debounce: {{readings: 3}}
    resolve: {{readings: 2, min_firing: 2m}}
    reminders: {{enabled: false}}
    flapping: {flapping}
"""


class Feed:
    """Documents waiting for their ingest time; `run(job, until)` indexes what is due, then runs a cycle."""

    def __init__(self, es: Any, index: str, docs: list[dict[str, Any]]) -> None:
        self.es, self.index = es, index
        self.pending = sorted(docs, key=lambda d: d["ingested_at"])

    def deliver(self, until: datetime) -> None:
        due = [d for d in self.pending if datetime.fromisoformat(d["ingested_at"]) <= until]
        self.pending = self.pending[len(due) :]
        if due:  # refreshed at once: visibility is the margin's job, not the test's
            bulk(self.es, ({"_index": self.index, "_source": d} for d in due), refresh=True)

    def run(self, job: AlertJob | None, rules: list[Any], start: datetime, end: datetime,
            every: timedelta = timedelta(seconds=10)) -> list[AlertEvent]:  # fmt: skip
        """Deliver documents as time goes by; the job (None = down) runs a cycle every `every`."""
        events: list[AlertEvent] = []
        now = start
        while now <= end:
            self.deliver(now)
            if job is not None:
                report = job.run_cycle(rules, now)
                assert not report.errors, report.errors
                events += report.events
            now += every
        return events


def new_job(es: Any, alert_settings: Any, stomp_settings: Any) -> AlertJob:
    job = AlertJob(es, StompPublisher(alert_settings.queue, stomp_settings), alert_settings)
    job.ensure_indices()
    return job


def lines(start: datetime, minutes: float, leaks: dict[int, list[tuple[float, float]]],
          count: int = 15, **times: timedelta) -> list[dict[str, Any]]:  # fmt: skip
    """`count` lines, one reading per 5 s; `leaks[line] = [(from_s, to_s)]` (seconds after `start`)."""
    docs = []
    skew = times.get("skew", timedelta(0))  # device clock minus true time
    for n in range(int(minutes * 60 / PERIOD.total_seconds())):
        true_time = start + n * PERIOD
        offset = (true_time - start).total_seconds()
        for line in range(1, count + 1):
            low = any(a <= offset < b for a, b in leaks.get(line, []))
            doc = air_doc(line, true_time + skew, LOW if low else HIGH, n, received=true_time)
            docs.append(doc)
    return docs


def by_kind(events: list[AlertEvent], device_key: str | None = None) -> dict[str, list[AlertEvent]]:
    found: dict[str, list[AlertEvent]] = {}
    for e in events:
        if device_key is None or e.device_key == device_key:
            found.setdefault(e.kind, []).append(e)
    return found


# leak windows relative to T0; the job is down from +5 min to +15 min
DOWN_FROM, DOWN_TO = T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)
POSITIONS = {
    "two-whole-leaks-while-down (issue 11)": {3: [(360, 540)], 7: [(600, 780)]},
    "starts-before-ends-while-down": {5: [(240, 420)]},
    "starts-while-down-ends-after": {9: [(840, 1020)]},
    "short-leak-at-the-edge-of-a-5m-window": {11: [(595, 640)]},
}


@pytest.mark.parametrize("leaks", POSITIONS.values(), ids=list(POSITIONS))
def test_job_down_across_whole_leaks(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path, leaks
):
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    feed = Feed(es, air_index, lines(T0, 20, leaks))
    events = feed.run(new_job(es, alert_settings, stomp_settings), rules, T0, DOWN_FROM)
    feed.run(None, rules, DOWN_FROM, DOWN_TO)  # the job is down: data keeps arriving
    events += feed.run(
        new_job(es, alert_settings, stomp_settings), rules, DOWN_TO, T0 + timedelta(minutes=21)
    )

    for line, windows in leaks.items():
        got = by_kind(events, f"170-{line}")
        (start_s, end_s) = windows[0]
        assert [e.episode_start for e in got["fired"]] == [T0 + timedelta(seconds=start_s)], got
        (resolved,) = got["resolved"]
        assert resolved.episode_start == T0 + timedelta(seconds=start_s)
        assert resolved.episode_end == T0 + timedelta(seconds=end_s)  # first healthy reading
        assert resolved.duration_s == end_s - start_s
    assert {e.device_key for e in events} == {f"170-{line}" for line in leaks}

    # `alerts test` runs the same core: the same events, with the same ids
    replayed = replay(es, rules[0], air_index, T0, T0 + timedelta(minutes=21), timedelta(minutes=5))
    assert sorted(e.event_id for e in replayed) == sorted(e.event_id for e in events)


def test_slow_device_clock_still_alerts(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    """Issue 16 #1: a device 2 minutes slow: each reading is behind the watermark when it is indexed."""
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    docs = lines(T0, 6, {1: [(120, 155)]}, count=2, skew=timedelta(minutes=-2))  # 7 low readings
    events = Feed(es, air_index, docs).run(
        new_job(es, alert_settings, stomp_settings), rules, T0, T0 + timedelta(minutes=7)
    )
    fired = by_kind(events)["fired"]
    assert [(e.device_key, e.episode_start) for e in fired] == [("170-1", T0 + timedelta(seconds=0))]
    assert fired[0].at == T0 + timedelta(seconds=10)  # the third low reading, device time


def test_backfill_three_days_old_gives_one_dated_event(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    """Issue 16 #2: a gateway delivers a buffered 10-minute leak from 3 days ago while the job runs."""
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    job = new_job(es, alert_settings, stomp_settings)
    live = lines(T0, 3, {}, count=2)
    old_start = T0 - timedelta(days=3)
    arrival = T0 + timedelta(minutes=1)
    backfill = [
        air_doc(1, old_start + n * PERIOD, LOW if 60 <= n * 5 < 660 else HIGH, 5000 + n,
                received=arrival, ingested=arrival + timedelta(milliseconds=n))
        for n in range(180)
    ]  # fmt: skip
    events = Feed(es, air_index, live + backfill).run(job, rules, T0, T0 + timedelta(minutes=3))
    (occurred,) = events
    assert occurred.kind == "occurred" and occurred.device_key == "170-1"
    assert occurred.episode_start == old_start + timedelta(seconds=60)
    assert occurred.episode_end == old_start + timedelta(seconds=660)  # first healthy reading
    assert occurred.duration_s == 600
    es.indices.refresh(index=alert_settings.history_index)
    stored = es.get(index=alert_settings.history_index, id=occurred.event_id)["_source"]
    assert stored["kind"] == "occurred"
    live_state = job.cursors[rules[0].name].states["170-1"].state  # the live line: healthy, live times
    assert live_state.status == "ok" and live_state.last_reading_at >= T0


def test_clock_ahead_alerts_at_once_and_recovers(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    """Issue 16 #3: a device clock 2 h ahead leaks: judged at receive time, not 2 h later; then its clock
    is corrected and healthy readings resolve it."""
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    ahead = [
        air_doc(1, T0 + n * PERIOD + timedelta(hours=2), LOW, n, received=T0 + n * PERIOD) for n in range(6)
    ]
    fixed = [air_doc(1, T0 + n * PERIOD, HIGH, n, received=T0 + n * PERIOD) for n in range(6, 36)]
    events = Feed(es, air_index, ahead + fixed).run(
        new_job(es, alert_settings, stomp_settings),
        rules,
        T0,
        T0 + timedelta(minutes=3),
        timedelta(seconds=5),
    )
    got = by_kind(events)
    (fired,) = got["fired"]
    assert fired.at == T0 + timedelta(seconds=10)  # the third low reading's receive time
    assert fired.values["device_time"] == (T0 + timedelta(hours=2, seconds=10)).isoformat()
    (resolved,) = got["resolved"]  # after the shipped min_firing (2m)
    assert resolved.episode_end == T0 + timedelta(seconds=30)  # the first correct, healthy reading


FLAP_PATTERNS = {
    "alternating-each-reading": [LOW, HIGH],
    "3-low-2-high": [LOW, LOW, LOW, HIGH, HIGH],
}


@pytest.mark.parametrize("pattern", FLAP_PATTERNS.values(), ids=list(FLAP_PATTERNS))
def test_flapping_is_one_event_then_settled(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path, pattern
):
    """Issue 11 #6: 10 minutes of flapping, then healthy: one `flapping`, then one `settled`, and no
    leak/resolved event in between (the shipped air-leak damping: 3 readings, resolve after 2m firing)."""
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    flapping = [air_doc(1, T0 + n * PERIOD, pattern[n % len(pattern)], n) for n in range(120)]
    steady = [air_doc(1, T0 + n * PERIOD, HIGH, n) for n in range(120, 200)]
    events = Feed(es, air_index, flapping + steady).run(
        new_job(es, alert_settings, stomp_settings),
        rules,
        T0,
        T0 + timedelta(minutes=17),
        timedelta(seconds=30),
    )
    kinds = [e.kind for e in events]
    start = kinds.index("flapping")
    assert kinds[start:] == ["flapping", "settled"], kinds
    assert kinds[:start] in ([], ["fired"]), kinds  # 3 low readings may fire before the flapping shows
    flap, settled = events[start:]
    assert flap.flaps == 7 and flap.flap_window_s == 600
    assert settled.episode_start == flap.episode_start
    assert settled.episode_end is not None and settled.episode_end <= T0 + timedelta(minutes=10)
    assert settled.at - settled.episode_end == timedelta(minutes=5)  # steady for `settle`


def test_dst_repeated_hour_durations_and_silence(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    """Issue 16 #6 (alert side): the night of 2026-10-25 in Europe/Brussels repeats 02:00-03:00. A leak
    from 01:50 CEST to 02:40 of the *second* 02:00-03:00 (CET) lasts 1 h 50 min; a device sending every
    minute through the repeated hour is never silent. Documents carry the UTC instants the ingestor
    derives with the receive time (see the timing rules in sensors/README.md)."""
    silent = f"""
  - name: silent-{unique_name}
    kind: silent_device
    sensor: air
    index: {air_index}
    after: 5m
    lookback: 1d
"""
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index) + silent)
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    night = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 01:00 CEST
    leak_from = datetime(2026, 10, 24, 23, 50, tzinfo=UTC)  # 01:50 CEST
    leak_to = datetime(2026, 10, 25, 1, 40, tzinfo=UTC)  # 02:40 CET, the second occurrence
    docs = [
        air_doc(1, at, LOW if leak_from <= at < leak_to else HIGH, n)
        for n in range(4 * 60)
        if (at := night + timedelta(minutes=n))
    ]
    events = Feed(es, air_index, docs).run(
        new_job(es, alert_settings, stomp_settings),
        rules,
        night,
        night + timedelta(hours=4),
        timedelta(minutes=5),
    )
    got = by_kind(events)
    (resolved,) = got["resolved"]
    assert (resolved.episode_start, resolved.episode_end) == (leak_from, leak_to)
    assert resolved.duration_s == timedelta(hours=1, minutes=50).total_seconds()
    assert not [e for e in events if e.rule.startswith("silent-")], events


def test_document_visible_after_its_slice_is_logged_and_counted(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    """A bulk slower than the margin: a reading stamped before the watermark shows up later. It cannot
    be evaluated in order any more; it is never silent: a log line and the `late_visible` counter."""
    write_rule(tmp_path / "rules", rule_text(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    job = new_job(es, alert_settings, stomp_settings)
    Feed(es, air_index, lines(T0, 1, {}, count=2)).run(job, rules, T0, T0 + timedelta(minutes=1))
    straggler = air_doc(1, T0 + timedelta(seconds=30), LOW, 999)  # ingested_at +31 s: evaluated slice
    bulk(es, [{"_index": air_index, "_source": straggler}], refresh=True)

    def late_visible() -> float:
        value = REGISTRY.get_sample_value(
            "finemeca_alerts_readings_total", {"rule": rules[0].name, "path": "late_visible"}
        )
        return value or 0.0

    before = late_visible()
    assert not job.run_cycle(rules, T0 + timedelta(minutes=1, seconds=5)).errors
    assert late_visible() - before == 1
    assert not job.run_cycle(rules, T0 + timedelta(minutes=1, seconds=10)).errors
    assert late_visible() - before == 1  # reported once


def test_silent_device_counts_from_receive_time(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    """Issue 16 #2/#3: a device whose clock is 2 h ahead stops sending: it is silent 5 minutes after its
    last *received* reading (not 2 h later), and the alert's "since" is that receive time, not when the
    job noticed."""
    write_rule(tmp_path / "rules", f"""
rules:
  - name: silent-{unique_name}
    kind: silent_device
    sensor: air
    index: {air_index}
    after: 5m
    lookback: 1d
""")  # fmt: skip
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    ahead = [
        air_doc(1, T0 + n * PERIOD + timedelta(hours=2), HIGH, n, received=T0 + n * PERIOD) for n in range(12)
    ]
    steady = [air_doc(2, T0 + n * PERIOD, HIGH, n) for n in range(12 * 8)]
    events = Feed(es, air_index, ahead + steady).run(
        new_job(es, alert_settings, stomp_settings),
        rules,
        T0,
        T0 + timedelta(minutes=8),
        timedelta(seconds=30),
    )
    (fired,) = events
    assert (fired.kind, fired.device_key) == ("fired", "170-1")
    assert fired.episode_start == T0 + timedelta(seconds=55)  # last receive time
    assert T0 + timedelta(minutes=6) <= fired.at <= T0 + timedelta(minutes=6, seconds=30)
