"""Return visits (回访) and second service (二次服务).

Every closed ticket gets a satisfaction survey. Unanswered, it is asked once more; still unanswered, the
butler gets a task to call the resident and record what they say, so the return-visit rate can reach
100 %. A low rating, or a reopen after resolve, alerts the managers and sends the butler back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, routing, sla
from bot.clock import Clock
from bot.config import ServiceLevels
from bot.model import Outcome, Person, PressedOn, Role, Ticket, TicketState
from bot.notify import Notifier
from bot.outbox import Keyboard
from storage import follow_ups as follow_up_queries
from storage import people as people_queries
from storage import tickets as ticket_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.follow_ups import FollowUp

LOW_RATING = 2  # a rating this low or lower calls for second service
VISIT_NOTE = "visit_note"  # a reply to a phone-visit task: notes from the call, kept on the ticket
RETURN_VISIT = "return_visit"
SECOND_SERVICE = "second_service"


class ReturnVisits:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, levels: ServiceLevels) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._sla = levels

    # ---- the survey ---------------------------------------------------------------------------------

    async def ask_for_rating(
        self, conn: AsyncConnection, ticket: Ticket, requester: Person, now: datetime, *, why: str
    ) -> None:
        """The survey: `why` is "confirmed", "unconfirmed" (closed by timeout) or "again" (the reminder)."""
        stars = [
            self._notify.button(requester, "button_stars", f"rate:{ticket.id}:{n}", stars=n)
            for n in range(1, 6)
        ]
        await self._notify.tell(
            conn, requester, "rate_ask", ticket_id=ticket.id, ticket=ticket, buttons=[stars], why=why
        )
        if why != "again":
            await sla.start_survey(conn, ticket, self._sla, now)

    async def ask_again(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        """The survey reminder: asked once more, a day after the first time."""
        if ticket.return_visit_at is not None:
            return
        requester = await people_queries.person_by_id(conn, ticket.requester_id)
        await self.ask_for_rating(conn, ticket, requester, self._clock.now(), why="again")

    async def give_up(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        """No answer to the survey: the return visit becomes the butler's phone call."""
        if ticket.return_visit_at is not None:
            return
        now = self._clock.now()
        await ticket_queries.add_event(conn, ticket.id, "survey_unanswered", at=now, actor_id=None)
        visitor = await self._visitor(conn, ticket)
        follow_up_id = await follow_up_queries.add_follow_up(
            conn, ticket.id, RETURN_VISIT, visitor.id if visitor else None, now
        )
        requester, incoming = await cards.original_request(conn, ticket)
        card = await cards.card_context(conn, ticket, requester, incoming)
        for person in (
            [visitor] if visitor else await people_queries.managers_of_estate(conn, ticket.estate_id)
        ):
            await self._notify.tell(
                conn,
                person,
                "return_visit_task",
                ticket_id=ticket.id,
                buttons=self._visit_buttons(person, follow_up_id),
                expects=VISIT_NOTE,
                **card,
            )

    async def _visitor(self, conn: AsyncConnection, ticket: Ticket) -> Person | None:
        """Who calls: the butler who had the ticket, else whoever of the owner's team is on duty now.

        One who has since moved to another team is no longer the household's butler (nor shown its phone):
        the call is the team's. A manager who took the ticket on makes the call themselves."""
        if ticket.butler_id is not None:
            handler = await people_queries.person_by_id(conn, ticket.butler_id)
            still_theirs = handler.role == Role.MANAGER or handler.team_id == ticket.team_id
            if handler.active and handler.telegram_id is not None and still_theirs:
                return handler
        return await routing.butler_for_team(conn, ticket.team_id)

    def _visit_buttons(self, person: Person, follow_up_id: int) -> Keyboard:
        stars = [
            self._notify.button(person, "button_stars", f"visit:{follow_up_id}:{n}", stars=n)
            for n in range(1, 6)
        ]
        return [stars, [self._notify.button(person, "button_visit_declined", f"visit:{follow_up_id}:0")]]

    # ---- recording what the resident said ---------------------------------------------------------------

    async def record(
        self,
        conn: AsyncConnection,
        ticket: Ticket,
        actor: Person,
        stars: int | None,
        *,
        by: str,
        now: datetime,
    ) -> Ticket:
        """The return visit is made: by the survey, or by the butler's call (stars None: no rating given)."""
        values: dict[str, object] = {"last_activity_at": now}
        if stars is not None:
            values["rating"] = stars
        if ticket.return_visit_at is None:
            values.update(return_visit_at=now, return_visit_by=by)
        ticket = await ticket_queries.update_ticket(conn, ticket.id, **values)
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "rated" if by == "survey" else "return_visit",
            at=now,
            actor_id=actor.id,
            detail={"stars": stars, "by": by},
        )
        await sla.stop(conn, ticket, sla.SURVEY_CLOCKS, now)
        await follow_up_queries.finish_follow_ups(
            conn,
            now=now,
            done_by=actor.id,
            result={"by": by, "stars": stars},
            ticket_id=ticket.id,
            kind=RETURN_VISIT,
        )
        return ticket

    async def record_phone_visit(
        self, staff: Person, follow_up_id: int, stars: int, pressed: PressedOn
    ) -> Outcome:
        """The butler called: `stars` is what the resident gave, 0 if they would not rate."""
        async with self._db.begin() as conn:
            follow_up, ticket, outcome = await self._follow_up_for(conn, staff, follow_up_id, RETURN_VISIT)
            if follow_up is None or ticket is None:
                return outcome
            now = self._clock.now()
            ticket = await self.record(conn, ticket, staff, stars or None, by="phone", now=now)
            await cards.retire_pressed(conn, pressed, None, now=now)
            await self._notify.tell(conn, staff, "return_visit_recorded", ticket_id=ticket.id, ticket=ticket)
            requester = await people_queries.person_by_id(conn, ticket.requester_id)
            await self.after_rating(conn, ticket, requester, now)
            return Outcome.DONE

    async def note(self, conn: AsyncConnection, staff: Person, ticket: Ticket, text: str) -> None:
        """What the resident said on the phone: kept on the ticket as the survey's comment, not relayed."""
        now = self._clock.now()
        await ticket_queries.add_event(
            conn, ticket.id, "return_visit_note", at=now, actor_id=staff.id, detail={"text": text}
        )
        if ticket.rating_comment is None and text:
            ticket = await ticket_queries.update_ticket(conn, ticket.id, rating_comment=text)
        await self._notify.tell(conn, staff, "return_visit_noted", ticket_id=ticket.id, ticket=ticket)

    async def after_rating(
        self, conn: AsyncConnection, ticket: Ticket, requester: Person, now: datetime
    ) -> None:
        """A low rating: the managers hear of it and the butler goes back (second service)."""
        if ticket.rating is None or ticket.rating > LOW_RATING:
            return
        await self.alert_second_service(conn, ticket, requester, reason="low_rating")
        butler = await self._visitor(conn, ticket)
        follow_up_id = await follow_up_queries.add_follow_up(
            conn, ticket.id, SECOND_SERVICE, butler.id if butler else None, now
        )
        if butler is not None:
            done = self._notify.button(butler, "button_second_service_done", f"served:{follow_up_id}")
            await self._notify.tell(
                conn,
                butler,
                "second_service_task",
                ticket_id=ticket.id,
                ticket=ticket,
                requester=requester,
                buttons=[[done]],
            )

    async def alert_second_service(
        self, conn: AsyncConnection, ticket: Ticket, requester: Person, *, reason: str
    ) -> None:
        now = self._clock.now()
        await ticket_queries.add_event(
            conn, ticket.id, "second_service", at=now, actor_id=None, detail={"reason": reason}
        )
        butler = await people_queries.person_by_id(conn, ticket.butler_id) if ticket.butler_id else None
        await self._notify.tell_managers(
            conn,
            ticket.estate_id,
            "second_service_alert",
            ticket_id=ticket.id,
            ticket=ticket,
            requester=requester,
            butler=butler,
            reason=reason,
        )

    async def mark_served(self, staff: Person, follow_up_id: int, pressed: PressedOn) -> Outcome:
        """The butler has been back to the resident after a low rating."""
        async with self._db.begin() as conn:
            follow_up, ticket, outcome = await self._follow_up_for(conn, staff, follow_up_id, SECOND_SERVICE)
            if follow_up is None or ticket is None:
                return outcome
            now = self._clock.now()
            await follow_up_queries.finish_follow_ups(
                conn, now=now, done_by=staff.id, result={"done": True}, follow_up_id=follow_up.id
            )
            await ticket_queries.add_event(conn, ticket.id, "second_service_done", at=now, actor_id=staff.id)
            await cards.retire_pressed(conn, pressed, None, now=now)
            await self._notify.tell_managers(
                conn,
                ticket.estate_id,
                "second_service_done",
                ticket_id=ticket.id,
                ticket=ticket,
                butler=staff,
            )
            return Outcome.DONE

    async def _follow_up_for(
        self, conn: AsyncConnection, staff: Person, follow_up_id: int, kind: str
    ) -> tuple[FollowUp | None, Ticket | None, Outcome]:
        """The open follow-up if `staff` may record it: the butler it was given to, or a manager."""
        follow_up = await follow_up_queries.follow_up_by_id(conn, follow_up_id)
        ticket = await ticket_queries.ticket_by_id(conn, follow_up.ticket_id) if follow_up else None
        if follow_up is None or ticket is None or follow_up.kind != kind:
            return None, None, Outcome.UNKNOWN
        manager = staff.role == Role.MANAGER and staff.estate_id == ticket.estate_id
        if not (manager or follow_up.butler_id == staff.id):
            return None, None, Outcome.NOT_YOURS
        if follow_up.done_at is not None or ticket.state != TicketState.CLOSED:
            return None, None, Outcome.ALREADY
        return follow_up, ticket, Outcome.DONE

    async def open_follow_ups(self, conn: AsyncConnection, butler: Person) -> list[FollowUp]:
        return await follow_up_queries.open_follow_ups_of(conn, butler.id)
