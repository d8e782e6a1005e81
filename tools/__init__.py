"""Tooling on top of the engines: local stack, benchmarks, simulated sensors, demo. Nothing imports it."""
