"""Routing (管家式服务): an owner's request goes to their own team's butler and never to another team.

Within the team it goes to the designated first butler (the first listed in the roster), else to the
next team member who is on duty. A butler who has not joined on Telegram yet cannot receive a task card,
so is passed over like one off duty. Nobody outside the team is asked.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import Person
from storage import people as people_queries


def first_on_duty(team: list[Person]) -> Person | None:
    """The butler a new request goes to: the first in the team's order who is on duty and reachable.

    One whom Telegram refuses (they blocked the bot) is passed over for a teammate on duty who can be
    reached, but still asked when nobody else is on duty: the three-minute clock then moves it on.
    """
    on_telegram = [butler for butler in team if butler.on_duty and butler.telegram_id is not None]
    return next((butler for butler in on_telegram if not butler.unreachable), next(iter(on_telegram), None))


async def butler_for_team(conn: AsyncConnection, team_id: int) -> Person | None:
    return first_on_duty(await people_queries.butlers_of_team(conn, team_id))
