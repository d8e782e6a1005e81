"""The report's configuration: customers, recipients and the cost model per site/line (YAML, pydantic).

Errors name the file and the field (`costs.yml: customers.acme.sites.plant.lines.line-3.orifice: ...`),
like the alert rules. See report/README.md for the file format and report/reference.py for the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from finemeca.errors import ConfigurationError
from report import reference

Source = Literal["measured", "estimated"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Energy(_Strict):
    """Compressor and tariff of a site (or the defaults)."""

    specific_energy_kwh_per_m3: float | None = Field(None, gt=0, le=1)
    specific_energy_source: Source | None = None
    energy_price_per_kwh: float | None = Field(None, ge=0)
    currency: str | None = Field(None, min_length=1, max_length=8)


class LineCost(_Strict):
    """Leak flow of one air line: measured (m³/min) or estimated from an orifice size (DOE table)."""

    leak_flow_m3_per_min: float | None = Field(None, gt=0, le=100)
    flow_source: Source = "estimated"
    orifice: str | None = None

    @field_validator("orifice")
    @classmethod
    def _known_orifice(cls, value: str | None) -> str | None:
        if value is not None and value not in reference.DOE_LEAK_CFM_AT_100_PSIG:
            raise ValueError(
                f"unknown orifice {value!r}; one of {sorted(reference.DOE_LEAK_CFM_AT_100_PSIG)}"
            )
        return value

    @model_validator(mode="after")
    def _flow_given_once(self) -> Self:
        if self.leak_flow_m3_per_min is not None and self.orifice is not None:
            raise ValueError("give leak_flow_m3_per_min or orifice, not both")
        if self.flow_source == "measured" and self.leak_flow_m3_per_min is None:
            raise ValueError("flow_source 'measured' needs leak_flow_m3_per_min")
        return self


class Site(Energy):
    lines: dict[str, LineCost] = Field(default_factory=dict, description="by air line (device name)")


class Customer(_Strict):
    recipients: list[str] = Field(min_length=1)
    timezone: str = "Europe/Brussels"
    sites: dict[str, Site] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name like Europe/Brussels)") from exc
        return value

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"not mail addresses: {bad}")
        return value


class ReportConfig(_Strict):
    defaults: Energy = Energy()
    customers: dict[str, Customer] = Field(default_factory=dict)


class LineModel(BaseModel):
    """The cost figures that apply to one line, each with where it came from."""

    leak_flow_m3_per_min: float
    flow_source: Source
    flow_basis: str
    specific_energy_kwh_per_m3: float
    specific_energy_source: Source
    energy_price_per_kwh: float
    currency: str


def line_model(config: ReportConfig, customer: str, line: str) -> LineModel:
    """Line settings, else its site's, else the file defaults, else reference.py."""
    site, cost = Site(), LineCost()
    for candidate in config.customers[customer].sites.values():
        if line in candidate.lines:
            site, cost = candidate, candidate.lines[line]
            break
    if cost.leak_flow_m3_per_min is not None:
        flow, basis = cost.leak_flow_m3_per_min, "configured flow"
    else:
        orifice = cost.orifice or reference.DEFAULT_ORIFICE
        flow = reference.orifice_flow_m3_per_min(orifice)
        basis = reference.SOURCE_LEAK_FLOW.format(orifice=orifice)
    d = config.defaults
    energy = site.specific_energy_kwh_per_m3 or d.specific_energy_kwh_per_m3
    return LineModel(
        leak_flow_m3_per_min=flow,
        flow_source=cost.flow_source,
        flow_basis=basis,
        specific_energy_kwh_per_m3=energy or reference.DEFAULT_SPECIFIC_ENERGY_KWH_PER_M3,
        specific_energy_source=(
            (site.specific_energy_source or d.specific_energy_source or "estimated")
            if energy
            else "estimated"
        ),
        energy_price_per_kwh=(
            site.energy_price_per_kwh
            if site.energy_price_per_kwh is not None
            else d.energy_price_per_kwh
            if d.energy_price_per_kwh is not None
            else reference.DEFAULT_ENERGY_PRICE_PER_KWH
        ),
        currency=site.currency or d.currency or reference.DEFAULT_CURRENCY,
    )


class ReportConfigError(ConfigurationError):
    pass


def load_config(path: Path) -> ReportConfig:
    """Parse and validate; every problem is listed as `<file>: <field path>: <message>`."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportConfigError(f"{path}: cannot read: {exc} (set REPORT_CONFIG to the report YAML)") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ReportConfigError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    try:
        return ReportConfig.model_validate(document)
    except ValidationError as exc:
        problems = [
            f"{path}: field '{'.'.join(str(p) for p in err['loc']) or '(file)'}': {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise ReportConfigError("\n".join(problems)) from exc
