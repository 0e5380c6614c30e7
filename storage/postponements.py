"""Queries about moving a ticket's committed time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import postponements


@dataclass(frozen=True)
class Postponement:
    id: int
    ticket_id: int
    requested_by: int
    from_due_at: datetime
    to_due_at: datetime
    reason: str
    status: str


def _to_postponement(row: Row[Any]) -> Postponement:
    return Postponement(
        row.id, row.ticket_id, row.requested_by, row.from_due_at, row.to_due_at, row.reason, row.status
    )


async def add_postponement(conn: AsyncConnection, **values: Any) -> Postponement:
    result = await conn.execute(postponements.insert().values(**values))
    found = await postponement_by_id(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert found is not None
    return found


async def postponement_by_id(conn: AsyncConnection, postponement_id: int) -> Postponement | None:
    row = (await conn.execute(sa.select(postponements).where(postponements.c.id == postponement_id))).first()
    return _to_postponement(row) if row is not None else None


async def postponements_of(conn: AsyncConnection, ticket_id: int) -> list[Postponement]:
    rows = await conn.execute(
        sa.select(postponements).where(postponements.c.ticket_id == ticket_id).order_by(postponements.c.id)
    )
    return [_to_postponement(row) for row in rows]


async def withdraw_pending(conn: AsyncConnection, ticket_id: int, now: datetime) -> None:
    """Requests still waiting when the ticket is resolved no longer apply."""
    await conn.execute(
        postponements.update()
        .where(postponements.c.ticket_id == ticket_id, postponements.c.status == "pending")
        .values(status="withdrawn", decided_at=now)
    )


async def decide_postponement(
    conn: AsyncConnection, postponement_id: int, status: str, by: int, now: datetime
) -> bool:
    """Record a manager's decision on a pending request; False if it was already decided."""
    result = await conn.execute(
        postponements.update()
        .where(postponements.c.id == postponement_id, postponements.c.status == "pending")
        .values(status=status, decided_by=by, decided_at=now)
    )
    return result.rowcount == 1
