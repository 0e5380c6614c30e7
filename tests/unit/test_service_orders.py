"""Reading what residents and butlers type about a paid service: a preferred time, an extra cost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bot.service_orders import read_preferred_time, read_quote
from tests.conftest import SHANGHAI

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "moment", "note"),
    [
        ("明天 15:00 请带梯子", at(11, 21, 15), "请带梯子"),
        ("11-25 10:00 please call first", at(11, 25, 10), "please call first"),
        ("tomorrow 3pm, ring twice", at(11, 21, 15), "ring twice"),
        ("下午3点 带梯子", at(11, 20, 15), "带梯子"),
        ("１１月２５日 １０：３０", at(11, 25, 10, 30), ""),  # full-width, as a Chinese keyboard types it
        ("15:00", at(11, 20, 15), ""),
        ("08:00 please", at(11, 21, 8), "please"),  # a time of day already past today is tomorrow's
        ("今天 08:00 x", at(11, 20, 8), "x"),  # a day and a time that has passed: the caller asks again
        # No exact moment: the whole text is the note, for the butler to read.
        ("please call first", None, "please call first"),
        ("明天 请带梯子", None, "明天 请带梯子"),  # a day without a time of day means any time that day
        ("2 hours please", None, "2 hours please"),  # as likely how long as when
        ("3天后 来打扫", None, "3天后 来打扫"),
        ("3点 带梯子", None, "3点 带梯子"),  # 03:00 or 15:00? not guessed
        ("  30 m² 地板打蜡 ", None, "30 m² 地板打蜡"),
    ],
)
def test_a_preferred_time_is_read_only_when_it_names_an_exact_moment(
    text: str, moment: datetime | None, note: str
) -> None:
    assert read_preferred_time(text, NOW, SHANGHAI) == (moment, note)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("80 更换水龙头配件", (Decimal("80"), "更换水龙头配件")),
        ("80元更换水龙头配件", (Decimal("80"), "更换水龙头配件")),
        ("¥45.50 new filter", (Decimal("45.50"), "new filter")),
        ("RMB 1,280.00: new compressor", (Decimal("1280.00"), "new compressor")),
        ("  120 ， 人工费 ", (Decimal("120"), "人工费")),
        ("80", None),  # no reason
        ("new filter 80", None),  # no amount first
        ("0 nothing", None),
        ("-80 refund", None),
        ("80.123 parts", None),
        ("1,2,3 parts", None),
        ("99999999 parts", None),  # a typo of extra zeros is refused, not billed
    ],
)
def test_an_extra_cost_is_an_amount_then_a_reason(text: str, read: tuple[Decimal, str] | None) -> None:
    assert read_quote(text) == read
