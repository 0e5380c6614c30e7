"""How the service did over a span: the figures managers are judged on, each beside its target.

The database counts (storage/figures.py); this puts the counts together in the domain's terms. Figures
about what happened in the span (opened, resolved, closed, rated, reopened) count events inside it;
outcomes of the span's tickets (was a complaint settled, a return visit made) are as known when the
report is made; the overdue list and each butler's open work are as of now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import ServiceLevels, Targets
from bot.model import Category, Person, Ticket
from bot.spans import Span
from storage import figures
from storage import people as people_queries
from storage import tickets as ticket_queries

# For a span still under way, "open at its end" means open after everything recorded so far, including
# a ticket closed this very microsecond (the database's resolution).
_EVERYTHING_SO_FAR = timedelta(microseconds=1)


@dataclass(frozen=True)
class Rate:
    """`hits` of `of`, beside a target where the figure has one."""

    hits: int
    of: int
    target: float | None = None

    @property
    def value(self) -> float | None:
        return self.hits / self.of if self.of else None

    @property
    def short(self) -> bool:
        """Below its target. A figure with nothing to count is not short: there is nothing to judge."""
        value = self.value
        return value is not None and self.target is not None and value < self.target - 1e-9


@dataclass(frozen=True)
class ButlerLine:
    butler: Person
    assigned: int  # tickets that reached them in the span, on opening, passed on to them or taken on
    promised: int  # ... of those, the ones the three-minute promise applies to (not taken on)
    accepted_in_time: int  # ... that they accepted within three minutes of it reaching them
    resolved: int
    resolved_on_time: int
    rated: int
    average_rating: float | None
    open_now: int


@dataclass(frozen=True)
class OverdueLine:
    ticket: Ticket
    butler: Person | None


@dataclass(frozen=True)
class Report:
    span: Span
    as_of: datetime
    new: dict[str, int]  # by category
    resolved: dict[str, int]
    closed: dict[str, int]
    open_at_end: dict[str, int]  # still open when the span ended (or now, for a span not yet over)
    complaints: int
    complaint_closure: Rate  # of those due to be settled by now: not the ones still within their time
    complaints_in_time_still: int
    acceptance: Rate  # accepted within the three-minute promise
    on_time: Rate  # resolutions within the commitment, every category
    repairs_on_time: Rate
    repairs_first_time: Rate  # closed repairs never reopened
    return_visits: Rate
    visits_waiting: int  # closed, and the survey is still running: not yet due a visit
    satisfaction: Rate  # ratings of 4 or 5
    average_rating: float | None
    reopened: int
    overdue: list[OverdueLine]
    butlers: list[ButlerLine]

    @property
    def total_new(self) -> int:
        return sum(self.new.values())

    @property
    def total_resolved(self) -> int:
        return sum(self.resolved.values())

    @property
    def total_closed(self) -> int:
        return sum(self.closed.values())

    @property
    def total_open(self) -> int:
        return sum(self.open_at_end.values())

    @property
    def shortfalls(self) -> int:
        return sum(
            rate.short
            for rate in (
                self.complaint_closure,
                self.return_visits,
                self.satisfaction,
                self.repairs_on_time,
                self.repairs_first_time,
            )
        )


async def make_report(
    conn: AsyncConnection,
    estate_id: int,
    span: Span,
    now: datetime,
    levels: ServiceLevels,
    targets: Targets,
) -> Report:
    start, end = span.start, span.end
    opened = await figures.opened(conn, estate_id, start, end, levels.accept_within, now)
    offered = await figures.offered(conn, estate_id, start, end, levels.accept_within)
    resolved = await figures.resolved(conn, estate_id, start, end)
    closed = await figures.closed(conn, estate_id, start, end, now - levels.survey_give_up_after)
    rated = await figures.rated(conn, estate_id, start, end)

    complaints = [row for row in opened if row.category == Category.COMPLAINT]
    repairs_resolved = [row for row in resolved if row.category in figures.REPAIR_CATEGORIES]
    repairs_closed = [row for row in closed if row.category in figures.REPAIR_CATEGORIES]
    visits_owed = [row.count - row.waiting for row in closed]
    ratings = sum(row.count for row in rated)
    stars = sum(row.stars for row in rated)
    return Report(
        span=span,
        as_of=now,
        new=_by_category((row.category, row.count) for row in opened),
        resolved=_by_category((row.category, row.count) for row in resolved),
        closed=_by_category((row.category, row.count) for row in closed),
        open_at_end=await figures.open_at(conn, estate_id, min(end, now + _EVERYTHING_SO_FAR)),
        complaints=sum(row.count for row in complaints),
        complaint_closure=Rate(
            sum(row.settled for row in complaints),
            sum(row.count - row.in_time_still for row in complaints),
            targets.complaint_closure,
        ),
        complaints_in_time_still=sum(row.in_time_still for row in complaints),
        acceptance=Rate(sum(row.accepted_in_time for row in opened), sum(row.count for row in opened)),
        on_time=Rate(sum(row.on_time for row in resolved), sum(row.count for row in resolved)),
        repairs_on_time=Rate(
            sum(row.on_time for row in repairs_resolved),
            sum(row.count for row in repairs_resolved),
            targets.repairs_on_time,
        ),
        repairs_first_time=Rate(
            sum(row.first_time for row in repairs_closed),
            sum(row.count for row in repairs_closed),
            targets.repairs_first_time,
        ),
        return_visits=Rate(sum(row.visited for row in closed), sum(visits_owed), targets.return_visits),
        visits_waiting=sum(row.waiting for row in closed),
        satisfaction=Rate(sum(row.satisfied for row in rated), ratings, targets.satisfaction),
        average_rating=stars / ratings if ratings else None,
        reopened=await figures.reopened(conn, estate_id, start, end),
        overdue=await _overdue(conn, estate_id, now),
        butlers=await _butler_lines(conn, estate_id, offered, resolved, rated),
    )


def _by_category(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for category, count in pairs:
        counts[category] += count
    # In the order categories are listed everywhere else, so every report reads the same way.
    return {category.value: counts[category.value] for category in Category if counts[category.value]}


async def _overdue(conn: AsyncConnection, estate_id: int, now: datetime) -> list[OverdueLine]:
    tickets = await ticket_queries.overdue_tickets(conn, estate_id, now)
    butler_ids = {ticket.butler_id for ticket in tickets if ticket.butler_id is not None}
    butlers = {person.id: person for person in await people_queries.people_by_ids(conn, butler_ids)}
    return [
        OverdueLine(ticket, butlers.get(ticket.butler_id) if ticket.butler_id else None) for ticket in tickets
    ]


async def _butler_lines(
    conn: AsyncConnection,
    estate_id: int,
    offered: list[figures.Offered],
    resolved: list[figures.Resolved],
    rated: list[figures.Rated],
) -> list[ButlerLine]:
    """A line for every butler on the roster, and for anyone else (a manager who took a ticket on, a
    butler since dropped from the roster) who had work in the span."""
    open_now = await figures.open_by_butler(conn, estate_id)
    involved = (
        {row.butler_id for row in offered}
        | {row.butler_id for row in resolved}
        | {row.butler_id for row in rated}
        | set(open_now)
    )
    butlers = {person.id: person for person in await people_queries.butlers_of_estate(conn, estate_id)}
    others = await people_queries.people_by_ids(conn, {i for i in involved if i not in butlers})
    lines = []
    for person in [*butlers.values(), *others]:
        mine_offered = [row for row in offered if row.butler_id == person.id]
        mine_resolved = [row for row in resolved if row.butler_id == person.id]
        mine_rated = [row for row in rated if row.butler_id == person.id]
        ratings = sum(row.count for row in mine_rated)
        lines.append(
            ButlerLine(
                butler=person,
                assigned=sum(row.count for row in mine_offered),
                promised=sum(row.promised for row in mine_offered),
                accepted_in_time=sum(row.accepted_in_time for row in mine_offered),
                resolved=sum(row.count for row in mine_resolved),
                resolved_on_time=sum(row.on_time for row in mine_resolved),
                rated=ratings,
                average_rating=sum(row.stars for row in mine_rated) / ratings if ratings else None,
                open_now=open_now.get(person.id, 0),
            )
        )
    return lines
