"""The managers' figures, field by field, against a day worked out by hand.

The fixture is one realistic Thursday of the test estate (2026-11-19 in Shanghai) written straight into
the tables, plus a few tickets of the days around it for the week and month spans. Every expected number
below is a literal counted from the ticket table in the fixture's docstring, never from the code under
test; each comment names the tickets it counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import ServiceLevels, Targets
from bot.reports import Rate, Report, make_report
from bot.spans import Span, SpanError, local_midnight, read_span
from bot.texts import percent
from storage.database import Database
from storage.schema import estates, people, teams, ticket_events, tickets
from tests.conftest import SHANGHAI

LEVELS = ServiceLevels()
TARGETS = Targets()

THE_DAY = date(2026, 11, 19)  # a Thursday; the digest of it is made the next morning
TODAY = date(2026, 11, 20)


def at(day: int, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    """A moment of November 2026 in the estate's local time."""
    return datetime(2026, 11, day, hour, minute, second, microsecond, tzinfo=SHANGHAI)


MORNING_AFTER = at(20, 8)  # when the daily digest of the 19th is made


@dataclass(frozen=True)
class Someone:
    id: int
    name: str
    team_id: int | None


class Desk:
    """Writes tickets and their events straight into the tables of one estate, a sentence each."""

    def __init__(self, conn: AsyncConnection, estate_id: int, cast: dict[str, Someone]) -> None:
        self.conn = conn
        self.estate_id = estate_id
        self.cast = cast

    async def ticket(
        self,
        number: int,
        category: str,
        *,
        by: str,
        opened: datetime,
        to: str,
        due: datetime,
        accepted: datetime | None = None,
        resolved: datetime | None = None,
        closed: datetime | None = None,
        lapsed: datetime | None = None,
        visited: datetime | None = None,
        visit_by: str = "survey",
        rating: int | None = None,
        reopened: int = 0,
        now_with: str | None = None,
    ) -> int:
        """A ticket opened by `by` and assigned to `to` on opening; `now_with` is the butler who holds it
        at the end, if it moved on. The state follows from the last moment given."""
        requester, first = self.cast[by], self.cast[to]
        holder = self.cast[now_with or to]
        state = "closed" if closed else "resolved" if resolved else "accepted" if accepted else "new"
        moments = [m for m in (opened, accepted, resolved, closed, visited) if m is not None]
        assert requester.team_id is not None
        ticket_id = await _insert(
            self.conn,
            tickets,
            estate_id=self.estate_id,
            number=number,
            requester_id=requester.id,
            owner_id=requester.id,
            team_id=requester.team_id,
            butler_id=holder.id,
            category=category,
            state=state,
            summary=f"{category} of {requester.name}",
            created_at=opened,
            due_at=due,
            accepted_at=accepted,
            resolved_at=resolved,
            closed_at=closed,
            last_activity_at=max(moments),
            reopen_count=reopened,
            rating=rating,
            overdue_at=lapsed,
            return_visit_at=visited,
            return_visit_by=visit_by if visited else None,
        )
        await self.event(ticket_id, opened, None, "assigned", {"butler_id": first.id, "butler": first.name})
        if lapsed is not None:
            await self.event(ticket_id, lapsed, None, "overdue", {"due_at": due.isoformat()})
        return ticket_id

    async def passed_on(self, ticket_id: int, when: datetime, from_: str, to: str | None) -> None:
        """The escalation ladder handed it on (to the managers when `to` is None)."""
        following = self.cast[to] if to else None
        detail = {
            "reason": "not_accepted",
            "from_id": self.cast[from_].id,
            "to_id": following.id if following else None,
            "to": following.name if following else "managers",
        }
        await self.event(ticket_id, when, None, "escalated", detail)

    async def taken_on(self, ticket_id: int, when: datetime, by: str) -> None:
        """Someone took on a ticket nobody held (a manager, after the ladder ran out)."""
        staff = self.cast[by]
        await self.event(
            ticket_id, when, staff.id, "assigned", {"butler_id": staff.id, "taken_on_by": staff.name}
        )

    async def said_not_yet(self, ticket_id: int, when: datetime, by: str) -> None:
        await self.event(ticket_id, when, self.cast[by].id, "reopened", {})

    async def event(
        self, ticket_id: int, when: datetime, actor_id: int | None, kind: str, detail: dict[str, Any]
    ) -> None:
        await self.conn.execute(
            ticket_events.insert().values(
                ticket_id=ticket_id, at=when, actor_id=actor_id, kind=kind, detail=detail
            )
        )


async def _insert(conn: AsyncConnection, table: sa.Table, **values: Any) -> int:
    result = await conn.execute(table.insert().values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


ROSTER_KEYS = {
    "manager": 900,
    "a1": 101,
    "a2": 102,
    "a3": 103,
    "b1": 201,
    "b2": 202,
    "zhang": 1101,  # owner, team A
    "sun": 1302,  # owner, team A
    "chen": 3502,  # owner, team B
    "wu": 3601,  # owner, team B
}


async def _cast(conn: AsyncConnection) -> dict[str, Someone]:
    rows = {
        row.telegram_id: Someone(row.id, row.name, row.team_id)
        for row in await conn.execute(
            sa.select(people.c.id, people.c.name, people.c.team_id, people.c.telegram_id)
        )
    }
    return {key: rows[telegram_id] for key, telegram_id in ROSTER_KEYS.items()}


async def _estate_id(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(sa.select(estates.c.id))).scalar_one())


