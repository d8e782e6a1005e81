"""Simulated sensors publishing over MQTT (the plugins' simulators, driven at a rate)."""
