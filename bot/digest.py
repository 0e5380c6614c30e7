"""The managers' view of the day: how the service really did, in figures computed by the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.model import IN_HAND_STATES, OPEN_STATES, Category, Person
from bot.notify import Notifier
from storage import people as people_queries
from storage.database import Database
from storage.schema import tickets


@dataclass(frozen=True)
class DayFigures:
    day_start: datetime
    new: int
    resolved: int
    closed: int
    complaints: int
    accepted: int
    accepted_within_promise: int
    rated: int
    average_rating: float | None
    satisfied: int  # ratings of 4 or 5
    overdue_now: int
    open_by_category: dict[Category, int] = field(default_factory=dict)

    @property
    def open_now(self) -> int:
        return sum(self.open_by_category.values())

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted_within_promise / self.accepted if self.accepted else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


async def figures_for_today(
    conn: AsyncConnection, estate_id: int, zone: ZoneInfo, now: datetime, accept_within: timedelta
) -> DayFigures:
    """Today so far, 'today' being the estate's local calendar day."""
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    in_estate = tickets.c.estate_id == estate_id

    def since_start(column: sa.ColumnElement[datetime]) -> sa.ColumnElement[int]:
        return sa.func.count().filter(column >= start)

    counts = (
        await conn.execute(
            sa.select(
                since_start(tickets.c.created_at).label("new"),
                since_start(tickets.c.resolved_at).label("resolved"),
                since_start(tickets.c.closed_at).label("closed"),
                sa.func.count()
                .filter(tickets.c.created_at >= start, tickets.c.category == Category.COMPLAINT.value)
                .label("complaints"),
                sa.func.count()
                .filter(tickets.c.state.in_(IN_HAND_STATES), tickets.c.due_at < now)
                .label("overdue"),
                sa.func.count()
                .filter(tickets.c.closed_at >= start, tickets.c.rating.is_not(None))
                .label("rated"),
                sa.func.avg(tickets.c.rating).filter(tickets.c.closed_at >= start).label("average"),
                sa.func.count()
                .filter(tickets.c.closed_at >= start, tickets.c.rating >= 4)
                .label("satisfied"),
            ).where(in_estate)
        )
    ).one()
    open_rows = await conn.execute(
        sa.select(tickets.c.category, sa.func.count())
        .where(in_estate, tickets.c.state.in_(OPEN_STATES))
        .group_by(tickets.c.category)
    )
    # The three-minute promise: of today's tickets someone accepted, how many within the promise.
    acceptances = (
        await conn.execute(
            sa.select(tickets.c.created_at, tickets.c.accepted_at).where(
                in_estate, tickets.c.created_at >= start, tickets.c.accepted_at.is_not(None)
            )
        )
    ).all()
    return DayFigures(
        day_start=start,
        new=counts.new,
        resolved=counts.resolved,
        closed=counts.closed,
        complaints=counts.complaints,
        accepted=len(acceptances),
        accepted_within_promise=sum(
            1 for row in acceptances if row.accepted_at - row.created_at <= accept_within
        ),
        rated=counts.rated,
        average_rating=float(counts.average) if counts.average is not None else None,
        satisfied=counts.satisfied,
        overdue_now=counts.overdue,
        open_by_category={Category(category): count for category, count in open_rows},
    )


class Digest:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, accept_within: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._accept_within = accept_within

    async def show_today(self, manager: Person) -> DayFigures:
        async with self._db.begin() as conn:
            zone = ZoneInfo(await people_queries.estate_timezone(conn, manager.estate_id))
            figures = await figures_for_today(
                conn, manager.estate_id, zone, self._clock.now(), self._accept_within
            )
            await self._notify.tell(conn, manager, "digest", figures=figures, categories=list(Category))
            return figures