@dataclass(frozen=True)
class Estate:
    db: Database
    id: int
    cast: dict[str, Someone]

    async def report(self, span: Span, now: datetime) -> Report:
        async with self.db.read() as conn:
            return await make_report(conn, self.id, span, now.astimezone(UTC), LEVELS, TARGETS)


@pytest.fixture
async def quiet(rostered_db: Database) -> Estate:
    """The test estate with its roster and not a single ticket."""
    async with rostered_db.read() as conn:
        cast = await _cast(conn)
    return Estate(rostered_db, await _estate_id(rostered_db), cast)


@pytest.fixture
async def thursday(quiet: Estate) -> Estate:
    """The test estate's Thursday 2026-11-19 (Shanghai), as the database holds it at 08:00 on the 20th.

    #     category    by     butler    opened    accepted  due       resolved  closed    visit, rating
    1001  repair      Zhang  A1        19 09:00  09:02     19 17:00  19 11:00  19 12:00  survey 19 14:00, 5
    1002  repair      Sun    A2        19 08:00  08:03:00  21 11:00  19 15:00  19 16:00  -
    1003  emergency   Chen   B1        18 23:50  23:51     19 03:50  19 00:20  19 07:00  phone 19 10:00, -
    1004  inquiry     Wu     B1        19 23:59  20 00:01  21 23:59  20 00:05  20 07:30  -
    1005  service     Zhang  A3        20 00:00  20 00:01  22 00:00  -         -         -
    1006  complaint   Sun    A1 > A2   19 14:00  14:04     21 14:00  19 18:00  -         -
    1007  complaint   Chen   B1        19 10:00  10:01     21 10:00  -         -         -
    1008  repair      Zhang  A1        18 09:00  18 09:01  19 12:00  19 15:00  -         -
    1009  repair      Sun    A2        18 20:00  18 20:02  19 18:00  19 16:00  19 17:00  survey 19 20:00, 4
    1010  suggestion  Wu     B1        19 11:00  11:01     21 11:00  19 11:30  19 12:00  survey 19 13:00, 2
    1011  service     Zhang  A3        12 23:50  12 23:51  14 23:50  13 00:00  15 00:00  survey 17 20:00, 3
    1012  repair      Zhang  A3        19 09:30  09:31     19 17:30  -         -         -
    1013  emergency   Chen   B1        19 06:00  06:02     20 18:00  -         -         -
    1014  inquiry     Zhang  A1        15 10:00  15 10:01  17 10:00  15 12:00  16 07:00  -
    1015  emergency   Wu     B1 > mgr  19 21:00  21:05     20 01:00  19 21:40  -         -

    1002: resolved first at 10:00, reopened ("not yet") at 11:00, resolved again and closed; unvisited.
    1003: spans midnight: opened the 18th, resolved 00:20 on the 19th (16:20 UTC on the 18th).
    1004: opened a minute before the day's end; closed the next morning, unvisited.
    1005: opened at 00:00:00 on the 20th, the first moment after the day.
    1006: A1 let it lapse; passed on to A2 at 14:03, who accepted a minute later.
    1007: the complaint not settled.
    1008: lapsed at 19 12:00 and resolved late.
    1009: lapsed at 19 09:00, then postponed to 18:00 and resolved before it: still not on time.
    1011: resolved at 00:00:00 on the 13th, a week's first moment.
    1012: lapsed at 19 17:30, still in hand: overdue.
    1013: lapsed at 19 10:00, then postponed to the 20th 18:00: still overdue.
    1014: closed 16 07:00 and never visited: a visit owed from 19 07:00.
    1015: B1 let it lapse; passed on to the managers at 21:03 (B2 off duty), taken on by Manager Liu 21:05.

    Each ticket is assigned to its first butler as it opens. B2 has nothing at all. A neighbouring estate
    has a busy 19th in the same tables (a late, reopened, poorly rated repair and an overdue complaint),
    none of which may count here.
    """
    async with quiet.db.begin() as conn:
        desk = Desk(conn, quiet.id, quiet.cast)
        await desk.ticket(
            1001, "repair", by="zhang", to="a1", opened=at(19, 9), accepted=at(19, 9, 2), due=at(19, 17),
            resolved=at(19, 11), closed=at(19, 12), visited=at(19, 14), rating=5,
        )  # fmt: skip
        t1002 = await desk.ticket(
            1002, "repair", by="sun", to="a2", opened=at(19, 8), accepted=at(19, 8, 3), due=at(21, 11),
            resolved=at(19, 15), closed=at(19, 16), reopened=1,
        )  # fmt: skip
        await desk.said_not_yet(t1002, at(19, 11), "sun")
        await desk.ticket(
            1003, "emergency", by="chen", to="b1", opened=at(18, 23, 50), accepted=at(18, 23, 51),
            due=at(19, 3, 50), resolved=at(19, 0, 20), closed=at(19, 7), visited=at(19, 10), visit_by="phone",
        )  # fmt: skip
        await desk.ticket(
            1004, "inquiry", by="wu", to="b1", opened=at(19, 23, 59), accepted=at(20, 0, 1),
            due=at(21, 23, 59), resolved=at(20, 0, 5), closed=at(20, 7, 30),
        )  # fmt: skip
        await desk.ticket(
            1005, "service", by="zhang", to="a3", opened=at(20, 0), accepted=at(20, 0, 1), due=at(22, 0),
        )  # fmt: skip
        t1006 = await desk.ticket(
            1006, "complaint", by="sun", to="a1", now_with="a2", opened=at(19, 14), accepted=at(19, 14, 4),
            due=at(21, 14), resolved=at(19, 18),
        )  # fmt: skip
        await desk.passed_on(t1006, at(19, 14, 3), "a1", "a2")
        await desk.ticket(
            1007, "complaint", by="chen", to="b1", opened=at(19, 10), accepted=at(19, 10, 1), due=at(21, 10),
        )  # fmt: skip
        await desk.ticket(
            1008, "repair", by="zhang", to="a1", opened=at(18, 9), accepted=at(18, 9, 1), due=at(19, 12),
            lapsed=at(19, 12), resolved=at(19, 15),
        )  # fmt: skip
        await desk.ticket(
            1009, "repair", by="sun", to="a2", opened=at(18, 20), accepted=at(18, 20, 2), due=at(19, 18),
            lapsed=at(19, 9), resolved=at(19, 16), closed=at(19, 17), visited=at(19, 20), rating=4,
        )  # fmt: skip
        await desk.ticket(
            1010, "suggestion", by="wu", to="b1", opened=at(19, 11), accepted=at(19, 11, 1), due=at(21, 11),
            resolved=at(19, 11, 30), closed=at(19, 12), visited=at(19, 13), rating=2,
        )  # fmt: skip
        await desk.ticket(
            1011, "service", by="zhang", to="a3", opened=at(12, 23, 50), accepted=at(12, 23, 51),
            due=at(14, 23, 50), resolved=at(13, 0), closed=at(15, 0), visited=at(17, 20), rating=3,
        )  # fmt: skip
        await desk.ticket(
            1012, "repair", by="zhang", to="a3", opened=at(19, 9, 30), accepted=at(19, 9, 31),
            due=at(19, 17, 30), lapsed=at(19, 17, 30),
        )  # fmt: skip
        await desk.ticket(
            1013, "emergency", by="chen", to="b1", opened=at(19, 6), accepted=at(19, 6, 2), due=at(20, 18),
            lapsed=at(19, 10),
        )  # fmt: skip
        await desk.ticket(
            1014, "inquiry", by="zhang", to="a1", opened=at(15, 10), accepted=at(15, 10, 1), due=at(17, 10),
            resolved=at(15, 12), closed=at(16, 7),
        )  # fmt: skip
        t1015 = await desk.ticket(
            1015, "emergency", by="wu", to="b1", now_with="manager", opened=at(19, 21),
            accepted=at(19, 21, 5), due=at(20, 1), resolved=at(19, 21, 40),
        )  # fmt: skip
        await desk.passed_on(t1015, at(19, 21, 3), "b1", None)
        await desk.taken_on(t1015, at(19, 21, 5), "manager")
        await _another_estate(conn)
    return quiet


