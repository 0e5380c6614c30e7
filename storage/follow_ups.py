"""Queries about follow-up tasks on closed tickets: return visits by phone, second service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import follow_ups, tickets


@dataclass(frozen=True)
class FollowUp:
    id: int
    ticket_id: int
    kind: str
    butler_id: int | None
    created_at: datetime
    done_at: datetime | None
    ticket_number: int


def _to_follow_up(row: Row[Any]) -> FollowUp:
    return FollowUp(row.id, row.ticket_id, row.kind, row.butler_id, row.created_at, row.done_at, row.number)


def _with_number() -> sa.Select[Any]:
    return sa.select(follow_ups, tickets.c.number).join(tickets, tickets.c.id == follow_ups.c.ticket_id)


async def add_follow_up(
    conn: AsyncConnection, ticket_id: int, kind: str, butler_id: int | None, now: datetime
) -> int:
    result = await conn.execute(
        follow_ups.insert().values(ticket_id=ticket_id, kind=kind, butler_id=butler_id, created_at=now)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def follow_up_by_id(conn: AsyncConnection, follow_up_id: int) -> FollowUp | None:
    row = (await conn.execute(_with_number().where(follow_ups.c.id == follow_up_id))).first()
    return _to_follow_up(row) if row is not None else None


async def open_follow_ups_of(conn: AsyncConnection, butler_id: int) -> list[FollowUp]:
    rows = await conn.execute(
        _with_number()
        .where(follow_ups.c.butler_id == butler_id, follow_ups.c.done_at.is_(None))
        .order_by(follow_ups.c.id)
    )
    return [_to_follow_up(row) for row in rows]


async def finish_follow_ups(
    conn: AsyncConnection,
    *,
    now: datetime,
    done_by: int | None,
    result: dict[str, Any],
    follow_up_id: int | None = None,
    ticket_id: int | None = None,
    kind: str | None = None,
) -> int:
    """Mark open follow-ups done: one by id, or every one of a kind on a ticket. Returns how many."""
    conditions: list[sa.ColumnElement[bool]] = [follow_ups.c.done_at.is_(None)]
    if follow_up_id is not None:
        conditions.append(follow_ups.c.id == follow_up_id)
    if ticket_id is not None:
        conditions.append(follow_ups.c.ticket_id == ticket_id)
    if kind is not None:
        conditions.append(follow_ups.c.kind == kind)
    done = await conn.execute(
        follow_ups.update().where(*conditions).values(done_at=now, done_by=done_by, result=result)
    )
    return done.rowcount
