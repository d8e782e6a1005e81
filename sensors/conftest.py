"""Integration fixtures for the sensor tests: the shared ones of tests/conftest.py (real local stack)."""

from tests.conftest import es, es_settings, mqtt_settings, stack, unique_name

__all__ = ["es", "es_settings", "mqtt_settings", "stack", "unique_name"]
