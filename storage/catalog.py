"""Queries about the estate's price list of paid special services (特约服务, 明码标价)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.money import from_cents
from storage.schema import service_items

# What the import writes of an item, besides its estate, code and when.
ITEM_FIELDS = (
    "position",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "unit_zh",
    "unit_en",
    "price_cents",
    "active",
)


@dataclass(frozen=True)
class ServiceItem:
    id: int
    estate_id: int
    code: str
    position: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    unit_zh: str
    unit_en: str
    price_cents: int
    active: bool

    @property
    def price(self) -> Decimal:
        return from_cents(self.price_cents)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh


def _to_item(row: Row[Any]) -> ServiceItem:
    return ServiceItem(
        id=row.id,
        estate_id=row.estate_id,
        code=row.code,
        position=row.position,
        name_zh=row.name_zh,
        name_en=row.name_en,
        description_zh=row.description_zh,
        description_en=row.description_en,
        unit_zh=row.unit_zh,
        unit_en=row.unit_en,
        price_cents=row.price_cents,
        active=row.active,
    )


async def items_of_estate(conn: AsyncConnection, estate_id: int, *, active_only: bool) -> list[ServiceItem]:
    """The estate's items in the order of the file they were imported from."""
    query = sa.select(service_items).where(service_items.c.estate_id == estate_id)
    if active_only:
        query = query.where(service_items.c.active.is_(True))
    rows = await conn.execute(query.order_by(service_items.c.position, service_items.c.id))
    return [_to_item(row) for row in rows]


async def item_by_id(conn: AsyncConnection, item_id: int) -> ServiceItem | None:
    row = (await conn.execute(sa.select(service_items).where(service_items.c.id == item_id))).first()
    return _to_item(row) if row is not None else None


async def add_item(
    conn: AsyncConnection, estate_id: int, code: str, values: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        service_items.insert().values(estate_id=estate_id, code=code, updated_at=now, **values)
    )


async def update_item(conn: AsyncConnection, item_id: int, values: dict[str, Any], now: datetime) -> None:
    await conn.execute(
        service_items.update().where(service_items.c.id == item_id).values(updated_at=now, **values)
    )
