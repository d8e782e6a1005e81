"""Alert states and per-rule watermarks in Elasticsearch, written with optimistic concurrency.

Documents: `<rule>|<device_key>` (an AlertState) and `<rule>|~watermark` (evaluated up to). Every write
carries `if_seq_no/if_primary_term` (or `op_type=create` for a new doc), so two job instances can never
silently overwrite each other: a conflict is logged and the loser reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from elasticsearch.helpers import scan, streaming_bulk

from alerts.indices import mapping
from alerts.lifecycle import AlertState
from finemeca.errors import PermanentError
from finemeca.es import ensure_index
from finemeca.logs import get_logger

log = get_logger(__name__)
WATERMARK_KEY = "~watermark"


@dataclass(frozen=True)
class Version:
    seq_no: int
    primary_term: int


@dataclass
class Stored:
    state: AlertState
    version: Version | None  # None: not in Elasticsearch yet


def doc_id(rule: str, device_key: str) -> str:
    return f"{rule}|{device_key}"


class StateConflictError(PermanentError):
    """Another writer changed a state document since we read it."""


class StateStore:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def ensure(self) -> None:
        ensure_index(self.es, self.index, mapping("state"))

    # -- states -----------------------------------------------------------------------------------------
    def load_states(self, rule: str) -> dict[str, Stored]:
        """Every stored state of a rule (after a refresh, so a write just before a crash is visible)."""
        self.es.indices.refresh(index=self.index)
        query = {"bool": {"filter": [{"term": {"rule": rule}}, {"term": {"doc_type": "state"}}]}}
        states: dict[str, Stored] = {}
        for hit in scan(self.es, index=self.index, query={"query": query, "seq_no_primary_term": True}):
            source = {k: v for k, v in hit["_source"].items() if k not in ("doc_type", "updated_at")}
            state = AlertState.model_validate(source)
            states[state.device_key] = Stored(state, Version(hit["_seq_no"], hit["_primary_term"]))
        return states

    def load_state(self, rule: str, device_key: str) -> Stored | None:
        try:
            doc = self.es.get(index=self.index, id=doc_id(rule, device_key))
        except NotFoundError:
            return None
        source = {k: v for k, v in doc["_source"].items() if k not in ("doc_type", "updated_at")}
        return Stored(AlertState.model_validate(source), Version(doc["_seq_no"], doc["_primary_term"]))

    def save_states(self, items: list[Stored]) -> tuple[list[Stored], list[str]]:
        """Write changed states; returns (saved with new versions, device keys that conflicted)."""
        now = datetime.now(UTC).isoformat()
        actions = []
        for item in items:
            action: dict[str, Any] = {
                "_index": self.index,
                "_id": doc_id(item.state.rule, item.state.device_key),
                "_source": {**item.state.model_dump(mode="json"), "doc_type": "state", "updated_at": now},
            }
            if item.version is None:
                action["_op_type"] = "create"
            else:
                action["_op_type"] = "index"
                action["if_seq_no"] = item.version.seq_no
                action["if_primary_term"] = item.version.primary_term
            actions.append(action)
        saved, conflicts = [], []
        results = streaming_bulk(
            self.es, actions, raise_on_error=False, raise_on_exception=True, max_retries=3, chunk_size=1000
        )
        for item, (ok, result) in zip(items, results, strict=True):
            body = next(iter(result.values()))
            if ok:
                saved.append(Stored(item.state, Version(body["_seq_no"], body["_primary_term"])))
            elif body.get("status") == 409:
                conflicts.append(item.state.device_key)
            else:
                raise RuntimeError(f"cannot save alert state {body.get('_id')}: {body.get('error')}")
        if conflicts:
            log.warning("alerts.state_conflict", rule=items[0].state.rule, devices=conflicts[:20])
        return saved, conflicts

    # -- watermark --------------------------------------------------------------------------------------
    def load_watermark(self, rule: str) -> tuple[datetime | None, Version | None]:
        try:
            doc = self.es.get(index=self.index, id=doc_id(rule, WATERMARK_KEY))
        except NotFoundError:
            return None, None
        value = datetime.fromisoformat(doc["_source"]["watermark"])
        return value, Version(doc["_seq_no"], doc["_primary_term"])

    def save_watermark(self, rule: str, watermark: datetime, version: Version | None) -> Version:
        body = {
            "doc_type": "watermark",
            "rule": rule,
            "watermark": watermark.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
        }
        kwargs: dict[str, Any] = (
            {"op_type": "create"}
            if version is None
            else {"if_seq_no": version.seq_no, "if_primary_term": version.primary_term}
        )
        try:
            result = self.es.index(index=self.index, id=doc_id(rule, WATERMARK_KEY), document=body, **kwargs)
        except ConflictError as exc:
            raise StateConflictError(
                f"watermark of rule {rule!r} was moved by another writer: is a second alert job running?"
            ) from exc
        return Version(result["_seq_no"], result["_primary_term"])
