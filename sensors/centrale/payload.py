"""`centrale` payload: the measuring centre's electricity meter (Mod "meter")."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from sensors.fields import FamilyPayload, OptionalFloat, OptionalText, UnitTable, check_range, rounded

ENERGY = UnitTable("energy", "kWh", {"kWh": 1.0, "Wh": 0.001, "MWh": 1000.0})
POWER = UnitTable("power", "kW", {"kW": 1.0, "W": 0.001, "MW": 1000.0})
INDEX_RANGE_KWH = (0.0, 1e10)
POWER_RANGE_KW = (-1e5, 1e5)  # negative = export (e.g. solar panels)


class CentralePayload(FamilyPayload):
    energy_index: OptionalFloat = Field(None, alias="Index")
    energy_index_unit: OptionalText = Field(None, alias="Index-U")
    power: OptionalFloat = Field(None, alias="Power")
    power_unit: OptionalText = Field(None, alias="Power-U")
    power_l1: OptionalFloat = Field(None, alias="P1")
    power_l2: OptionalFloat = Field(None, alias="P2")
    power_l3: OptionalFloat = Field(None, alias="P3")
    phase_power_unit: OptionalText = Field(None, alias="P-U")

    @model_validator(mode="after")
    def _units_known_and_values_plausible(self) -> Self:
        ENERGY.check(self.energy_index_unit)
        check_range("Index", self.energy_index_kwh, *INDEX_RANGE_KWH, "kWh")
        POWER.check(self.power_unit)
        POWER.check(self.phase_power_unit)
        for label, value in (
            ("Power", self.power_kw),
            ("P1", self.phase_kw(self.power_l1)),
            ("P2", self.phase_kw(self.power_l2)),
            ("P3", self.phase_kw(self.power_l3)),
        ):
            check_range(label, value, *POWER_RANGE_KW, "kW")
        return self

    @property
    def energy_index_kwh(self) -> float | None:
        return rounded(ENERGY.to_canonical(self.energy_index, self.energy_index_unit))

    @property
    def power_kw(self) -> float | None:
        return rounded(POWER.to_canonical(self.power, self.power_unit))

    def phase_kw(self, value: float | None) -> float | None:
        return rounded(POWER.to_canonical(value, self.phase_power_unit))
