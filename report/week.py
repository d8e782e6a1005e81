"""ISO weeks in a site's time zone: `2026-W47` -> [Monday 00:00, next Monday 00:00) local, as UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    year: int
    number: int
    timezone: str

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    def _local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self._local_midnight(self.monday)

    @property
    def end(self) -> datetime:
        return self._local_midnight(self.monday + timedelta(days=7))

    def previous(self) -> Week:
        year, number, _ = (self.monday - timedelta(days=7)).isocalendar()
        return Week(year, number, self.timezone)


def parse_week(text: str, timezone: str) -> Week:
    match = _WEEK.match(text)
    if not match:
        raise ValueError(f"week {text!r} is not an ISO week like 2026-W47")
    year, number = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"week {text!r} does not exist ({exc})") from exc
    return Week(year, number, timezone)


def last_full_week(now: datetime, timezone: str) -> Week:
    """The ISO week before the one `now` falls in, on the site's wall clock."""
    year, number, _ = (now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=7)).isocalendar()
    return Week(year, number, timezone)
