"""Who the bot can reach: Telegram answers 403 for someone who blocked the bot (or never opened it).

Retrying such a message would never end, so the outbox sender gives it up and calls `refused`: the
person is marked unreachable, and the people who can reach them another way are told, once, when it
happens: a resident's or owner's butler (the ticket's, else the one routing would pick), or for a butler
or manager, the estate's managers. Every later message to them is still tried once (a 403 costs one
quick request, and nothing else says they unblocked the bot); the first one Telegram accepts marks
them reachable again (`reached`), and the same people hear that too. Unblocking the bot in Telegram
sends /start, whose welcome is such a message.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import routing
from bot.clock import Clock
from bot.model import Person, Ticket
from bot.notify import Notifier
from storage import people as people_queries
from storage import tickets as ticket_queries


class Reachability:
    def __init__(self, clock: Clock, notifier: Notifier) -> None:
        self._clock = clock
        self._notify = notifier
        # Chats that may be marked unreachable: read once, then grown by every refusal. Only they need a
        # look after a delivery, rather than every message delivered (a query each, `guanjia bench`).
        self._suspects: set[int] | None = None

    async def refused(self, conn: AsyncConnection, chat_id: int, ticket_id: int | None) -> bool:
        """Telegram refused a message to `chat_id` (403), about `ticket_id` if any.

        True if that made its person unreachable (so they were told of it); False if they already were,
        or the chat is nobody the roster knows.
        """
        (await self._may_be_unreachable(conn)).add(chat_id)
        person = await people_queries.person_by_telegram_id(conn, chat_id)
        if person is None or not await people_queries.mark_unreachable(conn, person.id, self._clock.now()):
            return False
        ticket = await ticket_queries.ticket_by_id(conn, ticket_id) if ticket_id is not None else None
        for someone in await self._who_can_help(conn, person, ticket):
            # Not filed under the ticket: a reply to this notice is not a message for the resident.
            await self._notify.tell(conn, someone, "person_unreachable", who=person, ticket=ticket)
        return True

    async def reached(self, conn: AsyncConnection, chat_ids: Collection[int]) -> bool:
        """Messages to `chat_ids` were delivered: whoever of them was unreachable until now is not.
        True if someone was told so."""
        suspects = await self._may_be_unreachable(conn)
        if suspects.isdisjoint(chat_ids):
            return False
        told = False
        for person in await people_queries.unreachable_among(conn, suspects.intersection(chat_ids)):
            if not await people_queries.mark_reachable(conn, person.id):
                continue
            if person.active:
                for someone in await self._who_can_help(conn, person, None):
                    await self._notify.tell(conn, someone, "person_reachable_again", who=person)
                    told = True
        return told

    async def _may_be_unreachable(self, conn: AsyncConnection) -> set[int]:
        if self._suspects is None:
            self._suspects = await people_queries.unreachable_accounts(conn)
        return self._suspects

    async def _who_can_help(
        self, conn: AsyncConnection, person: Person, ticket: Ticket | None
    ) -> list[Person]:
        if person.role.is_household:
            butler = await self._their_butler(conn, person, ticket)
            if butler is not None:
                return [butler]
        managers = await people_queries.managers_of_estate(conn, person.estate_id)
        return [manager for manager in managers if manager.id != person.id]

    @staticmethod
    async def _their_butler(conn: AsyncConnection, person: Person, ticket: Ticket | None) -> Person | None:
        """The butler on the ticket the refused message was about, else the one routing would pick."""
        if ticket is not None and ticket.butler_id is not None:
            butler = await people_queries.person_by_id(conn, ticket.butler_id)
            if butler.active and butler.telegram_id is not None and not butler.unreachable:
                return butler
        if person.team_id is None:
            return None
        return await routing.butler_for_team(conn, person.team_id)
