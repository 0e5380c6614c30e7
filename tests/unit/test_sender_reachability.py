"""A 403 from Telegram: the person is marked unreachable, and whoever can reach them is told, once."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import sqlalchemy as sa
from telegram import Bot
from telegram.error import Forbidden

from bot import outbox, routing
from bot.clock import ManualClock
from bot.config import Config
from bot.model import Incoming, Person, Role
from bot.pacing import Pacing
from bot.sender import OutboxSender
from bot.services import Services
from storage import people as people_queries
from storage.database import Database
from storage.schema import outbox as outbox_table
from storage.schema import people, tickets
from tests.unit.test_sender import FakeTime, ScriptedBot

BLOCKED = Forbidden("Forbidden: bot was blocked by the user")
ZHANG_UNREACHABLE = (
    "⚠️ <b>Owner Zhang cannot be reached on Telegram</b> (owner, 1-101): Telegram refuses the bot's messages"
    " to them, perhaps because they blocked the bot.\n\n"
    "Please contact them another way: 139-1111-0101. You will hear when messages reach them again."
)
ZHANG_BACK = "✅ Owner Zhang (owner, 1-101) can be reached on Telegram again: the bot's messages reach them."


class Estate:
    def __init__(self, db: Database, clock: ManualClock) -> None:
        self.db, self.clock = db, clock
        self.services = Services.assemble(db, clock, Config())
        self.bot = ScriptedBot()
        self.sender = OutboxSender(
            db,
            cast(Bot, self.bot),
            clock,
            pacing=Pacing.unpaced(FakeTime()),
            recipients=self.services.reachability,
        )

    async def queue(self, chat_id: int, text: str, ticket_id: int | None = None) -> None:
        async with self.db.begin() as conn:
            await outbox.send_text(conn, chat_id, text, now=self.clock.now(), ticket_id=ticket_id)

    async def person(self, telegram_id: int) -> Person:
        async with self.db.read() as conn:
            found = (await conn.execute(sa.select(people).where(people.c.telegram_id == telegram_id))).one()
            return people_queries.to_person(found)

    def received(self, chat_id: int) -> list[str]:
        return [text for to, text in self.bot.delivered if to == chat_id]


async def _estate(rostered_db: Database, clock: ManualClock) -> Estate:
    return Estate(rostered_db, clock)


async def test_a_blocked_resident_is_marked_and_their_butler_told_once(
    rostered_db: Database, clock: ManualClock
) -> None:
    estate = await _estate(rostered_db, clock)
    estate.bot.fail(1101, BLOCKED, BLOCKED, BLOCKED)
    for text in ("one", "two", "three"):
        await estate.queue(1101, text)
    await estate.sender.deliver_pending()
    assert (await estate.person(1101)).unreachable
    assert estate.received(101) == [ZHANG_UNREACHABLE]  # the team's first butler, once for three refusals
    assert estate.received(900) == []
    async with rostered_db.read() as conn:
        rows = await conn.execute(
            sa.select(outbox_table.c.status, outbox_table.c.attempts)
            .where(outbox_table.c.chat_id == 1101)
            .order_by(outbox_table.c.id)
        )
        assert [tuple(row) for row in rows] == [("failed", 1)] * 3  # each tried once, none retried


async def test_delivered_again_they_are_reachable_and_the_butler_hears_it_once(
    rostered_db: Database, clock: ManualClock
) -> None:
    estate = await _estate(rostered_db, clock)
    estate.bot.fail(1101, BLOCKED)
    await estate.queue(1101, "refused")
    await estate.sender.deliver_pending()
    async with rostered_db.begin() as conn:  # a command menu is no proof they read the bot again
        await outbox.set_commands(conn, 1101, [("my", "My tickets")], now=clock.now())
    estate.bot.set_my_commands = _accept  # type: ignore[attr-defined]
    await estate.sender.deliver_pending()
    assert (await estate.person(1101)).unreachable

    await estate.queue(1101, "welcome back")  # they unblocked the bot and pressed Start
    await estate.queue(1101, "and more")
    await estate.sender.deliver_pending()
    assert not (await estate.person(1101)).unreachable
    assert estate.received(101) == [ZHANG_UNREACHABLE, ZHANG_BACK]
    assert estate.received(1101) == ["welcome back", "and more"]


async def _accept(*_: object, **__: object) -> bool:
    return True


async def test_the_butler_of_the_ticket_is_told_and_of_which_ticket(
    rostered_db: Database, clock: ManualClock
) -> None:
    estate = await _estate(rostered_db, clock)
    zhang = await estate.person(1101)
    ticket = await estate.services.desk.take_message(zhang, Incoming("text", 1101, 1, text="Tap broken"))
    assert ticket is not None
    a2 = await estate.person(102)
    async with rostered_db.begin() as conn:
        await conn.execute(tickets.update().where(tickets.c.id == ticket.id).values(butler_id=a2.id))
    await estate.sender.deliver_pending()
    estate.bot.fail(1101, BLOCKED)
    await estate.queue(1101, "Your ticket #1001 has been accepted", ticket_id=ticket.id)
    await estate.sender.deliver_pending()
    assert estate.received(102) == [
        "⚠️ <b>Owner Zhang cannot be reached on Telegram</b> (owner, 1-101): Telegram refuses the bot's"
        " messages to them, perhaps because they blocked the bot. News of ticket #1001 is not reaching them."
        "\n\nPlease contact them another way: 139-1111-0101. You will hear when messages reach them again."
    ]


async def test_a_blocked_butler_is_reported_to_the_managers_and_passed_over_for_new_tickets(
    rostered_db: Database, clock: ManualClock
) -> None:
    estate = await _estate(rostered_db, clock)
    estate.bot.fail(101, BLOCKED)
    await estate.queue(101, "a card")
    await estate.sender.deliver_pending()
    assert estate.received(900) == [
        "⚠️ <b>Butler A1 cannot be reached on Telegram</b> (butler): Telegram refuses the bot's messages to"
        " them, perhaps because they blocked the bot.\n\n"
        "Please contact them another way: 138-0000-0101. You will hear when messages reach them again."
    ]
    assert estate.received(102) == []  # teammates are not told: staffing is the managers' matter

    zhang = await estate.person(1101)
    ticket = await estate.services.desk.take_message(zhang, Incoming("text", 1101, 1, text="Tap broken"))
    assert ticket is not None and ticket.butler_id == (await estate.person(102)).id


async def test_a_person_the_roster_does_not_know_is_only_given_up(
    rostered_db: Database, clock: ManualClock
) -> None:
    estate = await _estate(rostered_db, clock)
    estate.bot.fail(4242, BLOCKED)
    await estate.queue(4242, "to nobody")
    await estate.sender.deliver_pending()
    assert estate.bot.delivered == []


def _butler(person_id: int, *, on_duty: bool = True, unreachable: bool = False) -> Person:
    person = Person(
        person_id, 1, Role.BUTLER, f"b{person_id}", 1, None, person_id, None, "zh", False, on_duty
    )
    return replace(person, unreachable=unreachable)


def test_routing_prefers_a_reachable_teammate_on_duty() -> None:
    team = [_butler(1, unreachable=True), _butler(2, on_duty=False), _butler(3)]
    assert routing.first_on_duty(team) == team[2]


def test_routing_still_asks_an_unreachable_butler_when_nobody_else_is_on_duty() -> None:
    # The three-minute clock then passes the ticket on, to the managers, who were told of the butler.
    team = [_butler(1, on_duty=False), _butler(2, unreachable=True)]
    assert routing.first_on_duty(team) == team[1]
