"""Pure lifecycle: debounce, hysteresis/resolve policy, reminders with backoff and coalescing."""

from datetime import UTC, datetime, timedelta

from alerts.lifecycle import (
    AlertState,
    Observation,
    Policy,
    Status,
    Transition,
    Verdict,
    observe,
    past_episodes,
    tick,
)
from alerts.rules import Debounce, Reminders, Resolve

T0 = datetime(2026, 1, 1, tzinfo=UTC)
B, OK, M = Verdict.BREACH, Verdict.OK, Verdict.MARGINAL


def policy(readings=3, duration=0, resolve_readings=1, min_firing=0):
    return Policy(
        Debounce(readings=readings, duration=timedelta(seconds=duration)),
        Resolve(readings=resolve_readings, min_firing=timedelta(seconds=min_firing)),
        Reminders(first=timedelta(hours=1), factor=2, max=timedelta(hours=4)),
    )


def run(verdicts, pol, step=30):
    state, changes = AlertState(rule="r", device_key="d"), []
    for i, v in enumerate(verdicts):
        state, new = observe(state, Observation(T0 + timedelta(seconds=step * i), v), pol)
        changes += new
    return state, changes


def test_fires_after_n_consecutive_only():
    state, changes = run([B, B, OK, B, B], policy())
    assert state.status == Status.PENDING and not changes
    state, changes = run([B, B, B], policy())
    assert state.status == Status.FIRING
    assert [c.kind for c in changes] == [Transition.FIRED]
    assert changes[0].episode_start == T0


def test_duration_debounce():
    _, changes = run([B, B, B], policy(readings=1, duration=90))
    assert not changes
    _, changes = run([B, B, B, B], policy(readings=1, duration=90))
    assert changes and changes[0].at == T0 + timedelta(seconds=90)


def test_marginal_keeps_firing_and_resolve_needs_streak():
    _, changes = run([B, B, B, M, OK, M, OK, OK], policy(resolve_readings=2))
    assert [c.kind for c in changes] == [Transition.FIRED, Transition.RESOLVED]
    assert changes[1].at == T0 + timedelta(seconds=30 * 7)


def test_min_firing_damps_flapping():
    _, changes = run([B, B, B, OK, OK], policy(min_firing=300))
    assert [c.kind for c in changes] == [Transition.FIRED]


def test_reminders_backoff_and_coalescing():
    pol = policy(readings=1)
    state, _ = observe(AlertState(rule="r", device_key="d"), Observation(T0, B), pol)
    state, c = tick(state, T0 + timedelta(minutes=59), pol)
    assert not c
    state, c = tick(state, T0 + timedelta(hours=1), pol)
    assert c[0].kind == Transition.REMINDER and c[0].number == 1
    state, c = tick(state, T0 + timedelta(hours=2, minutes=59), pol)
    assert not c  # second reminder 2h after the first
    # the job was down for 12 h: one reminder (#5 with the 4 h cap), not a burst
    state, c = tick(state, T0 + timedelta(hours=15), pol)
    assert len(c) == 1 and c[0].number == 5
    assert state.last_notified_at == T0 + timedelta(hours=15)


def test_flapping_then_settled_on_the_breaching_side_fires():
    """7 crossings -> one `flapping`; then steady low for `settle` -> `settled` and the leak fires."""
    state, changes = run([B, OK] * 4 + [B] * 12, policy(), step=30)
    kinds = [c.kind for c in changes]
    assert kinds == [Transition.FLAPPING, Transition.SETTLED, Transition.FIRED]
    settled, fired = changes[1], changes[2]
    assert settled.end == fired.episode_start == T0 + timedelta(seconds=30 * 8)  # the steady run's start
    assert fired.at - settled.end == timedelta(minutes=5)
    assert state.status == Status.FIRING


def test_past_episodes_give_one_dated_occurred_each():
    verdicts = [OK, B, B, B, B, OK, OK, OK, B, B, B]  # a closed episode, then one still open at the end
    observations = [Observation(T0 + timedelta(minutes=i), v) for i, v in enumerate(verdicts)]
    found = past_episodes("r", "d", observations, policy())
    assert [(c.kind, c.episode_start, c.end) for c in found] == [
        (Transition.OCCURRED, T0 + timedelta(minutes=1), T0 + timedelta(minutes=5)),
        (Transition.OCCURRED, T0 + timedelta(minutes=8), T0 + timedelta(minutes=10)),
    ]
