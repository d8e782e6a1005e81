"""The alert indices (state, history, mailer's sent log) and their mappings shipped as JSON next to this file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

MAPPINGS_DIR = Path(__file__).parent / "mappings"


def mapping(name: str) -> dict[str, Any]:
    """`state`, `history` or `sent`."""
    return json.loads((MAPPINGS_DIR / f"{name}.json").read_text())  # type: ignore[no-any-return]


def ensure_index(es: Elasticsearch, index: str, mapping_name: str) -> None:
    """Create the index with its mapping if missing (safe when several processes race)."""
    if es.indices.exists(index=index):
        return
    try:
        es.indices.create(
            index=index,
            mappings=mapping(mapping_name),
            settings={"number_of_shards": 1, "number_of_replicas": 0},
        )
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
