"""Who gets a mail: the rule's own recipients, then per-rule / per-customer lists (YAML), then defaults."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from alerts.events import AlertEvent


class RecipientBook(BaseModel):
    default: list[str] = Field(default_factory=list)
    customers: dict[str, list[str]] = Field(default_factory=dict)
    rules: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None, defaults: list[str]) -> RecipientBook:
        book = cls.model_validate(yaml.safe_load(path.read_text()) or {}) if path else cls()
        if defaults and not book.default:
            book.default = defaults
        return book

    def for_event(self, event: AlertEvent) -> list[str]:
        found = [*event.recipients, *self.rules.get(event.rule, [])]
        if event.customer:
            found += self.customers.get(event.customer, [])
        found = found or self.default
        return list(dict.fromkeys(a.strip() for a in found if a.strip()))  # de-duplicated, ordered
