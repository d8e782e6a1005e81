"""Clocks: the wall clock, or a controllable one (fixed start, optional speed-up) for replays and tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Starts at `start` and runs `rate` times faster than real time (rate 0 = frozen)."""

    def __init__(self, start: datetime, rate: float = 1.0) -> None:
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.rate = rate
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._origin) * self.rate)


class ManualClock:
    """Moved by hand in tests: `clock.advance(minutes=5)`."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current