async def _another_estate(conn: AsyncConnection) -> None:
    """A neighbouring estate's busy 19th in the same tables: its butler assigned, resolving, rated,
    reopened and holding an overdue ticket, so a figure that forgot the estate would show it."""
    estate_id = await _insert(conn, estates, name="neighbour", timezone="Asia/Shanghai")
    team_id = await _insert(conn, teams, estate_id=estate_id, name="A")
    cast = {}
    for key, role, unit in (("butler", "butler", ""), ("owner", "owner", "9-901")):
        name = f"Neighbour {key}"
        person_id = await _insert(
            conn,
            people,
            estate_id=estate_id,
            role=role,
            name=name,
            roster_key=unit,
            team_id=team_id,
            unit=unit or None,
            created_at=at(1, 0),
            updated_at=at(1, 0),
        )
        cast[key] = Someone(person_id, name, team_id)
    desk = Desk(conn, estate_id, cast)
    reopened = await desk.ticket(
        1001, "repair", by="owner", to="butler", opened=at(19, 9), accepted=at(19, 9, 1), due=at(19, 9, 30),
        lapsed=at(19, 9, 30), resolved=at(19, 11), closed=at(19, 12), visited=at(19, 13), rating=1,
        reopened=1,
    )  # fmt: skip
    await desk.said_not_yet(reopened, at(19, 10, 30), "owner")
    await desk.ticket(1002, "complaint", by="owner", to="butler", opened=at(19, 15), due=at(19, 16))


Line = tuple[str, int, int, int, int, int, float | None, int]


def lines(report: Report) -> list[Line]:
    """Each butler line as (name, assigned, accepted in time, resolved, resolved on time, rated,
    average rating, open now)."""
    return [
        (
            line.butler.name,
            line.assigned,
            line.accepted_in_time,
            line.resolved,
            line.resolved_on_time,
            line.rated,
            line.average_rating,
            line.open_now,
        )
        for line in report.butlers
    ]


