"""Default figures of the cost model, each from a named public reference (report/README.md).

- Leak flow through a round hole at 100 psig (6.9 bar gauge, the usual 7 bar network), discharge
  coefficient 1: US DOE, *Compressed Air Tip Sheet #3 "Minimize Compressed Air Leaks"* (2004), table
  "Leakage rates (cfm) for different supply pressures and approximately equivalent orifice sizes".
- Specific energy of a good 7 bar installation: about 0.1 kWh per m³ of free air (the figure commonly
  quoted in compressed-air energy guides; replace it by your compressor's measured figure).
"""

from __future__ import annotations

CFM_TO_M3_PER_MIN = 0.028316846592  # 1 ft³ = 0.0283168 m³

# DOE tip sheet #3, 100 psig column (cfm of free air), by orifice diameter in inches.
DOE_LEAK_CFM_AT_100_PSIG: dict[str, float] = {
    "1/64": 0.40,
    "1/32": 1.55,
    "1/16": 6.31,
    "1/8": 25.2,
    "1/4": 100.9,
}
DEFAULT_ORIFICE = "1/16"  # a typical small fitting leak
DEFAULT_SPECIFIC_ENERGY_KWH_PER_M3 = 0.1
DEFAULT_ENERGY_PRICE_PER_KWH = 0.20  # placeholder: set the customer's tariff
DEFAULT_CURRENCY = "EUR"
SOURCE_LEAK_FLOW = "US DOE Compressed Air Tip Sheet #3 (2004), orifice {orifice} in at 100 psig"
SOURCE_SPECIFIC_ENERGY = "typical good 7 bar installation, 0.1 kWh/m³ free air"


def orifice_flow_m3_per_min(orifice: str) -> float:
    return DOE_LEAK_CFM_AT_100_PSIG[orifice] * CFM_TO_M3_PER_MIN
