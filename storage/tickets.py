"""Queries about tickets and their append-only event log."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import IN_HAND_STATES, OPEN_STATES, Category, Ticket, TicketState
from storage.prepared import Prepared, Record, insert_into
from storage.schema import follow_ups, people, teams, ticket_events, tickets


def to_ticket(row: Row[Any] | Record) -> Ticket:
    return Ticket(
        id=row.id,
        estate_id=row.estate_id,
        number=row.number,
        requester_id=row.requester_id,
        owner_id=row.owner_id,
        team_id=row.team_id,
        butler_id=row.butler_id,
        category=Category(row.category),
        state=TicketState(row.state),
        summary=row.summary,
        created_at=row.created_at,
        due_at=row.due_at,
        accepted_at=row.accepted_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        last_activity_at=row.last_activity_at,
        reopen_count=row.reopen_count,
        rating=row.rating,
        rating_comment=row.rating_comment,
        overdue_at=row.overdue_at,
        return_visit_at=row.return_visit_at,
        return_visit_by=row.return_visit_by,
    )


async def ticket_by_number(conn: AsyncConnection, estate_id: int, number: int) -> Ticket | None:
    row = (
        await conn.execute(
            sa.select(tickets).where(tickets.c.estate_id == estate_id, tickets.c.number == number)
        )
    ).first()
    return to_ticket(row) if row is not None else None


async def had_a_hand_in(conn: AsyncConnection, ticket_id: int, person_id: int) -> bool:
    """Whether someone acted on the ticket (accepted, wrote, resolved ...) or was given a follow-up on it."""
    acted = sa.exists().where(ticket_events.c.ticket_id == ticket_id, ticket_events.c.actor_id == person_id)
    followed = sa.exists().where(follow_ups.c.ticket_id == ticket_id, follow_ups.c.butler_id == person_id)
    return bool((await conn.execute(sa.select(sa.or_(acted, followed)))).scalar())


_BY_ID = Prepared(sa.select(tickets).where(tickets.c.id == sa.bindparam("ticket_id")))
_HIGHEST_NUMBER = Prepared(
    sa.select(sa.func.max(tickets.c.number)).where(tickets.c.estate_id == sa.bindparam("estate_id"))
)
# A new ticket names these; the rest start empty or at their defaults.
_NEW_TICKET_COLUMNS = (
    "estate_id",
    "number",
    "requester_id",
    "owner_id",
    "team_id",
    "butler_id",
    "category",
    "state",
    "summary",
    "created_at",
    "due_at",
    "last_activity_at",
)
_INSERT = insert_into(tickets, _NEW_TICKET_COLUMNS)


async def ticket_by_id(conn: AsyncConnection, ticket_id: int) -> Ticket | None:
    row = await _BY_ID.first(conn, ticket_id=ticket_id)
    return to_ticket(row) if row is not None else None


async def next_number(conn: AsyncConnection, estate_id: int) -> int:
    """The next ticket number of the estate; numbers start at 1001 so they read as ticket numbers."""
    highest = await _HIGHEST_NUMBER.scalar(conn, estate_id=estate_id)
    return int(highest or 1000) + 1


async def insert_ticket(conn: AsyncConnection, **values: Any) -> Ticket:
    ticket_id = await _INSERT.insert(conn, **values)
    ticket = await ticket_by_id(conn, ticket_id)
    assert ticket is not None
    return ticket


async def update_ticket(conn: AsyncConnection, ticket_id: int, **values: Any) -> Ticket:
    await _update_of(tuple(sorted(values))).run(conn, ticket_id=ticket_id, **values)
    ticket = await ticket_by_id(conn, ticket_id)
    assert ticket is not None
    return ticket


@functools.cache
def _update_of(columns: tuple[str, ...]) -> Prepared:
    """The UPDATE of these columns, prepared the first time a decision changes them."""
    return Prepared(
        tickets.update()
        .where(tickets.c.id == sa.bindparam("ticket_id"))
        .values({name: sa.bindparam(name) for name in columns})
    )


async def add_event(
    conn: AsyncConnection,
    ticket_id: int,
    kind: str,
    *,
    at: datetime,
    actor_id: int | None,
    detail: dict[str, Any] | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
) -> None:
    await _ADD_EVENT.insert(
        conn,
        ticket_id=ticket_id,
        kind=kind,
        at=at,
        actor_id=actor_id,
        detail=detail or {},
        chat_id=chat_id,
        message_id=message_id,
    )


_ADD_EVENT = insert_into(
    ticket_events, ("ticket_id", "kind", "at", "actor_id", "detail", "chat_id", "message_id")
)


async def latest_open_ticket(
    conn: AsyncConnection, requester_id: int, active_since: datetime
) -> Ticket | None:
    """The requester's most recently active open ticket, if it was active since `active_since`."""
    row = await _LATEST_OPEN.first(conn, requester_id=requester_id, active_since=active_since)
    return to_ticket(row) if row is not None else None