def overdue(report: Report) -> list[tuple[int, str | None]]:
    return [(line.ticket.number, line.butler.name if line.butler else None) for line in report.overdue]


def _same_people(report: Report, estate: Estate, keys: Sequence[str]) -> None:
    assert [line.butler.id for line in report.butlers] == [estate.cast[key].id for key in keys]


# ---- the day --------------------------------------------------------------------------------------------


async def test_the_daily_digest_of_the_19th(thursday: Estate) -> None:
    span = Span.day(THE_DAY, SHANGHAI)
    report = await thursday.report(span, MORNING_AFTER)

    assert report.span == span
    assert report.as_of == MORNING_AFTER
    # Opened on the 19th: not #1003 (23:50 on the 18th), not #1005 (00:00:00 on the 20th).
    assert report.new == {
        "repair": 3,  # 1001, 1002, 1012
        "complaint": 2,  # 1006, 1007
        "inquiry": 1,  # 1004, at 23:59 local
        "suggestion": 1,  # 1010
        "emergency": 2,  # 1013, 1015
    }
    assert list(report.new) == ["repair", "complaint", "inquiry", "suggestion", "emergency"]  # Category order
    assert report.total_new == 9
    # Resolved on the 19th: #1003 at 00:20 local (16:20 UTC on the 18th) counts; #1004 (00:05 on the 20th)
    # does not; #1002 counts once, at its final resolution.
    assert report.resolved == {
        "repair": 4,  # 1001, 1002, 1008, 1009
        "complaint": 1,  # 1006
        "suggestion": 1,  # 1010
        "emergency": 2,  # 1003, 1015
    }
    assert report.total_resolved == 8
    assert report.closed == {"repair": 3, "suggestion": 1, "emergency": 1}  # 1001 1002 1009 | 1010 | 1003
    assert report.total_closed == 5
    # Open at midnight: in hand or resolved then; #1004 was still open at midnight (closed 07:30 on the
    # 20th), #1005 opened exactly at midnight, so not before it.
    assert report.open_at_end == {
        "repair": 2,  # 1008 (resolved), 1012
        "complaint": 2,  # 1006 (resolved), 1007
        "inquiry": 1,  # 1004
        "emergency": 2,  # 1013, 1015 (resolved)
    }
    assert report.total_open == 7
    assert report.complaints == 2  # 1006, 1007
    # 1006 resolved; 1007 is still in hand but within its commitment (the 21st): not yet due to be settled.
    assert report.complaint_closure == Rate(1, 1, 0.98)
    assert report.complaints_in_time_still == 1
    assert not report.complaint_closure.short
    # Of the 9 opened, all but 1006 (4 min, via the hop) and 1015 (5 min) accepted within 3 minutes;
    # 1002 at exactly 3:00 is in time, 1004 was accepted after midnight but 2 minutes on.
    assert report.acceptance == Rate(7, 9)
    assert not report.acceptance.short  # no target
    # Of the 8 resolved, 1008 was late and 1009 lapsed before its postponement.
    assert report.on_time == Rate(6, 8)
    assert report.repairs_on_time == Rate(4, 6, 0.92)  # 1001 1002 1003 1015 of those + 1008 1009
    assert report.repairs_on_time.short
    assert report.repairs_first_time == Rate(3, 4, 0.98)  # 1001 1003 1009; 1002 was reopened
    assert report.repairs_first_time.short
    # Closed on the 19th: 1001 1003 1009 1010 visited; 1002 (closed 16:00) is still in its survey's 3 days.
    assert report.return_visits == Rate(4, 4, 1.0)
    assert not report.return_visits.short
    assert report.visits_waiting == 1  # 1002
    # Rated on the 19th: 1001 (5), 1009 (4, at 20:00), 1010 (2); not 1011 (rated on the 17th).
    assert report.satisfaction == Rate(2, 3, 0.9)
    assert report.satisfaction.short
    assert report.average_rating == pytest.approx(11 / 3)
    assert report.reopened == 1  # 1002 at 11:00
    # In hand now and past due (1012) or lapsed and postponed (1013); longest due first.
    # 1008 lapsed too but is resolved: not in hand.
    assert overdue(report) == [(1012, "Butler A3"), (1013, "Butler B1")]
    assert [line.ticket.state for line in report.overdue] == ["accepted", "accepted"]
    assert report.shortfalls == 3  # satisfaction, repairs on time, repairs first time
    _same_people(report, thursday, ["a1", "a2", "a3", "b1", "b2", "manager"])
    assert lines(report) == [
        # A1: 1001 on opening (in time); 1006 on opening, let lapse to A2. Resolved 1001, 1008 (late).
        # Rated 1001. Holds 1008 (resolved).
        ("Butler A1", 2, 1, 2, 1, 1, 5.0, 1),
        # A2: 1002 on opening (3:00 exactly); 1006 from A1 at 14:03, accepted 14:04. Resolved 1002, 1006
        # and 1009 (lapsed). Rated 1009. Holds 1006 (resolved).
        ("Butler A2", 2, 2, 3, 2, 1, 4.0, 1),
        # A3: 1012. Nothing resolved or rated on the 19th (1011 was rated on the 17th). Holds 1005, 1012.
        ("Butler A3", 1, 1, 0, 0, 0, None, 2),
        # B1: 1004 1007 1010 1013 in time, 1015 lapsed to the managers (1003 reached B1 on the 18th).
        # Resolved 1003, 1010. Rated 1010. Holds 1007, 1013.
        ("Butler B1", 5, 4, 2, 2, 1, 2.0, 2),
        ("Butler B2", 0, 0, 0, 0, 0, None, 0),  # nothing at all
        # The manager took 1015 on: it reached them then, but taking on is accepting there and then, so
        # it says nothing about the three-minute promise (see the promised counts below); then resolved it.
        ("Manager Liu", 1, 0, 1, 1, 0, None, 1),
    ]
    # Only a ticket taken on is outside the promise; every other ticket that reached someone is in it.
    assert [
        (line.butler.name, line.promised) for line in report.butlers if line.promised != line.assigned
    ] == [("Manager Liu", 0)]


