"""The alert indices (state, history, mailer's sent log) and their mappings shipped as JSON next to this file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAPPINGS_DIR = Path(__file__).parent / "mappings"


def mapping(name: str) -> dict[str, Any]:
    """`state`, `history` or `sent`."""
    return json.loads((MAPPINGS_DIR / f"{name}.json").read_text())  # type: ignore[no-any-return]