_LATEST_OPEN = Prepared(
    sa.select(tickets)
    .where(
        tickets.c.requester_id == sa.bindparam("requester_id"),
        tickets.c.state.in_(OPEN_STATES),
        tickets.c.last_activity_at >= sa.bindparam("active_since"),
    )
    .order_by(tickets.c.last_activity_at.desc(), tickets.c.id.desc())
    .limit(1)
)


async def tickets_of_requester(conn: AsyncConnection, requester_id: int, limit: int = 15) -> list[Ticket]:
    rows = await conn.execute(
        sa.select(tickets)
        .where(tickets.c.requester_id == requester_id)
        .order_by(tickets.c.id.desc())
        .limit(limit)
    )
    return [to_ticket(row) for row in rows]


async def open_tickets_of_butler(conn: AsyncConnection, butler_id: int) -> list[Ticket]:
    rows = await conn.execute(
        sa.select(tickets)
        .where(tickets.c.butler_id == butler_id, tickets.c.state.in_(OPEN_STATES))
        .order_by(tickets.c.due_at, tickets.c.id)
    )
    return [to_ticket(row) for row in rows]


def is_overdue(now: datetime) -> sa.ColumnElement[bool]:
    """Overdue, the one definition every list and count uses: in hand and past the committed time, or
    lapsed once and not resolved since (a manager agreeing a later time does not undo a broken promise)."""
    return sa.and_(
        tickets.c.state.in_(IN_HAND_STATES),
        sa.or_(tickets.c.due_at < now, tickets.c.overdue_at.is_not(None)),
    )


async def overdue_tickets(conn: AsyncConnection, estate_id: int, now: datetime) -> list[Ticket]:
    """The manager's overdue list, longest overdue first."""
    rows = await conn.execute(
        sa.select(tickets)
        .where(tickets.c.estate_id == estate_id, is_overdue(now))
        .order_by(tickets.c.due_at, tickets.c.id)
    )
    return [to_ticket(row) for row in rows]


async def events_of(conn: AsyncConnection, ticket_id: int) -> list[Row[Any]]:
    return list(
        (
            await conn.execute(
                sa.select(ticket_events)
                .where(ticket_events.c.ticket_id == ticket_id)
                .order_by(ticket_events.c.id)
            )
        ).all()
    )


async def first_event(conn: AsyncConnection, ticket_id: int, kind: str) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(ticket_events)
            .where(ticket_events.c.ticket_id == ticket_id, ticket_events.c.kind == kind)
            .order_by(ticket_events.c.id)
            .limit(1)
        )
    ).first()


def export_rows(estate_id: int, start: datetime, end: datetime) -> sa.Select[tuple[object, ...]]:
    """Every ticket opened in [start, end) with its people's names and team, for the export (by number).

    People and team are joined here, so the rows need no further queries however many there are.
    """
    owner = people.alias("owner")
    requester = people.alias("requester")
    butler = people.alias("butler")
    t = tickets.c
    return (
        sa.select(
            t.number,
            t.created_at,
            t.category,
            t.state,
            teams.c.name.label("team"),
            owner.c.unit,
            requester.c.name.label("requester"),
            butler.c.name.label("butler"),
            t.accepted_at,
            t.due_at,
            t.resolved_at,
            t.closed_at,
            t.overdue_at,
            t.reopen_count,
            t.rating,
            t.rating_comment,
            t.return_visit_at,
            t.return_visit_by,
            t.summary,
        )
        .select_from(
            tickets.join(teams, teams.c.id == t.team_id)
            .join(owner, owner.c.id == t.owner_id)
            .join(requester, requester.c.id == t.requester_id)
            .outerjoin(butler, butler.c.id == t.butler_id)
        )
        .where(t.estate_id == estate_id, t.created_at >= start, t.created_at < end)
        .order_by(t.number)
    )