async def test_each_estate_counts_only_its_own(thursday: Estate) -> None:
    """The neighbour's 19th, counted apart from ours (and none of it showed in ours above)."""
    async with thursday.db.read() as conn:
        neighbour = int(
            (await conn.execute(sa.select(estates.c.id).where(estates.c.name == "neighbour"))).scalar_one()
        )
        report = await make_report(
            conn, neighbour, Span.day(THE_DAY, SHANGHAI), MORNING_AFTER.astimezone(UTC), LEVELS, TARGETS
        )
    assert (report.new, report.resolved, report.closed, report.open_at_end) == (
        {"repair": 1, "complaint": 1},
        {"repair": 1},
        {"repair": 1},
        {"complaint": 1},
    )
    assert (report.complaints, report.complaint_closure) == (1, Rate(0, 1, 0.98))
    assert report.acceptance == Rate(1, 2)  # the complaint was never accepted
    assert (report.on_time, report.repairs_on_time) == (Rate(0, 1), Rate(0, 1, 0.92))  # lapsed
    assert report.repairs_first_time == Rate(0, 1, 0.98)  # reopened
    assert (report.return_visits, report.visits_waiting) == (Rate(1, 1, 1.0), 0)
    assert (report.satisfaction, report.average_rating) == (Rate(0, 1, 0.9), 1.0)
    assert report.reopened == 1
    assert overdue(report) == [(1002, "Neighbour butler")]
    assert report.shortfalls == 4
    assert lines(report) == [("Neighbour butler", 2, 1, 1, 0, 1, 1.0, 1)]


async def test_the_return_visit_falls_due_three_days_after_closing(thursday: Estate) -> None:
    """1002 closed at 16:00 on the 19th and was never visited: waiting for its survey until 16:00 on the
    22nd, owed from that moment. Everything else counted over the 19th stays as it was."""
    span = Span.day(THE_DAY, SHANGHAI)
    before = await thursday.report(span, at(22, 15, 59, 59, 999999))
    assert (before.return_visits, before.visits_waiting) == (Rate(4, 4, 1.0), 1)
    assert before.shortfalls == 4

    due = await thursday.report(span, at(22, 16))
    assert (due.return_visits, due.visits_waiting) == (Rate(4, 5, 1.0), 0)
    assert due.return_visits.short
    assert due.shortfalls == 5
    # As of the 22nd, 1007 (due 21 10:00) and 1005 (due 22 00:00) have lapsed too.
    assert overdue(due) == [
        (1012, "Butler A3"),
        (1013, "Butler B1"),
        (1007, "Butler B1"),
        (1005, "Butler A3"),
    ]
    assert (due.new, due.resolved, due.closed, due.open_at_end) == (
        {"repair": 3, "complaint": 2, "inquiry": 1, "suggestion": 1, "emergency": 2},
        {"repair": 4, "complaint": 1, "suggestion": 1, "emergency": 2},
        {"repair": 3, "suggestion": 1, "emergency": 1},
        {"repair": 2, "complaint": 2, "inquiry": 1, "emergency": 2},
    )


async def test_a_day_still_under_way_counts_up_to_now(thursday: Estate) -> None:
    """The 20th at 07:30, the very moment 1004 closed: it is no longer open, and it is the day's only
    resolution and closure; 1005 (00:00:00) is the day's only new ticket."""
    span = Span.day(TODAY, SHANGHAI)
    report = await thursday.report(span, at(20, 7, 30))

    assert report.new == {"service": 1}  # 1005
    assert report.resolved == {"inquiry": 1}  # 1004 at 00:05
    assert report.closed == {"inquiry": 1}  # 1004 at 07:30
    # Open now: 1005 1006 1007 1008 1012 1013 1015; 1004 closed this very moment.
    assert report.open_at_end == {"repair": 2, "complaint": 2, "service": 1, "emergency": 2}
    assert report.complaints == 0
    assert report.complaint_closure == Rate(0, 0, 0.98)
    assert report.acceptance == Rate(1, 1)  # 1005, a minute on
    assert report.on_time == Rate(1, 1)  # 1004
    assert report.repairs_on_time == Rate(0, 0, 0.92)
    assert report.repairs_first_time == Rate(0, 0, 0.98)
    assert report.return_visits == Rate(0, 0, 1.0)  # 1004's survey has just begun
    assert report.visits_waiting == 1
    assert report.satisfaction == Rate(0, 0, 0.9)
    assert report.average_rating is None
    assert report.reopened == 0
    assert overdue(report) == [(1012, "Butler A3"), (1013, "Butler B1")]
    assert report.shortfalls == 0
    assert lines(report) == [
        ("Butler A1", 0, 0, 0, 0, 0, None, 1),
        ("Butler A2", 0, 0, 0, 0, 0, None, 1),
        ("Butler A3", 1, 1, 0, 0, 0, None, 2),  # 1005 reached A3 at 00:00:00 on the 20th
        ("Butler B1", 0, 0, 1, 1, 0, None, 2),  # resolved 1004
        ("Butler B2", 0, 0, 0, 0, 0, None, 0),
        ("Manager Liu", 0, 0, 0, 0, 0, None, 1),  # still holds 1015
    ]


