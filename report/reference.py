"""Default figures of the cost model, each with its public reference and how much of it was checked.

Where the reference text was not seen (only a third party quoting it), the figure is `verified = False`
and the mail calls it "assumed". Sources, conversions and what was seen: report/README.md.

1. Leak flow: US Department of Energy (EERE Industrial Technologies Program) with the Compressed Air
   Challenge, *Compressed Air Tip Sheet #3, "Minimize Compressed Air Leaks"* (August 2004), page 1, table
   "Leakage rates (cfm) for different supply pressures and approximately equivalent orifice sizes",
   https://www.energy.gov/sites/prod/files/2014/05/f16/compressed_air3.pdf . The table gives cfm of free
   air for a discharge coefficient of 1; its footnote: multiply by 0.97 for well-rounded orifices and by
   0.61 for sharp-edged ones. The rows below are the table's own values (no factor applied).
   Seen: the tip sheet's first page up to the table caption (a copy of the PDF); the table rows themselves
   only in two independent transcriptions that agree (90 and 100 psig rows). Not verified at the source.
2. Specific energy of the compressor: 20 kW per 100 cfm at about 100 psig, the rule of thumb usually
   attributed to DOE / Compressed Air Challenge material (*Improving Compressed Air System Performance: A
   Sourcebook for Industry*, DOE EERE and CAC, 2003). The sourcebook's text with this figure was not
   seen: assumed. Configure your compressor's figure (CAGI data sheet: kW/100 cfm, or measured kWh/m³).
3. Energy price: Eurostat, *Electricity price statistics* (Statistics Explained; dataset nrg_pc_205),
   EU average price for non-household consumers, second half of 2024, excluding VAT and other recoverable
   taxes: 0.1899 EUR/kWh. Seen only as quoted from Eurostat's release by the press: assumed. A default,
   never the customer's tariff: set `energy_price_per_kwh` per site.
"""

from __future__ import annotations

from dataclasses import dataclass

CUBIC_FOOT_M3 = 0.028316846592  # exact: 1 ft = 0.3048 m
CFM_TO_M3_PER_MIN = CUBIC_FOOT_M3  # 1 ft³/min = 0.0283168 m³/min
CFM_TO_M3_PER_H = CUBIC_FOOT_M3 * 60  # 1 ft³/min = 1.69901 m³/h

DOE_TIP_SHEET_3 = (
    'US DOE Compressed Air Tip Sheet #3 "Minimize Compressed Air Leaks" (2004), leakage-rate table'
)
DOE_TIP_SHEET_3_URL = "https://www.energy.gov/sites/prod/files/2014/05/f16/compressed_air3.pdf"

# Tip sheet #3 table, cfm of free air, discharge coefficient 1: supply pressure (psig) -> orifice (in) -> cfm.
DOE_LEAK_CFM: dict[int, dict[str, float]] = {
    70: {"1/64": 0.29, "1/32": 1.16, "1/16": 4.66, "1/8": 18.62, "1/4": 74.4, "3/8": 167.8},
    80: {"1/64": 0.32, "1/32": 1.26, "1/16": 5.24, "1/8": 20.76, "1/4": 83.1, "3/8": 187.2},
    90: {"1/64": 0.36, "1/32": 1.46, "1/16": 5.72, "1/8": 23.10, "1/4": 92.0, "3/8": 206.6},
    100: {"1/64": 0.40, "1/32": 1.55, "1/16": 6.31, "1/8": 25.22, "1/4": 100.9, "3/8": 227.0},
    125: {"1/64": 0.48, "1/32": 1.94, "1/16": 7.66, "1/8": 30.65, "1/4": 122.2, "3/8": 275.5},
}
ORIFICES = tuple(DOE_LEAK_CFM[100])
# The table's footnote: its values hold for a discharge coefficient of 1.
DOE_EDGE_FACTOR: dict[str, float] = {"table": 1.0, "rounded": 0.97, "sharp": 0.61}
DOE_LEAK_TABLE_VERIFIED = False  # rows seen in transcriptions only, not in the PDF itself

DEFAULT_ORIFICE = "1/16"  # a typical small fitting leak
DEFAULT_PRESSURE_PSIG = 100  # 6.9 bar gauge, the column nearest the usual 7 bar network

SPECIFIC_POWER_KW_PER_100_CFM = 20.0
SPECIFIC_POWER_SOURCE = (
    "20 kW per 100 cfm (rule of thumb attributed to the DOE/Compressed Air Challenge sourcebook, 2003)"
)
SPECIFIC_POWER_VERIFIED = False


def kw_per_100_cfm_to_kwh_per_m3(kw_per_100_cfm: float) -> float:
    """kW per 100 cfm -> kWh per m³ of free air: (kW/100) per cfm, one cfm for an hour = 1.699 m³."""
    return kw_per_100_cfm / 100 / CFM_TO_M3_PER_H


DEFAULT_SPECIFIC_ENERGY_KWH_PER_M3 = kw_per_100_cfm_to_kwh_per_m3(SPECIFIC_POWER_KW_PER_100_CFM)  # 0.1177

DEFAULT_ENERGY_PRICE_PER_KWH = 0.1899
DEFAULT_CURRENCY = "EUR"
ENERGY_PRICE_SOURCE = (
    "Eurostat, EU average non-household electricity price, 2nd half 2024, excl. VAT (nrg_pc_205)"
)
ENERGY_PRICE_VERIFIED = False


@dataclass(frozen=True)
class LeakFlow:
    m3_per_min: float
    basis: str
    verified: bool


def orifice_flow(orifice: str, pressure_psig: int = DEFAULT_PRESSURE_PSIG, edge: str = "table") -> LeakFlow:
    """Flow of one DOE table cell (cfm -> m³/min), times the footnote's factor for the orifice's edge."""
    cfm = DOE_LEAK_CFM[pressure_psig][orifice] * DOE_EDGE_FACTOR[edge]
    factor = "" if edge == "table" else f" x {DOE_EDGE_FACTOR[edge]} ({edge} edge)"
    return LeakFlow(
        m3_per_min=cfm * CFM_TO_M3_PER_MIN,
        basis=f"{DOE_TIP_SHEET_3}, {orifice} in at {pressure_psig} psig{factor}",
        verified=DOE_LEAK_TABLE_VERIFIED,
    )
