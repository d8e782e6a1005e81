"""The inline PNG: pressure against opening pressure of one line over the week (matplotlib, Agg)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

import matplotlib.dates as mdates
from matplotlib.figure import Figure

from report.episodes import Episode


def pressure_chart(
    title: str,
    series: list[tuple[datetime, float | None, float | None]],
    episodes: list[Episode],
    start: datetime,
    end: datetime,
    timezone: str,
) -> bytes:
    """PNG bytes, about 700x260 px: mean pressure and opening pressure per 30 min, leaks shaded."""
    zone = ZoneInfo(timezone)
    figure = Figure(figsize=(7, 2.6), dpi=100)
    axes = figure.add_subplot()
    nan = float("nan")
    times = [float(mdates.date2num(t)) for t, _, _ in series]
    pressure = [nan if p is None else p for _, p, _ in series]
    opening = [nan if o is None else o for _, _, o in series]
    axes.plot(times, pressure, label="pressure", color="#1f5fa8", linewidth=1.2)
    axes.plot(
        times,
        opening,
        label="opening pressure",
        color="#c0392b",
        linewidth=1,
        linestyle="--",
    )
    for episode in episodes:
        axes.axvspan(
            float(mdates.date2num(max(episode.start, start))),
            float(mdates.date2num(min(episode.end or end, end))),
            color="#f5b041",
            alpha=0.35,
            linewidth=0,
        )
    axes.set_xlim(float(mdates.date2num(start)), float(mdates.date2num(end)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%a %d", tz=zone))
    axes.set_ylabel("bar")
    axes.set_title(f"{title}: pressure vs opening pressure (leaks shaded)", fontsize=9)
    axes.legend(fontsize=7, loc="lower left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