async def test_a_day_with_no_tickets(quiet: Estate) -> None:
    span = Span.day(THE_DAY, SHANGHAI)
    report = await quiet.report(span, MORNING_AFTER)

    assert (report.new, report.resolved, report.closed, report.open_at_end) == ({}, {}, {}, {})
    assert (report.total_new, report.total_resolved, report.total_closed, report.total_open) == (0, 0, 0, 0)
    assert report.complaints == 0
    rates = {
        "complaint_closure": (report.complaint_closure, Rate(0, 0, 0.98)),
        "acceptance": (report.acceptance, Rate(0, 0)),
        "on_time": (report.on_time, Rate(0, 0)),
        "repairs_on_time": (report.repairs_on_time, Rate(0, 0, 0.92)),
        "repairs_first_time": (report.repairs_first_time, Rate(0, 0, 0.98)),
        "return_visits": (report.return_visits, Rate(0, 0, 1.0)),
        "satisfaction": (report.satisfaction, Rate(0, 0, 0.9)),
    }
    for name, (rate, expected) in rates.items():
        assert rate == expected, name
        assert rate.value is None, name
        assert not rate.short, name
    assert report.visits_waiting == 0
    assert report.average_rating is None
    assert report.reopened == 0
    assert report.overdue == []
    assert report.shortfalls == 0
    _same_people(report, quiet, ["a1", "a2", "a3", "b1", "b2"])
    assert lines(report) == [
        ("Butler A1", 0, 0, 0, 0, 0, None, 0),
        ("Butler A2", 0, 0, 0, 0, 0, None, 0),
        ("Butler A3", 0, 0, 0, 0, 0, None, 0),
        ("Butler B1", 0, 0, 0, 0, 0, None, 0),
        ("Butler B2", 0, 0, 0, 0, 0, None, 0),
    ]


# ---- longer spans ---------------------------------------------------------------------------------------


