"""Sample data for the announcements templates, merged into tests/unit/test_texts.py's SAMPLE."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.announcements import Audience, Notice, Reach, SentFigures
from bot.model import Person, Role
from storage.announcements import Tally

_SENT_AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
_REACHED = Person(1, 1, Role.OWNER, "Li <Na>", 1, "1-101", 1101, None, "zh", False, True)
_BLOCKED = Person(2, 1, Role.RESIDENT, "Li <Na>", 1, "1-101", 1102, None, "en", False, True, unreachable=True)
_NOT_ON_TELEGRAM = Person(3, 1, Role.OWNER, "Li <Na>", 1, "1-302", None, None, "zh", False, True)

SAMPLE: dict[str, Any] = {
    # What a manager wrote arrives escaped, exactly as typed; so does a building's name from the roster.
    "announcement": Notice(7, Audience("building", "1"), "Water off tomorrow: tap & <sink>", "Li <Na>"),
    "announcement_audience": Audience("building", "<sink>"),
    "announcement_reach": Reach((_REACHED, _BLOCKED, _NOT_ON_TELEGRAM)),
    "announcements_recent": [
        SentFigures(6, Audience("vip"), _SENT_AT, Tally(delivered=1, pending=2)),
        SentFigures(5, Audience("estate"), _SENT_AT, Tally(delivered=3, unreachable=1, not_on_telegram=1)),
    ],
    "announcement_tally": Tally(delivered=3, unreachable=1, not_on_telegram=1),
    "announcement_status": "sent",
}
