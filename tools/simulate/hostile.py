"""The hostile payload corpus (tests/e2e/data/hostile.jsonl) as raw MQTT bodies: for the end-to-end test
and for soaks that mix bad input into good traffic.

A corpus line: `name`, `sensor`, expected `stage` and words of the `reason`, and the body as one of
`text` (UTF-8), `hex` (raw bytes), `repeat` ([text, times]), `json` (fields over the sensor's sample.json,
`drop` removes fields) or `pad` (the sample with a `Padding` field of that many characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.stack.settings import REPO_ROOT

CORPUS_FILE = REPO_ROOT / "tests" / "e2e" / "data" / "hostile.jsonl"


@dataclass(frozen=True)
class Hostile:
    name: str
    sensor: str
    stage: str  # the dead-letter stage it must end in
    reason: str  # words the dead-letter reason must contain
    body: bytes


def sample(sensor: str) -> dict[str, Any]:
    return json.loads((REPO_ROOT / "sensors" / sensor / "sample.json").read_text())  # type: ignore[no-any-return]


def _body(case: dict[str, Any]) -> bytes:
    if "text" in case:
        return str(case["text"]).encode()
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    if "repeat" in case:
        text, times = case["repeat"]
        return (text * times).encode()
    payload = {**sample(case["sensor"]), **case.get("json", {})}
    if "pad" in case:
        payload["Padding"] = "x" * case["pad"]
    for key in case.get("drop", []):
        payload.pop(key)
    return json.dumps(payload).encode()


def load_corpus(path: Path = CORPUS_FILE) -> list[Hostile]:
    cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [Hostile(c["name"], c["sensor"], c["stage"], c["reason"], _body(c)) for c in cases]
