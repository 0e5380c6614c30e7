"""Shared by the authorization tests: a second estate beside the test estate, and what to compare.

The second estate, Riverside, has its own manager, butlers and owner, and its own ticket numbers: its
first ticket is #1001 too, which is exactly what a manager or butler of the other estate must not reach.
Its people's Telegram ids are their own (one account is one person, in one estate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.clock import Clock
from bot.config import Config
from bot.embedded import EmbeddedEstate, load_roster
from bot.sandbox.user import SandboxUser
from storage.schema import (
    clocks,
    estates,
    follow_ups,
    invites,
    outbox,
    people,
    postponements,
    service_items,
    service_orders,
    service_quotes,
    ticket_events,
)
from storage.schema import tickets as tickets_table

RIVERSIDE = "Riverside"
RIVERSIDE_ROSTER = """\
role,name,team,unit,telegram_id,phone,language,vip
manager,Manager Ma,,,950,137-0000-0950,en,no
butler,Butler R1,R,,151,,en,no
butler,Butler R2,R,,152,,en,no
owner,Owner Qian,R,8-808,8808,137-8888-0808,en,no
"""


@dataclass
class Riverside:
    manager: SandboxUser
    r1: SandboxUser
    r2: SandboxUser
    qian: SandboxUser


async def open_riverside(estate: EmbeddedEstate, clock: Clock) -> Riverside:
    """Import the second estate into the running bot's database; the bot serves it from then on."""
    await load_roster(estate.db, RIVERSIDE_ROSTER, Config(estate_name=RIVERSIDE), clock)
    user = estate.sandbox.user
    return Riverside(
        manager=user(950, "Ma", language_code="en"),
        r1=user(151, "R1", language_code="en"),
        r2=user(152, "R2", language_code="en"),
        qian=user(8808, "Qian", language_code="en"),
    )


async def ticket_id(estate: EmbeddedEstate, number: int, estate_name: str = "default") -> int:
    """The database id of an estate's ticket (what the buttons carry), by its number."""
    async with estate.db.engine.connect() as conn:
        found = await conn.execute(
            sa.select(tickets_table.c.id)
            .join(estates, estates.c.id == tickets_table.c.estate_id)
            .where(tickets_table.c.number == number, estates.c.name == estate_name)
        )
        return int(found.scalar_one())


# Everything a decision could change. The strangers' attempts and the stored updates are not here: a
# forged press is noted as an attempt, and every update is stored before it is handled.
WATCHED = (
    *(tickets_table, ticket_events, outbox, postponements, follow_ups, people, clocks, invites),
    *(service_items, service_orders, service_quotes),  # paid services: the price list, orders, quotes
)


async def snapshot(estate: EmbeddedEstate) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a decision could change, to compare before and after."""
    async with estate.db.engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in WATCHED
        }


async def answers_to(estate: EmbeddedEstate, line: str, users: dict[str, SandboxUser]) -> dict[str, str]:
    """Everyone sends the same command line at once (each in their own chat); the first message the bot
    sends back to each, by who they are ("(nothing)" if it sends none)."""
    command, _, args = line.partition(" ")
    await estate.settled()
    seen = {who: len(user.inbox) for who, user in users.items()}
    for user in users.values():
        await user.send_command(command, args or None)
    await estate.settled()
    return {
        who: next((m.content for m in user.inbox[seen[who] :]), "(nothing)") for who, user in users.items()
    }


async def press_answer(estate: EmbeddedEstate, user: SandboxUser, data: str) -> str:
    """Press a button with `data` (forged or stale) on the user's latest message; the short answer."""
    message = user.transcript[-1]
    answer = await user.wait_for_answer(await user.press_data(message, data))
    return str(answer.get("text", ""))
