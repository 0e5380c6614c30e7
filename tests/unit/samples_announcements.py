"""Sample data for the announcements templates, merged into tests/unit/test_texts.py's SAMPLE."""

from __future__ import annotations

from typing import Any

SAMPLE: dict[str, Any] = {}
