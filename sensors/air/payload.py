"""`air` payload: line pressure vs the valve's opening pressure (Mod "air")."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from sensors.fields import FamilyPayload, OptionalFloat, OptionalText, UnitTable, check_range, rounded

PRESSURE = UnitTable(
    "pressure", "bar", {"bar": 1.0, "mbar": 0.001, "hPa": 0.001, "kPa": 0.01, "psi": 0.0689475729}
)
# Gauge pressure of a compressed-air line; anything outside is a broken sensor or a unit mix-up.
PRESSURE_RANGE_BAR = (-1.0, 25.0)


class AirPayload(FamilyPayload):
    pressure: OptionalFloat = Field(None, alias="Pres")
    pressure_unit: OptionalText = Field(None, alias="Pres-U")
    opening_pressure: OptionalFloat = Field(None, alias="PresOpen")
    opening_pressure_unit: OptionalText = Field(None, alias="PresOpen-U")

    @model_validator(mode="after")
    def _units_known_and_values_plausible(self) -> Self:
        for label, value, unit in (
            ("Pres", self.pressure, self.pressure_unit),
            ("PresOpen", self.opening_pressure, self.opening_pressure_unit),
        ):
            PRESSURE.check(unit)
            check_range(label, PRESSURE.to_canonical(value, unit), *PRESSURE_RANGE_BAR, "bar")
        return self

    @property
    def pressure_bar(self) -> float | None:
        return rounded(PRESSURE.to_canonical(self.pressure, self.pressure_unit))

    @property
    def opening_pressure_bar(self) -> float | None:
        return rounded(PRESSURE.to_canonical(self.opening_pressure, self.opening_pressure_unit))
