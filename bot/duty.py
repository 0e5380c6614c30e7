"""Who is on duty (值班). Butlers set themselves on or off; routing and escalation skip those off duty.

Going off duty hands the butler's unaccepted tickets up the ladder at once, rather than letting each
wait out its three minutes. A team left with nobody on duty sends its requests straight to the
managers, and the managers hear about the gap when it opens and when it closes.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, routing
from bot.clock import Clock
from bot.escalation import OFF_DUTY, Escalation
from bot.model import Outcome, Person, PressedOn, Role, TicketState
from bot.notify import Notifier
from storage import people as people_queries
from storage import tickets as ticket_queries
from storage.database import Database
from storage.schema import people


class Duty:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, escalation: Escalation) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._escalation = escalation

    async def show(self, butler: Person) -> None:
        """/duty: where the butler stands, with a button to switch."""
        async with self._db.begin() as conn:
            await self._tell_status(conn, butler, changed=False)

    async def set(self, butler: Person, on_duty: bool, pressed: PressedOn | None = None) -> Outcome:
        async with self._db.begin() as conn:
            if butler.role != Role.BUTLER:
                return Outcome.NOT_YOURS
            current = await people_queries.person_by_id(conn, butler.id)
            if pressed is not None and current.on_duty == on_duty:
                # The button of an older status message: they are already where it would put them.
                return Outcome.UNKNOWN
            now = self._clock.now()
            if pressed is not None:
                await cards.retire_pressed(conn, pressed, None, now=now)
            team_id = butler.team_id
            assert team_id is not None
            covered_before = await self._team_covered(conn, team_id)
            await conn.execute(
                people.update().where(people.c.id == butler.id).values(on_duty=on_duty, updated_at=now)
            )
            butler = await people_queries.person_by_id(conn, butler.id)
            if not on_duty:
                for ticket in await ticket_queries.open_tickets_of_butler(conn, butler.id):
                    if ticket.state == TicketState.NEW:
                        await self._escalation.hand_on(conn, ticket, OFF_DUTY)
            await self._tell_status(conn, butler, changed=True)
            covered_now = await self._team_covered(conn, team_id)
            if covered_before != covered_now:
                team = await people_queries.team_name(conn, team_id)
                await self._notify.tell_managers(
                    conn, butler.estate_id, "team_duty_gap", team=team, covered=covered_now, butler=butler
                )
            return Outcome.DONE

    async def _tell_status(self, conn: AsyncConnection, butler: Person, *, changed: bool) -> None:
        switch = "off" if butler.on_duty else "on"
        button = self._notify.button(butler, f"button_duty_{switch}", f"duty:{switch}")
        await self._notify.tell(conn, butler, "duty_status", changed=changed, buttons=[[button]])

    @staticmethod
    async def _team_covered(conn: AsyncConnection, team_id: int) -> bool:
        return routing.first_on_duty(await people_queries.butlers_of_team(conn, team_id)) is not None
