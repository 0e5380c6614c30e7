"""Queries about residents' orders of paid special services and the extra costs quoted on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.money import from_cents
from storage.catalog import ServiceItem
from storage.prepared import Prepared, Record
from storage.schema import service_orders, service_quotes

DRAFT, PLACED, CANCELLED = "draft", "placed", "cancelled"
OPEN, ACCEPTED, DECLINED = "open", "accepted", "declined"


@dataclass(frozen=True)
class ServiceOrder:
    """An order as it was made: the item's name, unit and price are copies taken at order time."""

    id: int
    item_id: int
    person_id: int
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    price_cents: int
    status: str
    created_at: datetime
    draft_row: int | None
    preferred_at: datetime | None
    note: str | None
    placed_at: datetime | None
    ticket_id: int | None

    @property
    def price(self) -> Decimal:
        return from_cents(self.price_cents)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh

    def summary(self, language: str) -> str:
        """The ticket's summary in lists (/my, /tasks): the service, and the resident's note if any."""
        name = self.name(language)
        return f"{name}: {self.note}" if self.note else name

    def log_detail(self) -> dict[str, Any]:
        """What the ticket's event log keeps of the order (shown by /ticket N, bot/ticket_log.py)."""
        return {
            "order_id": self.id,
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "unit_zh": self.unit_zh,
            "unit_en": self.unit_en,
            "price_cents": self.price_cents,
            "preferred_at": self.preferred_at.isoformat() if self.preferred_at else None,
            "note": self.note or "",
        }


@dataclass(frozen=True)
class ServiceQuote:
    id: int
    ticket_id: int
    quoted_by: int
    quoted_at: datetime
    amount_cents: int
    reason: str
    status: str
    answered_at: datetime | None

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)


def _to_order(row: Row[Any] | Record) -> ServiceOrder:
    return ServiceOrder(
        id=row.id,
        item_id=row.item_id,
        person_id=row.person_id,
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        unit_zh=row.unit_zh,
        unit_en=row.unit_en,
        price_cents=row.price_cents,
        status=row.status,
        created_at=row.created_at,
        draft_row=row.draft_row,
        preferred_at=row.preferred_at,
        note=row.note,
        placed_at=row.placed_at,
        ticket_id=row.ticket_id,
    )


def _to_quote(row: Row[Any]) -> ServiceQuote:
    return ServiceQuote(
        id=row.id,
        ticket_id=row.ticket_id,
        quoted_by=row.quoted_by,
        quoted_at=row.quoted_at,
        amount_cents=row.amount_cents,
        reason=row.reason,
        status=row.status,
        answered_at=row.answered_at,
    )


def _newest_order_where(condition: sa.ColumnElement[bool]) -> Prepared:
    return Prepared(sa.select(service_orders).where(condition).order_by(service_orders.c.id.desc()).limit(1))


_BY_ID = _newest_order_where(service_orders.c.id == sa.bindparam("order_id"))
_OF_TICKET = _newest_order_where(service_orders.c.ticket_id == sa.bindparam("ticket_id"))
_DRAFT_ON = _newest_order_where(
    sa.and_(
        service_orders.c.draft_row == sa.bindparam("draft_row"),
        service_orders.c.person_id == sa.bindparam("person_id"),
        service_orders.c.status == DRAFT,
    )
)
_LATEST_DRAFT = _newest_order_where(
    sa.and_(
        service_orders.c.person_id == sa.bindparam("person_id"),
        service_orders.c.status == DRAFT,
        service_orders.c.created_at >= sa.bindparam("since"),
    )
)


async def _newest_order(conn: AsyncConnection, query: Prepared, **params: Any) -> ServiceOrder | None:
    row = await query.first(conn, **params)
    return _to_order(row) if row is not None else None


async def add_draft(
    conn: AsyncConnection, item: ServiceItem, person_id: int, draft_row: int | None, now: datetime
) -> ServiceOrder:
    """A draft order of `item`, its price, name and unit copied as they are now."""
    result = await conn.execute(
        service_orders.insert().values(
            item_id=item.id,
            person_id=person_id,
            code=item.code,
            name_zh=item.name_zh,
            name_en=item.name_en,
            unit_zh=item.unit_zh,
            unit_en=item.unit_en,
            price_cents=item.price_cents,
            status=DRAFT,
            created_at=now,
            draft_row=draft_row,
        )
    )
    found = await order_by_id(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert found is not None
    return found


async def order_by_id(conn: AsyncConnection, order_id: int) -> ServiceOrder | None:
    return await _newest_order(conn, _BY_ID, order_id=order_id)


async def order_of_ticket(conn: AsyncConnection, ticket_id: int) -> ServiceOrder | None:
    return await _newest_order(conn, _OF_TICKET, ticket_id=ticket_id)


async def draft_on(conn: AsyncConnection, draft_row: int, person_id: int) -> ServiceOrder | None:
    """The draft already shown on this message, if any: a second press of Order must not make another."""
    return await _newest_order(conn, _DRAFT_ON, draft_row=draft_row, person_id=person_id)


async def latest_draft(conn: AsyncConnection, person_id: int, since: datetime) -> ServiceOrder | None:
    """The person's newest draft made since `since`: what a message sent without replying answers."""
    return await _newest_order(conn, _LATEST_DRAFT, person_id=person_id, since=since)


async def settle_draft(
    conn: AsyncConnection,
    order_id: int,
    status: str,
    now: datetime,
    *,
    preferred_at: datetime | None = None,
    note: str | None = None,
) -> ServiceOrder | None:
    """Place or cancel a draft; None if it is no longer a draft (answered twice, or at once elsewhere)."""
    values: dict[str, Any] = {"status": status}
    if status == PLACED:
        values |= {"placed_at": now, "preferred_at": preferred_at, "note": note}
    result = await conn.execute(
        service_orders.update()
        .where(service_orders.c.id == order_id, service_orders.c.status == DRAFT)
        .values(**values)
    )
    return await order_by_id(conn, order_id) if result.rowcount == 1 else None


async def attach_ticket(conn: AsyncConnection, order_id: int, ticket_id: int) -> ServiceOrder:
    await conn.execute(
        service_orders.update().where(service_orders.c.id == order_id).values(ticket_id=ticket_id)
    )
    found = await order_by_id(conn, order_id)
    assert found is not None
    return found


# ---- extra costs ---------------------------------------------------------------------------------


async def add_quote(
    conn: AsyncConnection, ticket_id: int, quoted_by: int, amount_cents: int, reason: str, now: datetime
) -> ServiceQuote:
    result = await conn.execute(
        service_quotes.insert().values(
            ticket_id=ticket_id,
            quoted_by=quoted_by,
            quoted_at=now,
            amount_cents=amount_cents,
            reason=reason,
            status=OPEN,
        )
    )
    found = await quote_by_id(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert found is not None
    return found


async def quote_by_id(conn: AsyncConnection, quote_id: int) -> ServiceQuote | None:
    row = (await conn.execute(sa.select(service_quotes).where(service_quotes.c.id == quote_id))).first()
    return _to_quote(row) if row is not None else None


async def answer_quote(
    conn: AsyncConnection, quote_id: int, status: str, now: datetime
) -> ServiceQuote | None:
    """Record the resident's answer; None if the quote was already answered (only the first counts)."""
    result = await conn.execute(
        service_quotes.update()
        .where(service_quotes.c.id == quote_id, service_quotes.c.status == OPEN)
        .values(status=status, answered_at=now)
    )
    return await quote_by_id(conn, quote_id) if result.rowcount == 1 else None
