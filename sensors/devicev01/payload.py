"""`devicev01` payload: weather-type device, temperature / pressure / humidity (Mod "weath")."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from sensors.fields import FamilyPayload, OptionalFloat, OptionalText, UnitTable, check_range, rounded

TEMPERATURE = UnitTable(
    "temperature",
    "C",
    {"C": 1.0, "°C": 1.0, "degC": 1.0, "F": 5 / 9, "°F": 5 / 9, "K": 1.0},
    offsets={"F": -32 * 5 / 9, "°F": -32 * 5 / 9, "K": -273.15},
)
PRESSURE = UnitTable("pressure", "hPa", {"hPa": 1.0, "mbar": 1.0, "Pa": 0.01, "kPa": 10.0, "bar": 1000.0})
HUMIDITY = UnitTable("humidity", "%", {"%": 1.0, "%RH": 1.0, "RH": 1.0})
TEMPERATURE_RANGE_C = (-80.0, 150.0)
PRESSURE_RANGE_HPA = (0.0, 2000.0)
HUMIDITY_RANGE = (0.0, 100.0)


class Devicev01Payload(FamilyPayload):
    temperature: OptionalFloat = Field(None, alias="Temp")
    temperature_unit: OptionalText = Field(None, alias="Temp-U")
    pressure: OptionalFloat = Field(None, alias="Pres")
    pressure_unit: OptionalText = Field(None, alias="Pres-U")
    humidity: OptionalFloat = Field(None, alias="Hum")
    humidity_unit: OptionalText = Field(None, alias="Hum-U")

    @model_validator(mode="after")
    def _units_known_and_values_plausible(self) -> Self:
        TEMPERATURE.check(self.temperature_unit)
        PRESSURE.check(self.pressure_unit)
        HUMIDITY.check(self.humidity_unit)
        check_range("Temp", self.temperature_c, *TEMPERATURE_RANGE_C, "C")
        check_range("Pres", self.pressure_hpa, *PRESSURE_RANGE_HPA, "hPa")
        check_range("Hum", self.humidity_percent, *HUMIDITY_RANGE, "%")
        return self

    @property
    def temperature_c(self) -> float | None:
        return rounded(TEMPERATURE.to_canonical(self.temperature, self.temperature_unit))

    @property
    def pressure_hpa(self) -> float | None:
        return rounded(PRESSURE.to_canonical(self.pressure, self.pressure_unit))

    @property
    def humidity_percent(self) -> float | None:
        return rounded(HUMIDITY.to_canonical(self.humidity, self.humidity_unit))