async def test_the_week_up_to_yesterday(thursday: Estate) -> None:
    span = read_span(["week"], TODAY, SHANGHAI)
    assert (span.first_day, span.last_day, span.day_count) == (date(2026, 11, 13), THE_DAY, 7)
    # Local midnights: 16:00 UTC the evening before.
    assert span.start == datetime(2026, 11, 12, 16, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
    report = await thursday.report(span, MORNING_AFTER)

    # The 19th's tickets, plus 1003 1008 1009 (the 18th) and 1014 (the 15th); 1011 opened at 23:50 on
    # the 12th, ten minutes before the week began.
    assert report.new == {
        "repair": 5,  # 1001 1002 1012 + 1008 1009
        "complaint": 2,  # 1006 1007
        "inquiry": 2,  # 1004 + 1014
        "suggestion": 1,  # 1010
        "emergency": 3,  # 1013 1015 + 1003
    }
    assert report.total_new == 13
    # 1011 was resolved at 00:00:00 on the 13th, the week's first moment.
    assert report.resolved == {
        "repair": 4,  # 1001 1002 1008 1009
        "complaint": 1,  # 1006
        "inquiry": 1,  # 1014
        "service": 1,  # 1011
        "suggestion": 1,  # 1010
        "emergency": 2,  # 1003 1015
    }
    assert report.total_resolved == 10
    assert report.closed == {"repair": 3, "inquiry": 1, "service": 1, "suggestion": 1, "emergency": 1}
    assert report.total_closed == 7  # the 19th's five + 1011 (15th) + 1014 (16th)
    # As for the 19th: the week ends at the same midnight.
    assert report.open_at_end == {"repair": 2, "complaint": 2, "inquiry": 1, "emergency": 2}
    assert report.complaints == 2
    assert (report.complaint_closure, report.complaints_in_time_still) == (Rate(1, 1, 0.98), 1)
    assert report.acceptance == Rate(11, 13)  # the 19th's 7 of 9 + 1003 1008 1009 1014, all in time
    assert report.on_time == Rate(8, 10)  # the 19th's 6 of 8 + 1011 1014, both on time
    assert report.repairs_on_time == Rate(4, 6, 0.92)  # no other repairs resolved in the week
    assert report.repairs_first_time == Rate(3, 4, 0.98)
    # Closed in the week: 1001 1003 1009 1010 1011 visited; 1002 waiting; 1014, closed 07:00 on the 16th,
    # is past its 3 days (17 07:00) and owed.
    assert report.return_visits == Rate(5, 6, 1.0)
    assert report.return_visits.short
    assert report.visits_waiting == 1
    assert report.satisfaction == Rate(2, 4, 0.9)  # 5 4 2 + 3 (1011, on the 17th)
    assert report.average_rating == pytest.approx(3.5)
    assert report.reopened == 1
    assert overdue(report) == [(1012, "Butler A3"), (1013, "Butler B1")]
    assert report.shortfalls == 4  # the 19th's three, and the return visit 1014 owes
    assert lines(report) == [
        ("Butler A1", 4, 3, 3, 2, 1, 5.0, 1),  # + 1008 1014 reached and accepted in time; resolved 1014
        ("Butler A2", 3, 3, 3, 2, 1, 4.0, 1),  # + 1009, accepted in 2 minutes
        ("Butler A3", 1, 1, 1, 1, 1, 3.0, 2),  # + resolved and rated 1011 (it reached A3 on the 12th)
        ("Butler B1", 6, 5, 2, 2, 1, 2.0, 2),  # + 1003 at 23:50 on the 18th, accepted in a minute
        ("Butler B2", 0, 0, 0, 0, 0, None, 0),
        ("Manager Liu", 1, 0, 1, 1, 0, None, 1),
    ]


async def test_this_calendar_month_up_to_yesterday(thursday: Estate) -> None:
    span = read_span(["2026-11"], TODAY, SHANGHAI)
    assert (span.first_day, span.last_day, span.day_count) == (date(2026, 11, 1), THE_DAY, 19)
    assert span.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
    report = await thursday.report(span, MORNING_AFTER)

    # Every ticket but 1005 (the 20th): the week's and 1011.
    assert report.new == {
        "repair": 5,
        "complaint": 2,
        "inquiry": 2,
        "service": 1,
        "suggestion": 1,
        "emergency": 3,
    }
    assert report.total_new == 14
    assert report.resolved == {
        "repair": 4,
        "complaint": 1,
        "inquiry": 1,
        "service": 1,
        "suggestion": 1,
        "emergency": 2,
    }
    assert report.closed == {"repair": 3, "inquiry": 1, "service": 1, "suggestion": 1, "emergency": 1}
    assert report.open_at_end == {"repair": 2, "complaint": 2, "inquiry": 1, "emergency": 2}
    assert report.complaints == 2
    assert (report.complaint_closure, report.complaints_in_time_still) == (Rate(1, 1, 0.98), 1)
    assert report.acceptance == Rate(12, 14)  # + 1011, a minute on
    assert report.on_time == Rate(8, 10)
    assert report.repairs_on_time == Rate(4, 6, 0.92)
    assert report.repairs_first_time == Rate(3, 4, 0.98)
    assert (report.return_visits, report.visits_waiting) == (Rate(5, 6, 1.0), 1)
    assert report.satisfaction == Rate(2, 4, 0.9)
    assert report.average_rating == pytest.approx(3.5)
    assert report.reopened == 1
    assert overdue(report) == [(1012, "Butler A3"), (1013, "Butler B1")]
    assert report.shortfalls == 4  # the 19th's three, and the return visit 1014 owes
    assert lines(report) == [
        ("Butler A1", 4, 3, 3, 2, 1, 5.0, 1),
        ("Butler A2", 3, 3, 3, 2, 1, 4.0, 1),
        ("Butler A3", 2, 2, 1, 1, 1, 3.0, 2),  # + 1011 reached A3 on the 12th
        ("Butler B1", 6, 5, 2, 2, 1, 2.0, 2),
        ("Butler B2", 0, 0, 0, 0, 0, None, 0),
        ("Manager Liu", 1, 0, 1, 1, 0, None, 1),
    ]


# ---- spans ----------------------------------------------------------------------------------------------


def test_local_midnight_is_the_evening_before_in_utc() -> None:
    assert local_midnight(THE_DAY, SHANGHAI) == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    day = Span.day(THE_DAY, SHANGHAI)
    assert (day.start, day.end, day.day_count) == (
        datetime(2026, 11, 18, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 19, 16, 0, tzinfo=UTC),
        1,
    )


@pytest.mark.parametrize(
    ("words", "first", "last"),
    [
        ([], date(2026, 11, 13), date(2026, 11, 19)),  # the default is the week
        (["day"], date(2026, 11, 19), date(2026, 11, 19)),
        (["昨天"], date(2026, 11, 19), date(2026, 11, 19)),
        (["week"], date(2026, 11, 13), date(2026, 11, 19)),
        (["month"], date(2026, 10, 21), date(2026, 11, 19)),  # 30 days
        (["2026-10"], date(2026, 10, 1), date(2026, 10, 31)),  # a past month, whole
        (["2026-11"], date(2026, 11, 1), date(2026, 11, 19)),  # this month, up to yesterday
        (["2026-02"], date(2026, 2, 1), date(2026, 2, 28)),
        (["2026-11-03"], date(2026, 11, 3), date(2026, 11, 3)),
        (["2026-11-01", "2026-11-19"], date(2026, 11, 1), date(2026, 11, 19)),
        (["2025-01-01", "2026-01-01"], date(2025, 1, 1), date(2026, 1, 1)),  # 366 days: the longest
    ],
)
def test_read_span(words: list[str], first: date, last: date) -> None:
    span = read_span(words, TODAY, SHANGHAI)
    assert (span.first_day, span.last_day, span.zone) == (first, last, SHANGHAI)


def test_december_read_in_january_is_the_whole_month() -> None:
    span = read_span(["2026-12"], date(2027, 1, 5), SHANGHAI)
    assert (span.first_day, span.last_day) == (date(2026, 12, 1), date(2026, 12, 31))
    assert span.end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "words",
    [
        ["fortnight"],
        ["2026-11-31"],  # not on the calendar
        ["2026-13"],
        ["2026-00"],
        ["2026-12"],  # has not begun
        ["2026-11-20", "2026-11-19"],  # ends before it begins
        ["2025-01-01", "2026-01-02"],  # 367 days
        ["2026-11-01", "to", "2026-11-19"],
        ["0000-01"],  # years date arithmetic cannot reach: refused, not a crash
        ["9999-12"],
        ["0001-01-01"],
        ["9999-12-31"],
    ],
)
def test_read_span_refuses(words: list[str]) -> None:
    with pytest.raises(SpanError):
        read_span(words, TODAY, SHANGHAI)


