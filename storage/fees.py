"""Queries about property fees (物业费): what a unit owes for a period, its reminders' progress, payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.money import from_cents
from storage.clocks import PENDING, DueClock
from storage.schema import clocks, fees, outbox


@dataclass(frozen=True)
class Fee:
    id: int
    estate_id: int
    unit: str
    period: str
    amount_cents: int
    due_on: date
    stage: str | None  # the last stage sent: notice, reminder, final
    stage_at: datetime | None
    stage_reached: bool | None  # whether that stage went to the owner on Telegram
    clock_id: int | None  # the clock of the next stage
    paid_at: datetime | None

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)

    @property
    def paid(self) -> bool:
        return self.paid_at is not None


def _fee(row: Row[Any]) -> Fee:
    return Fee(
        id=row.id,
        estate_id=row.estate_id,
        unit=row.unit,
        period=row.period,
        amount_cents=row.amount_cents,
        due_on=row.due_on,
        stage=row.stage,
        stage_at=row.stage_at,
        stage_reached=row.stage_reached,
        clock_id=row.clock_id,
        paid_at=row.paid_at,
    )


async def fee_by_id(conn: AsyncConnection, fee_id: int) -> Fee | None:
    row = (await conn.execute(sa.select(fees).where(fees.c.id == fee_id))).first()
    return _fee(row) if row is not None else None


async def fee_of(conn: AsyncConnection, estate_id: int, unit: str, period: str) -> Fee | None:
    row = (
        await conn.execute(
            sa.select(fees).where(fees.c.estate_id == estate_id, fees.c.unit == unit, fees.c.period == period)
        )
    ).first()
    return _fee(row) if row is not None else None


async def add_fee(
    conn: AsyncConnection, estate_id: int, unit: str, period: str, cents: int, due_on: date, now: datetime
) -> Fee:
    result = await conn.execute(
        fees.insert().values(
            estate_id=estate_id,
            unit=unit,
            period=period,
            amount_cents=cents,
            due_on=due_on,
            created_at=now,
            updated_at=now,
        )
    )
    fee = await fee_by_id(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert fee is not None
    return fee


async def change_terms(conn: AsyncConnection, fee_id: int, cents: int, due_on: date, now: datetime) -> Fee:
    """A re-imported fee's new amount or due date; only ever of an unpaid fee."""
    await conn.execute(
        fees.update()
        .where(fees.c.id == fee_id, fees.c.paid_at.is_(None))
        .values(amount_cents=cents, due_on=due_on, updated_at=now)
    )
    fee = await fee_by_id(conn, fee_id)
    assert fee is not None
    return fee


async def set_next_clock(conn: AsyncConnection, fee_id: int, clock_id: int | None) -> None:
    await conn.execute(fees.update().where(fees.c.id == fee_id).values(clock_id=clock_id))


async def record_stage(conn: AsyncConnection, fee: Fee, stage: str, *, reached: bool, now: datetime) -> bool:
    """Note that `stage` went; False (and nothing noted) if the fee was paid or moved on meanwhile."""
    result = await conn.execute(
        fees.update()
        .where(
            fees.c.id == fee.id,
            fees.c.paid_at.is_(None),
            fees.c.stage.is_(None) if fee.stage is None else fees.c.stage == fee.stage,
        )
        .values(stage=stage, stage_at=now, stage_reached=reached)
    )
    return result.rowcount == 1


async def mark_paid(conn: AsyncConnection, fee_id: int, by: int | None, now: datetime) -> bool:
    """Mark the fee paid; False if it already was (a second press, or the command line first)."""
    result = await conn.execute(
        fees.update()
        .where(fees.c.id == fee_id, fees.c.paid_at.is_(None))
        .values(paid_at=now, paid_by=by, clock_id=None, updated_at=now)
    )
    return result.rowcount == 1


async def pending_clock(conn: AsyncConnection, clock_id: int | None) -> DueClock | None:
    """The fee's next-stage clock, if it is still pending."""
    if clock_id is None:
        return None
    row = (
        await conn.execute(sa.select(clocks).where(clocks.c.id == clock_id, clocks.c.status == PENDING))
    ).first()
    if row is None:
        return None
    return DueClock(row.id, row.estate_id, row.ticket_id, row.kind, row.due_at, dict(row.detail))


def _past_due(estate_id: int, today: date) -> sa.ColumnElement[bool]:
    return sa.and_(fees.c.estate_id == estate_id, fees.c.paid_at.is_(None), fees.c.due_on < today)


async def count_unpaid_past_due(conn: AsyncConnection, estate_id: int, today: date) -> int:
    """How many of the estate's fees are unpaid after their due date (a day before `today`)."""
    return int(
        (await conn.execute(sa.select(sa.func.count()).where(_past_due(estate_id, today)))).scalar_one()
    )


async def unpaid_past_due(
    conn: AsyncConnection, estate_id: int, today: date, *, offset: int, limit: int
) -> list[Fee]:
    """One page of them, the longest overdue first."""
    rows = await conn.execute(
        sa.select(fees)
        .where(_past_due(estate_id, today))
        .order_by(fees.c.due_on, fees.c.unit, fees.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_fee(row) for row in rows]


async def paid_among(conn: AsyncConnection, fee_ids: list[int]) -> set[int]:
    rows = await conn.execute(sa.select(fees.c.id).where(fees.c.id.in_(fee_ids), fees.c.paid_at.is_not(None)))
    return {row.id for row in rows}


async def buttons_now(
    conn: AsyncConnection, chat_id: int, outbox_row: int | None
) -> list[list[dict[str, str]]]:
    """The buttons a message the bot sent shows now (its latest edit's, else those it was sent with), so a
    list of fees can lose the buttons of fees paid since without being sent again."""
    if outbox_row is None:
        return []
    edited = (
        await conn.execute(
            sa.select(outbox.c.payload)
            .where(
                outbox.c.chat_id == chat_id,
                outbox.c.kind == "edit_buttons",
                outbox.c.payload["of"].as_integer() == outbox_row,
            )
            .order_by(outbox.c.id.desc())
            .limit(1)
        )
    ).scalar()
    if edited is None:
        edited = (await conn.execute(sa.select(outbox.c.payload).where(outbox.c.id == outbox_row))).scalar()
    return list(edited.get("buttons") or []) if edited else []
