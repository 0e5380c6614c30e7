"""Which kind of request is this? Keyword rules from bot/categories.toml (报修, 投诉, 咨询 ...)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.model import Category

DEFAULT_RULES = Path(__file__).with_name("categories.toml")


@dataclass(frozen=True)
class _Rule:
    category: Category
    pattern: re.Pattern[str]


class Classifier:
    def __init__(self, rules: list[_Rule], default: Category) -> None:
        self._rules = rules
        self._default = default

    @classmethod
    def from_file(cls, path: Path | None = None) -> Classifier:
        raw = tomllib.loads((path or DEFAULT_RULES).read_text(encoding="utf-8"))
        keywords: dict[str, list[str]] = raw["keywords"]
        rules = [_Rule(Category(name), _keyword_pattern(keywords.get(name, []))) for name in raw["order"]]
        return cls([rule for rule in rules if rule.pattern.pattern], Category(raw["default"]))

    def classify(self, text: str) -> Category:
        for rule in self._rules:
            if rule.pattern.search(text):
                return rule.category
        return self._default


def _keyword_pattern(keywords: list[str]) -> re.Pattern[str]:
    # Latin keywords must match whole words ("fix" not in "prefix"); Chinese has no spaces to anchor on.
    parts = []
    for keyword in sorted(keywords, key=len, reverse=True):
        escaped = re.escape(keyword)
        parts.append(rf"\b{escaped}\b" if keyword.isascii() else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)
