"""The report configuration: validation errors name the file and the field; figures fall back in order."""

from __future__ import annotations

import pytest

from report.costs import ReportConfigError, line_model, load_config
from report.reference import CFM_TO_M3_PER_MIN
from report.settings import PACKAGED_CONFIG


def write(tmp_path, text):
    path = tmp_path / "report.yml"
    path.write_text(text)
    return path


def test_packaged_config_is_valid():
    config = load_config(PACKAGED_CONFIG)
    assert "finemeca" in config.customers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "customers: {acme: {recipients: [a@b.c], sites: {main: {lines: {line-1: {orifice: '3/8'}}}}}}",
            "field 'customers.acme.sites.main.lines.line-1.orifice': Value error, unknown orifice '3/8'",
        ),
        ("customers: {acme: {recipients: []}}", "field 'customers.acme.recipients'"),
        ("customers: {acme: {recipients: [nobody]}}", "not mail addresses: ['nobody']"),
        ("customers: {acme: {recipients: [a@b.c], timezone: Mars/Base}}", "unknown time zone 'Mars/Base'"),
        ("defaults: {energy_price_per_kwh: -1}", "field 'defaults.energy_price_per_kwh'"),
        ("defaults: {colour: blue}", "field 'defaults.colour': Extra inputs are not permitted"),
        (
            "customers: {acme: {recipients: [a@b.c], sites: {s: {lines: {l: {flow_source: measured}}}}}}",
            "flow_source 'measured' needs leak_flow_m3_per_min",
        ),
        ("customers: [", "invalid YAML at line 1"),
    ],
)
def test_errors_name_file_and_field(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ReportConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_line_then_site_then_defaults_then_reference(tmp_path):
    config = load_config(
        write(
            tmp_path,
            """
defaults: {energy_price_per_kwh: 0.3, currency: CHF}
customers:
  acme:
    recipients: [a@b.c]
    sites:
      main:
        specific_energy_kwh_per_m3: 0.12
        specific_energy_source: measured
        lines:
          line-1: {leak_flow_m3_per_min: 0.4, flow_source: measured}
""",
        )
    )
    one = line_model(config, "acme", "line-1")
    assert (one.leak_flow_m3_per_min, one.flow_source) == (0.4, "measured")
    assert (one.specific_energy_kwh_per_m3, one.specific_energy_source) == (0.12, "measured")
    assert (one.energy_price_per_kwh, one.currency) == (0.3, "CHF")
    other = line_model(config, "acme", "line-9")  # not configured: DOE 1/16 in, reference energy
    assert other.leak_flow_m3_per_min == pytest.approx(6.31 * CFM_TO_M3_PER_MIN)
    assert (other.flow_source, other.specific_energy_kwh_per_m3, other.specific_energy_source) == (
        "estimated",
        0.1,
        "estimated",
    )
    assert "Tip Sheet #3" in other.flow_basis and "1/16" in other.flow_basis
