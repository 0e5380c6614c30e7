"""METHODS must match the official Bot API 10.0 spec, field for field."""

import json
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import METHODS

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "telegram" / "bot-api-10.0.json"


@pytest.fixture(scope="module")
def spec_methods() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"spec not available at {SPEC_PATH}")
    methods: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))["methods"]
    return methods


def test_every_method_exists_in_spec(spec_methods: dict[str, Any]) -> None:
    assert set(METHODS) - set(spec_methods) == set()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_fields_match_spec(spec_methods: dict[str, Any], name: str) -> None:
    official = {f["name"]: (tuple(f["types"]), f["required"]) for f in spec_methods[name].get("fields", [])}
    ours = {field: (spec.types, spec.required) for field, spec in METHODS[name].items()}
    assert ours == official
