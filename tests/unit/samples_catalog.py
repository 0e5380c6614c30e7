"""Sample data for the catalog templates, merged into tests/unit/test_texts.py's SAMPLE.

Every text a person could type or a manager could put in the price list carries markup, so the test
sees it arrive escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.model import Person, Role
from storage.catalog import ServiceItem
from storage.service_orders import ServiceOrder, ServiceQuote

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)

ITEM = ServiceItem(
    id=1,
    estate_id=1,
    code="cleaning-2h",
    position=1,
    name_zh="上门保洁 <sink>",
    name_en="Home cleaning <sink>",
    description_zh="两名保洁员，含 <this> 工具",
    description_en="Two cleaners, <this> tools included",
    unit_zh="2小时",
    unit_en="2 hours",
    price_cents=12000,
    active=True,
)
ORDER = ServiceOrder(
    id=1,
    item_id=1,
    person_id=1,
    code="cleaning-2h",
    name_zh="上门保洁 <sink>",
    name_en="Home cleaning <sink>",
    unit_zh="2小时",
    unit_en="2 hours",
    price_cents=12000,
    status="placed",
    created_at=NOW,
    draft_row=1,
    preferred_at=NOW,
    note="please bring a <sink> ladder",
    placed_at=NOW,
    ticket_id=1,
)
QUOTE = ServiceQuote(
    id=1,
    ticket_id=1,
    quoted_by=2,
    quoted_at=NOW,
    amount_cents=8000,
    reason="replacement tap <on order>",
    status="accepted",
    answered_at=NOW,
)

SAMPLE: dict[str, Any] = {
    "service_items": [ITEM, ITEM],
    "service_item": ITEM,
    "service_page": 1,
    "service_pages": 2,
    "service_price_changed": True,
    "service_order": ORDER,
    "service_order_state": "placed",
    "service_problem": "too_far",
    "service_latest": NOW,
    "service_quote": QUOTE,
    "service_quote_by": Person(2, 1, Role.BUTLER, "Li <Na>", 1, None, 2, None, "zh", False, True),
}