def test_this_month_on_its_first_day_has_no_whole_day_yet() -> None:
    with pytest.raises(SpanError):
        read_span(["2026-11"], date(2026, 11, 1), SHANGHAI)


# ---- rates and how they read ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "short"),
    [
        (Rate(49, 50, 0.98), False),  # exactly the target
        (Rate(48, 49, 0.98), True),  # 97.96%: just below
        (Rate(23, 25, 0.92), False),
        (Rate(22, 24, 0.92), True),  # 91.67%
        (Rate(9, 10, 0.9), False),
        (Rate(8, 9, 0.9), True),
        (Rate(1, 1, 1.0), False),
        (Rate(99, 100, 1.0), True),
        (Rate(0, 0, 0.98), False),  # nothing to judge
        (Rate(0, 5), False),  # no target
    ],
)
def test_rate_is_short_only_below_its_target(rate: Rate, short: bool) -> None:
    assert rate.short is short


def test_rate_value() -> None:
    assert Rate(3, 4).value == 0.75
    assert Rate(0, 0, 0.98).value is None


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        (0.9796, "97.9%"),  # rounded down: a short figure never reads as its target
        (48 / 49, "97.9%"),
        (0.98, "98%"),
        (0.92, "92%"),
        (1.0, "100%"),
        (2 / 3, "66.6%"),
        (0.5, "50%"),
        (0.07, "7%"),
        (0.001, "0.1%"),
        (0.0, "0%"),
    ],
)
def test_percent_rounds_down_to_a_tenth(share: float, shown: str) -> None:
    assert percent(share) == shown


async def test_a_promise_broken_before_a_reopen_still_counts_as_late(quiet: Estate) -> None:
    """A reopen gives a fresh commitment and clears `overdue_at`; the lapse before it stays in the log."""
    async with quiet.db.begin() as conn:
        desk = Desk(conn, quiet.id, quiet.cast)
        ticket = await desk.ticket(
            1001, "repair", by="zhang", to="a1", opened=at(16, 9), accepted=at(16, 9, 1), due=at(21, 10),
            resolved=at(19, 15),
        )  # fmt: skip
        await desk.event(ticket, at(18, 9), None, "overdue", {"due_at": at(18, 9).isoformat()})
        await desk.said_not_yet(ticket, at(19, 10), "zhang")
        # Its first commitment (18th 09:00) lapsed; reopened on the 19th at 10:00 with a fresh one (the
        # 21st, 10:00, now its due_at), and resolved again within it at 15:00.
        await desk.ticket(
            1002, "repair", by="zhang", to="a1", opened=at(19, 9), accepted=at(19, 9, 1), due=at(21, 9),
            resolved=at(19, 11),
        )  # fmt: skip
    report = await quiet.report(Span.day(date(2026, 11, 19), SHANGHAI), at(20, 8))
    assert report.on_time == Rate(1, 2)  # 1002 only: 1001 lapsed on the 18th, whatever came after
    assert report.repairs_on_time == Rate(1, 2, 0.92)
    assert report.reopened == 1


def test_a_day_is_the_estates_local_day_even_when_the_clocks_change() -> None:
    new_york = ZoneInfo("America/New_York")
    spring = Span.day(date(2026, 3, 8), new_york)  # clocks go forward at 02:00: a 23-hour day
    autumn = Span.day(date(2026, 11, 1), new_york)  # and back: 25 hours
    assert (spring.start, spring.end - spring.start) == (
        datetime(2026, 3, 8, 5, tzinfo=UTC),
        timedelta(hours=23),
    )
    assert (autumn.start, autumn.end - autumn.start) == (
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        timedelta(hours=25),
    )
    week = Span.ending(date(2026, 3, 10), 7, new_york)
    assert [day.end for day in week.days()[:-1]] == [
        day.start for day in week.days()[1:]
    ]  # no gap, no overlap
