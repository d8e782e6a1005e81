"""The ingestor's settings own what its plugins need (zone, unknown fields): one configuration path."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ingestor.settings import IngestorSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENSOR_TIMEZONE", raising=False)
    monkeypatch.delenv("SENSOR_UNKNOWN_FIELDS", raising=False)
    settings = IngestorSettings()
    assert (settings.zone, settings.unknown_fields) == (ZoneInfo("Europe/Brussels"), "reject")
    assert settings.max_retry_backoff_s == 30.0


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSOR_TIMEZONE", "America/Montreal")
    monkeypatch.setenv("SENSOR_UNKNOWN_FIELDS", "IGNORE")
    monkeypatch.setenv("INGESTOR_MAX_RETRY_BACKOFF_S", "5")
    settings = IngestorSettings()
    assert (settings.zone, settings.unknown_fields) == (ZoneInfo("America/Montreal"), "ignore")
    assert settings.max_retry_backoff_s == 5.0


def test_a_typo_fails_at_start_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSOR_UNKNOWN_FIELDS", "ignroe")
    with pytest.raises(ValidationError, match="SENSOR_UNKNOWN_FIELDS"):
        IngestorSettings()
