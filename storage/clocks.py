"""Queries about service clocks: setting, cancelling, and finding what is due, by the partial index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.prepared import Prepared, Record, insert_into
from storage.schema import clocks

PENDING = "pending"


@dataclass(frozen=True)
class DueClock:
    id: int
    estate_id: int
    ticket_id: int | None
    kind: str
    due_at: datetime
    detail: dict[str, Any]


_INSERT = insert_into(clocks, ("estate_id", "ticket_id", "kind", "due_at", "set_at", "detail"))
_CANCEL = Prepared(
    clocks.update()
    .where(
        clocks.c.ticket_id == sa.bindparam("ticket_id"),
        clocks.c.kind == sa.bindparam("kind"),
        clocks.c.status == PENDING,
    )
    .values(status="cancelled", settled_at=sa.bindparam("now"))
)


async def set_clock(
    conn: AsyncConnection,
    *,
    estate_id: int,
    ticket_id: int | None,
    kind: str,
    due_at: datetime,
    now: datetime,
    detail: dict[str, Any] | None = None,
    replacing: bool = True,
) -> int:
    """Start a clock; a pending clock of the same kind on the same ticket is replaced, not doubled.
    `replacing=False` when the caller knows there is none (the ticket was opened just now)."""
    if ticket_id is not None and replacing:
        await cancel_clocks(conn, ticket_id, (kind,), now=now)
    return await _INSERT.insert(
        conn,
        estate_id=estate_id,
        ticket_id=ticket_id,
        kind=kind,
        due_at=due_at,
        set_at=now,
        detail=detail or {},
    )


async def cancel_clocks(
    conn: AsyncConnection, ticket_id: int, kinds: tuple[str, ...], *, now: datetime
) -> None:
    for kind in kinds:  # each by the index of pending clocks per ticket and kind
        await _CANCEL.run(conn, ticket_id=ticket_id, kind=kind, now=now)


async def pending_kinds(conn: AsyncConnection, ticket_id: int) -> dict[str, datetime]:
    rows = await conn.execute(
        sa.select(clocks.c.kind, clocks.c.due_at).where(
            clocks.c.ticket_id == ticket_id, clocks.c.status == PENDING
        )
    )
    return {row.kind: row.due_at for row in rows}


_NEXT_DUE = Prepared(
    sa.select(clocks)
    .where(clocks.c.status == PENDING, clocks.c.due_at <= sa.bindparam("now"))
    .order_by(clocks.c.due_at, clocks.c.id)
    .limit(1)
)


async def next_due(conn: AsyncConnection, now: datetime) -> DueClock | None:
    """The earliest pending clock that is due, oldest first: clocks fire in the order they came due."""
    row = await _NEXT_DUE.first(conn, now=now)
    return _due_clock(row) if row is not None else None


async def pending_estate_clock(conn: AsyncConnection, estate_id: int, kind: str) -> DueClock | None:
    """An estate's own pending clock of `kind` (one not tied to a ticket, like the daily digest)."""
    row = (
        await conn.execute(
            sa.select(clocks)
            .where(
                clocks.c.estate_id == estate_id,
                clocks.c.ticket_id.is_(None),
                clocks.c.kind == kind,
                clocks.c.status == PENDING,
            )
            .order_by(clocks.c.due_at)
            .limit(1)
        )
    ).first()
    return _due_clock(row) if row is not None else None


def _due_clock(row: Row[Any] | Record) -> DueClock:
    return DueClock(row.id, row.estate_id, row.ticket_id, row.kind, row.due_at, dict(row.detail))


async def earliest_pending(conn: AsyncConnection) -> datetime | None:
    """When the next clock comes due, if any is waiting."""
    # ORDER BY ... LIMIT 1 reads one entry of the pending clocks' index; min() would read them all.
    earliest: datetime | None = await _EARLIEST.scalar(conn)
    return earliest


_EARLIEST = Prepared(
    sa.select(clocks.c.due_at).where(clocks.c.status == PENDING).order_by(clocks.c.due_at).limit(1)
)


async def settle(conn: AsyncConnection, clock_id: int, status: str, *, now: datetime) -> bool:
    """Mark a pending clock fired (or failed). False if it was not pending: someone else fired it."""
    result = await conn.execute(
        clocks.update()
        .where(clocks.c.id == clock_id, clocks.c.status == PENDING)
        .values(status=status, settled_at=now)
    )
    return result.rowcount == 1


async def pending_detail(conn: AsyncConnection, ticket_id: int, kind: str) -> dict[str, Any] | None:
    """What a pending clock of this kind remembers (e.g. which card it watches), if one is pending."""
    detail = (
        await conn.execute(
            sa.select(clocks.c.detail).where(
                clocks.c.ticket_id == ticket_id, clocks.c.kind == kind, clocks.c.status == PENDING
            )
        )
    ).scalar()
    return dict(detail) if detail is not None else None
