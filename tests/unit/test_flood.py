"""Flood control without Telegram: what is stored while held, and a release that fails loses nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import ManualClock
from bot.config import Config, Limits
from bot.flood import RELEASE_CLOCK
from bot.model import Incoming, Person
from bot.services import Services
from bot.timekeeper import Timekeeper
from storage import held_messages as held_queries
from storage import people as people_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.schema import clocks, held_messages, ticket_events

ONE_AN_HOUR = Config(limits=Limits(requests_per_hour=1))


async def _zhang(db: Database) -> Person:
    async with db.engine.connect() as conn:
        person = await people_queries.person_by_telegram_id(conn, 1101)
    assert person is not None
    return person


async def _release_clocks(db: Database) -> list[tuple[datetime, str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.due_at, clocks.c.status)
            .where(clocks.c.kind == RELEASE_CLOCK)
            .order_by(clocks.c.id)
        )
        return [(row.due_at, row.status) for row in rows]


async def test_a_held_message_keeps_everything_needed_to_pass_it_on(
    rostered_db: Database, clock: ManualClock
) -> None:
    desk = Services.assemble(rostered_db, clock, ONE_AN_HOUR).desk
    zhang = await _zhang(rostered_db)
    assert await desk.take_message(zhang, Incoming("text", 1101, 1, text="Tap broken")) is not None
    here = Incoming("location", 1101, 2, location=(31.2304, 121.4737), reply_to_message_id=7)
    photo = Incoming("photo", 1101, 3, text="the <crack>", file_id="AgAD-photo")
    assert await desk.take_message(zhang, here) is None
    assert await desk.take_message(zhang, photo) is None
    async with rostered_db.engine.connect() as conn:
        waiting = await held_queries.oldest_waiting(conn, zhang.id, 10)
    assert [held.incoming for held in waiting] == [here, photo]
    assert [held.received_at for held in waiting] == [clock.now(), clock.now()]


async def test_a_release_that_fails_keeps_the_messages_waiting_in_order_and_tries_again(
    rostered_db: Database, clock: ManualClock
) -> None:
    services = Services.assemble(rostered_db, clock, ONE_AN_HOUR)
    zhang = await _zhang(rostered_db)
    start = clock.now()
    await services.desk.take_message(zhang, Incoming("text", 1101, 1, text="Tap broken"))
    for message_id, text in ((2, "first held"), (3, "second held")):
        assert await services.desk.take_message(zhang, Incoming("text", 1101, message_id, text=text)) is None
    assert await _release_clocks(rostered_db) == [(start + timedelta(hours=1), "pending")]

    async def broken(conn: AsyncConnection, due: DueClock) -> None:
        async def fails(*_: object) -> None:
            raise RuntimeError("a bug on the way")

        await services.flood.release(conn, due, fails)

    clock.set(start + timedelta(hours=1))
    await Timekeeper(rostered_db, clock, services.on_due(), on_estate_due={RELEASE_CLOCK: broken}).fire_due()
    async with rostered_db.engine.connect() as conn:
        released = (
            (await conn.execute(sa.select(held_messages.c.released_at).order_by(held_messages.c.id)))
            .scalars()
            .all()
        )
    assert released == [None, None]
    retry = start + timedelta(hours=1, minutes=5)
    assert await _release_clocks(rostered_db) == [(start + timedelta(hours=1), "fired"), (retry, "pending")]

    # Five minutes later it works: the first goes on; the second waits for the next hour's room.
    clock.set(retry)
    keeper = Timekeeper(rostered_db, clock, services.on_due(), on_estate_due=services.on_estate_due())
    await keeper.fire_due()
    async with rostered_db.engine.connect() as conn:
        texts = (
            await conn.execute(sa.select(ticket_events.c.detail).where(ticket_events.c.actor_id == zhang.id))
        ).scalars()
        assert [detail["text"] for detail in texts] == ["Tap broken", "first held"]
        released = (
            (await conn.execute(sa.select(held_messages.c.released_at).order_by(held_messages.c.id)))
            .scalars()
            .all()
        )
    assert released == [retry, None]
    assert (await _release_clocks(rostered_db))[-1] == (retry + timedelta(hours=1), "pending")
