"""Length policy of keyword fields (pure logic): a long name never costs a reading.

Each keyword field of a sensor mapping declares `ignore_above` (characters). A longer value would be
left unindexed by Elasticsearch (and above 32,766 bytes the whole document would be refused), so the
ingestor cuts it to that length and lists the field in `truncated_fields`: the reading is indexed, the
name stays searchable by its beginning, and the cut is visible.
"""

from __future__ import annotations

from typing import Any

from sensors.base import Document

TRUNCATED_FIELD = "truncated_fields"


def keyword_limits(mappings: dict[str, Any]) -> dict[str, int]:
    """{field: ignore_above} of the top-level keyword fields that declare one."""
    return {
        name: int(spec["ignore_above"])
        for name, spec in mappings.get("properties", {}).items()
        if spec.get("type") == "keyword" and "ignore_above" in spec
    }


def truncate_keywords(document: Document, limits: dict[str, int]) -> list[str]:
    """Cut over-long keyword values in place; return the names of the fields cut (also in the document)."""
    cut = []
    for name, limit in limits.items():
        value = document.get(name)
        if isinstance(value, str) and len(value) > limit:
            document[name] = value[:limit]
            cut.append(name)
    if cut:
        document[TRUNCATED_FIELD] = cut
    return cut
