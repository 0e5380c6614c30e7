"""Money as the service handles it: exact amounts in the estate's currency, stored in minor units (分).

A price, a quote or a fee is a Decimal with at most two places, never a float; the database keeps it as a
whole number of cents so sums and comparisons are exact. How it reads to a person is the templates' `money`
filter (bot/texts.py), in their locale.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
# Far above any estate's fee or service price: a typo of extra zeros is refused, not billed.
MAXIMUM = Decimal("10000000")

# 80, 80.5, 1,280.00, ¥80, 80元, RMB 80
_AMOUNT = re.compile(
    r"^\s*(?:¥|￥|RMB|CNY)?\s*([0-9][0-9,]*(?:\.[0-9]{1,2})?)\s*(?:元|块|RMB|CNY)?\s*$", re.I
)


def read_amount(text: str) -> Decimal | None:
    """An amount as people write it, or None if it is not one (negative, more than two decimals, zero)."""
    match = _AMOUNT.match(text)
    if match is None:
        return None
    digits = match.group(1)
    if "," in digits and not re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]{1,2})?", digits):
        return None  # "1,2,3" is not a number anyone means
    try:
        amount = Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None
    return amount if Decimal(0) < amount < MAXIMUM else None


def to_cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)
