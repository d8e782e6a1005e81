"""The cost model's reference defaults: DOE table cells, conversions, what is "assumed" (pure logic)."""

from __future__ import annotations

import pytest

from report import reference
from report.costs import ReportConfig, line_model


def config(line: dict[str, object] | None = None, site: dict[str, object] | None = None) -> ReportConfig:
    return ReportConfig.model_validate(
        {
            "customers": {
                "acme": {
                    "recipients": ["plant@acme.example"],
                    "sites": {"main": {**(site or {}), "lines": {"line-1": line or {}}}},
                }
            }
        }
    )


def test_conversions_written_down():
    assert round(reference.CFM_TO_M3_PER_H, 6) == 1.699011  # 0.0283168 m³ x 60
    # 20 kW per 100 cfm = 0.2 kW for 1.699 m³/h = 0.1177 kWh per m³
    assert round(reference.DEFAULT_SPECIFIC_ENERGY_KWH_PER_M3, 6) == round(0.2 / 1.699011, 6)


def test_doe_table_cell_pressure_and_edge_factor():
    default = line_model(config(), "acme", "line-1")
    assert default.leak_flow_m3_per_min == pytest.approx(6.31 * 0.0283168466)  # 1/16 in at 100 psig
    assert "1/16 in at 100 psig" in default.flow_basis
    sharp = line_model(
        config({"orifice": "1/4", "pressure_psig": 90, "orifice_edge": "sharp"}), "acme", "line-1"
    )
    assert sharp.leak_flow_m3_per_min == pytest.approx(92.0 * 0.61 * 0.0283168466)
    assert "1/4 in at 90 psig x 0.61 (sharp edge)" in sharp.flow_basis


def test_unchecked_defaults_are_assumed_and_the_default_price_is_named():
    model = line_model(config(), "acme", "line-1")
    assert model.assumed == ["leak flow", "specific energy", "energy price"]
    assert model.price_is_default and model.energy_price_per_kwh == 0.1899
    assert "Eurostat" in model.price_basis
    own = line_model(
        config(
            {"leak_flow_m3_per_min": 0.3}, {"specific_energy_kwh_per_m3": 0.11, "energy_price_per_kwh": 0.0}
        ),
        "acme",
        "line-1",
    )
    assert own.assumed == [] and own.price_basis == "configured tariff" and own.energy_price_per_kwh == 0.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"orifice": "1/3"}, "unknown orifice"),
        ({"pressure_psig": 95}, "pressure_psig"),
        ({"leak_flow_m3_per_min": 0.2, "orifice_edge": "sharp"}, "DOE orifice table"),
        ({"meter": ""}, "meter"),
    ],
)
def test_invalid_line_settings_are_named(line, message):
    with pytest.raises(ValueError, match=message):
        config(line)
