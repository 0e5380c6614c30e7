"""The timekeeper fires each due clock once, oldest first, and never loses one to a failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import ManualClock, SystemClock
from bot.config import Config
from bot.model import Incoming, Ticket
from bot.services import Services
from bot.timekeeper import OnDue, Timekeeper
from storage import clocks as clock_queries
from storage import people as people_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.schema import clocks, estates, outbox


class Recorder:
    """Stands in for the services: notes every clock it is asked to fire."""

    def __init__(self) -> None:
        self.fired: list[tuple[str, int]] = []

    async def __call__(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        self.fired.append((clock.kind, ticket.number))

    def handlers(self, *kinds: str) -> dict[str, OnDue]:
        return {kind: self for kind in kinds}


async def _open_tickets(db: Database, clock: ManualClock, *telegram_ids: int) -> None:
    """A ticket from each person, a minute apart: each sets its accept, remind and lapse clocks."""
    desk = Services.assemble(db, clock, Config()).desk
    for telegram_id in telegram_ids:
        async with db.engine.connect() as conn:
            person = await people_queries.person_by_telegram_id(conn, telegram_id)
        assert person is not None
        await desk.take_message(person, Incoming("text", telegram_id, 1, text="Tap dripping"))
        clock.advance(timedelta(minutes=1))


async def _statuses(db: Database, kind: str) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.status).where(clocks.c.kind == kind).order_by(clocks.c.id)
        )
        return list(rows.scalars())


async def test_due_clocks_fire_oldest_first_and_only_once(rostered_db: Database, clock: ManualClock) -> None:
    await _open_tickets(rostered_db, clock, 3601, 1101, 1302)  # #1001, #1002, #1003
    recorder = Recorder()
    keeper = Timekeeper(rostered_db, clock, recorder.handlers("accept"))
    assert await keeper.fire_due() == 1  # 09:03: only #1001's three minutes are up
    assert await keeper.fire_due() == 0
    clock.advance(timedelta(minutes=2))  # 09:05: the other two accept clocks, nothing else
    assert await keeper.fire_due() == 2
    assert recorder.fired == [("accept", 1001), ("accept", 1002), ("accept", 1003)]
    assert await _statuses(rostered_db, "accept") == ["fired"] * 3
    assert await _statuses(rostered_db, "lapse") == ["pending"] * 3


async def test_two_timekeepers_on_one_database_fire_each_clock_once(
    rostered_db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    await _open_tickets(rostered_db, clock, 3601, 1101, 1302, 3502)
    clock.advance(timedelta(minutes=10))
    second_db = await Database.open(tmp_path / "test.db")  # another process's connections
    try:
        first, second = Recorder(), Recorder()
        await asyncio.gather(
            Timekeeper(rostered_db, clock, first.handlers("accept")).fire_due(),
            Timekeeper(second_db, clock, second.handlers("accept")).fire_due(),
        )
    finally:
        await second_db.close()
    assert sorted(first.fired + second.fired) == [("accept", n) for n in (1001, 1002, 1003, 1004)]


async def test_a_clock_whose_firing_fails_is_marked_failed_and_the_rest_still_fire(
    rostered_db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await _open_tickets(rostered_db, clock, 3601, 1101)
    recorder = Recorder()

    async def broken(conn: AsyncConnection, ticket: Ticket, due: DueClock) -> None:
        await conn.execute(outbox.delete())  # a half-done effect, which must be rolled back
        if ticket.number == 1001:
            raise RuntimeError("a bug in a service")
        await recorder(conn, ticket, due)

    async with rostered_db.engine.connect() as conn:
        messages_before = (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar()
    clock.advance(timedelta(minutes=5))
    keeper = Timekeeper(rostered_db, clock, {"accept": broken})
    assert await keeper.fire_due() == 1
    assert recorder.fired == [("accept", 1002)]
    assert await _statuses(rostered_db, "accept") == ["failed", "fired"]
    assert "service clock" in caplog.text and "a bug in a service" in caplog.text
    async with rostered_db.engine.connect() as conn:
        # The failed firing's deletion was rolled back; the successful one's was kept.
        assert (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar() == 0
    assert messages_before


async def test_start_up_fires_what_came_due_while_down(rostered_db: Database, clock: ManualClock) -> None:
    await _open_tickets(rostered_db, clock, 3601)
    clock.advance(timedelta(days=3))  # accept, remind and lapse all came due while "down"
    recorder = Recorder()
    keeper = Timekeeper(rostered_db, clock, recorder.handlers("accept", "remind", "lapse"))
    keeper.start()
    try:
        for _ in range(500):
            if recorder.fired and keeper.idle:
                break
            await asyncio.sleep(0.01)
    finally:
        await keeper.stop()
    assert recorder.fired == [("accept", 1001), ("remind", 1001), ("lapse", 1001)]


async def test_the_scheduler_alarm_fires_a_clock_at_its_time_on_the_real_clock(db: Database) -> None:
    real = SystemClock()
    async with db.begin() as conn:
        await conn.execute(estates.insert().values(name="x", timezone="Asia/Shanghai"))
        estate_id = (await conn.execute(sa.select(estates.c.id))).scalar_one()
        await clock_queries.set_clock(
            conn,
            estate_id=estate_id,
            ticket_id=None,
            kind="probe",
            due_at=real.now() + timedelta(milliseconds=300),
            now=real.now(),
        )
    keeper = Timekeeper(db, real, {})
    keeper.start()
    try:
        for _ in range(500):  # no ticket for a "probe": firing it fails, which also settles it
            if await _statuses(db, "probe") != ["pending"]:
                break
            await asyncio.sleep(0.01)
    finally:
        await keeper.stop()
    assert await _statuses(db, "probe") == ["failed"]
    async with db.engine.connect() as conn:
        settled_at = (await conn.execute(sa.select(clocks.c.settled_at))).scalar_one()
        due_at = (await conn.execute(sa.select(clocks.c.due_at))).scalar_one()
    assert settled_at >= due_at  # not early
    assert isinstance(settled_at, datetime) and settled_at.tzinfo == UTC
