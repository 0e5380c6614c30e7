"""The managers' figures, counted by the database over a span of time [start, end).

Each query reads one range of one indexed moment (opened, resolved, closed, visited) and returns a few
grouped rows; nothing loads tickets one by one, so a month of a large estate costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import IN_HAND_STATES, OPEN_STATES, Category, TicketState
from storage.schema import ticket_events, tickets
from storage.tickets import is_overdue

# Comparing two stored moments to the second: julianday() is in days, floating point.
_SECONDS_PER_DAY = 86400.0
_TOLERANCE_SECONDS = 0.001


def _seconds_between(
    earlier: sa.ColumnElement[datetime], later: sa.ColumnElement[datetime]
) -> sa.ColumnElement[float]:
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * _SECONDS_PER_DAY


def _within(column: sa.ColumnElement[datetime], start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(column >= start, column < end)


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count().filter(condition)


# Resolved within the commitment: no later than the committed time, and it never lapsed on the way. The
# event log is asked rather than `overdue_at`, which a reopen clears for the fresh commitment it gives:
# the broken promise before it still counts.
_LAPSED = (
    sa.exists()
    .where(ticket_events.c.ticket_id == tickets.c.id, ticket_events.c.kind == "overdue")
    .correlate(tickets)
)
ON_TIME = sa.and_(tickets.c.resolved_at <= tickets.c.due_at, ~_LAPSED)


@dataclass(frozen=True)
class Opened:
    """Tickets opened in the span, of one category."""

    category: str
    count: int
    accepted_in_time: int  # accepted within the three-minute promise of being opened
    settled: int  # resolved or closed by now
    in_time_still: int  # not settled, but still within its commitment: not yet due to be settled


@dataclass(frozen=True)
class Resolved:
    category: str
    butler_id: int | None
    count: int
    on_time: int


@dataclass(frozen=True)
class Closed:
    category: str
    count: int
    visited: int  # the return visit was made (survey answered or phone visit)
    waiting: int  # not visited, and the survey is still running
    first_time: int  # never reopened


@dataclass(frozen=True)
class Rated:
    butler_id: int | None
    count: int
    satisfied: int  # 4 or 5 stars
    stars: int  # their sum, for averages over any grouping


async def opened(
    conn: AsyncConnection,
    estate_id: int,
    start: datetime,
    end: datetime,
    accept_within: timedelta,
    now: datetime,
) -> list[Opened]:
    accepted_in_time = sa.and_(
        tickets.c.accepted_at.is_not(None),
        _seconds_between(tickets.c.created_at, tickets.c.accepted_at)
        <= accept_within.total_seconds() + _TOLERANCE_SECONDS,
    )
    settled = tickets.c.state.in_((TicketState.RESOLVED, TicketState.CLOSED))
    in_time_still = sa.and_(tickets.c.state.in_(IN_HAND_STATES), ~is_overdue(now))
    rows = await conn.execute(
        sa.select(
            tickets.c.category,
            sa.func.count(),
            _count_where(accepted_in_time),
            _count_where(settled),
            _count_where(in_time_still),
        )
        .where(tickets.c.estate_id == estate_id, _within(tickets.c.created_at, start, end))
        .group_by(tickets.c.category)
    )
    return [Opened(*row) for row in rows]


@dataclass(frozen=True)
class Offered:
    """Tickets that reached one butler in the span: on opening, passed on by the ladder, or taken on."""

    butler_id: int
    count: int
    promised: int  # those the three-minute promise applies to: not the ones they took on themselves
    accepted_in_time: int  # ... that they accepted within the promise of reaching them


async def offered(
    conn: AsyncConnection, estate_id: int, start: datetime, end: datetime, accept_within: timedelta
) -> list[Offered]:
    """Each butler's own three-minute record: a butler who let a ticket lapse is charged with it, and
    the butler it was passed to is judged from when it reached them, not from when it was opened. Taking
    a ticket on is accepting it there and then, so it says nothing about the promise and is left out."""
    events = ticket_events
    detail = events.c.detail
    to_butler = sa.func.coalesce(
        sa.func.json_extract(detail, "$.butler_id"), sa.func.json_extract(detail, "$.to_id")
    ).label("butler_id")
    promised = sa.func.json_extract(detail, "$.taken_on_by").is_(None)
    met = sa.and_(
        promised,
        tickets.c.butler_id == to_butler,
        tickets.c.accepted_at.is_not(None),
        tickets.c.accepted_at >= events.c.at,
        _seconds_between(events.c.at, tickets.c.accepted_at)
        <= accept_within.total_seconds() + _TOLERANCE_SECONDS,
    )
    reached = (
        sa.select(to_butler, sa.func.count(), _count_where(promised), _count_where(met))
        .select_from(events.join(tickets, tickets.c.id == events.c.ticket_id))
        .where(
            events.c.kind.in_(("assigned", "escalated")),
            _within(events.c.at, start, end),
            tickets.c.estate_id == estate_id,
        )
        .group_by(to_butler)
    )
    return [
        Offered(int(butler_id), count, promised_count, in_time)
        for butler_id, count, promised_count, in_time in await conn.execute(reached)
        if butler_id is not None
    ]


async def resolved(conn: AsyncConnection, estate_id: int, start: datetime, end: datetime) -> list[Resolved]:
    rows = await conn.execute(
        sa.select(tickets.c.category, tickets.c.butler_id, sa.func.count(), _count_where(ON_TIME))
        .where(tickets.c.estate_id == estate_id, _within(tickets.c.resolved_at, start, end))
        .group_by(tickets.c.category, tickets.c.butler_id)
    )
    return [Resolved(*row) for row in rows]


async def closed(
    conn: AsyncConnection, estate_id: int, start: datetime, end: datetime, survey_running_since: datetime
) -> list[Closed]:
    """Tickets closed in the span; `survey_running_since`: closed after this, the survey still runs."""
    not_visited = tickets.c.return_visit_at.is_(None)
    rows = await conn.execute(
        sa.select(
            tickets.c.category,
            sa.func.count(),
            _count_where(tickets.c.return_visit_at.is_not(None)),
            _count_where(sa.and_(not_visited, tickets.c.closed_at > survey_running_since)),
            _count_where(tickets.c.reopen_count == 0),
        )
        .where(tickets.c.estate_id == estate_id, _within(tickets.c.closed_at, start, end))
        .group_by(tickets.c.category)
    )
    return [Closed(*row) for row in rows]


async def rated(conn: AsyncConnection, estate_id: int, start: datetime, end: datetime) -> list[Rated]:
    """Ratings given in the span (the moment of the return visit that gave them)."""
    rows = await conn.execute(
        sa.select(
            tickets.c.butler_id,
            sa.func.count(),
            _count_where(tickets.c.rating >= 4),
            sa.func.coalesce(sa.func.sum(tickets.c.rating), 0),
        )
        .where(
            tickets.c.estate_id == estate_id,
            _within(tickets.c.return_visit_at, start, end),
            tickets.c.rating.is_not(None),
        )
        .group_by(tickets.c.butler_id)
    )
    return [Rated(*row) for row in rows]


async def reopened(conn: AsyncConnection, estate_id: int, start: datetime, end: datetime) -> int:
    """Times a resident said "not yet" to a resolution, in the span."""
    count = await conn.execute(
        sa.select(sa.func.count())
        .select_from(ticket_events.join(tickets, tickets.c.id == ticket_events.c.ticket_id))
        .where(
            ticket_events.c.kind == "reopened",
            _within(ticket_events.c.at, start, end),
            tickets.c.estate_id == estate_id,
        )
    )
    return int(count.scalar_one())


async def open_at(conn: AsyncConnection, estate_id: int, moment: datetime) -> dict[str, int]:
    """Tickets open at `moment`, by category: opened before it and not closed by then.

    Counted as those open now plus those closed since, both small sets found by index, rather than by
    reading every ticket ever opened.
    """
    opened_before = tickets.c.created_at < moment
    open_now = sa.select(tickets.c.category).where(
        tickets.c.estate_id == estate_id, tickets.c.state.in_(OPEN_STATES), opened_before
    )
    closed_since = sa.select(tickets.c.category).where(
        tickets.c.estate_id == estate_id, tickets.c.closed_at >= moment, opened_before
    )
    both = sa.union_all(open_now, closed_since).subquery()
    rows = await conn.execute(sa.select(both.c.category, sa.func.count()).group_by(both.c.category))
    return {category: count for category, count in rows}


async def open_by_butler(conn: AsyncConnection, estate_id: int) -> dict[int, int]:
    rows = await conn.execute(
        sa.select(tickets.c.butler_id, sa.func.count())
        .where(
            tickets.c.estate_id == estate_id,
            tickets.c.state.in_(OPEN_STATES),
            tickets.c.butler_id.is_not(None),
        )
        .group_by(tickets.c.butler_id)
    )
    return {butler_id: count for butler_id, count in rows}


@dataclass(frozen=True)
class DayCounts:
    new: int
    resolved: int
    repairs_resolved: int
    repairs_on_time: int


REPAIR_CATEGORIES = (Category.REPAIR.value, Category.EMERGENCY.value)  # 零修、急修


async def day_counts(conn: AsyncConnection, estate_id: int, start: datetime, end: datetime) -> DayCounts:
    """One day of the trend chart: opened, resolved, and how many repairs were resolved on time (the
    share drawn against its target)."""
    new = await conn.execute(
        sa.select(sa.func.count()).where(
            tickets.c.estate_id == estate_id, _within(tickets.c.created_at, start, end)
        )
    )
    repair = tickets.c.category.in_(REPAIR_CATEGORIES)
    done = (
        await conn.execute(
            sa.select(sa.func.count(), _count_where(repair), _count_where(sa.and_(repair, ON_TIME))).where(
                tickets.c.estate_id == estate_id, _within(tickets.c.resolved_at, start, end)
            )
        )
    ).one()
    return DayCounts(int(new.scalar_one()), int(done[0]), int(done[1]), int(done[2]))
