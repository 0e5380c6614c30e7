"""Sample data for the fees templates, merged into tests/unit/test_texts.py's SAMPLE."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.model import Person, Role
from storage.fees import Fee

_SENT = datetime(2026, 11, 13, 2, 0, tzinfo=UTC)
FEE = Fee(
    id=7,
    estate_id=1,
    unit="1-101",
    period="2026-11 <Q4>",  # whatever the billing sheet says is escaped like anything typed
    amount_cents=128050,
    due_on=date(2026, 11, 10),
    stage="reminder",
    stage_at=_SENT,
    stage_reached=False,
    clock_id=3,
    paid_at=None,
)
_OWNER = Person(1, 1, Role.OWNER, "Li <Na>", 1, "1-101", None, "139", "zh", False, True)

SAMPLE: dict[str, Any] = {
    "fee": FEE,
    "fees": [FEE, Fee(8, 1, "3-601", "2026-10", 99, date(2026, 10, 31), None, None, None, 4, None)],
    "fee_days_late": 15,
    "fee_owner": _OWNER,
    "fee_reached": False,
    "fee_owners": {"1-101": _OWNER, "3-601": None},
    "fee_total": 42,
    "fee_page": 1,
    "fee_pages": 3,
    "fee_today": date(2026, 11, 20),
}
