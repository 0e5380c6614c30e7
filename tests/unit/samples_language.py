"""Sample data for the language templates, merged into tests/unit/test_texts.py's SAMPLE."""

from __future__ import annotations

from typing import Any

SAMPLE: dict[str, Any] = {"unknown": True}  # language_choose: someone asked for a language not offered
