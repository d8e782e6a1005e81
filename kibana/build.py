"""Render the dashboards-as-code to NDJSON (one saved object per line, stable key order)."""

from __future__ import annotations

import json

from kibana.dashboards import all_objects


def render_ndjson() -> str:
    return "".join(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n" for obj in all_objects())
