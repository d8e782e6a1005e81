"""Flapping policy of a rule: a line that crosses its threshold too often becomes one `flapping` state."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from alerts.durations import Duration


class Flapping(BaseModel):
    """More than `crossings` threshold crossings within `window` -> flapping (one event, then silence);
    it settles (one event) once the line kept one side of the threshold for `settle`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    crossings: int = Field(default=6, ge=2, description="flapping when crossings within `window` exceed this")
    window: Duration = timedelta(minutes=10)
    settle: Duration = Field(default=timedelta(minutes=5), description="steady this long -> settled")
