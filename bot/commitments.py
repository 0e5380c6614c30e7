"""The committed time (承诺时限): reminders before it, the lapse, and moving it.

The resident is told on receipt when they will hear back. The butler is reminded before that time; if
it passes with the ticket still in hand, the ticket is overdue and the managers hear of it. A butler
who cannot make it may move the committed time once, with a reason, before it lapses; the resident is
told at once. The same matter is never postponed twice on a butler's word alone: a second move, or a
move after the lapse, is a manager's to approve or refuse.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, sla
from bot.clock import Clock
from bot.config import ServiceLevels
from bot.model import Outcome, Person, PressedOn, Role, Ticket, TicketState
from bot.notify import Notifier
from bot.when import read_new_time
from storage import people as people_queries
from storage import postponements as postponement_queries
from storage import tickets as ticket_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.postponements import Postponement

POSTPONEMENT = "postponement"  # a message that asks the butler for the new time and the reason
WITHDRAWN = "withdrawn"  # a request that no longer applies (resolved meanwhile, or its time passed)


class Commitments:
    def __init__(
        self, db: Database, clock: Clock, notifier: Notifier, levels: ServiceLevels, zone: ZoneInfo
    ) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._sla = levels
        self._zone = zone

    # ---- the clocks -----------------------------------------------------------------------------------

    async def remind(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        """Before the committed time lapses, whoever has the ticket hears of it (the managers if nobody)."""
        if not ticket.in_hand or not sla.still_applies(clock, ticket):
            return
        for person in await self._responsible(conn, ticket):
            await self._notify.tell(
                conn,
                person,
                "commitment_reminder",
                ticket_id=ticket.id,
                ticket=ticket,
                buttons=cards.card_buttons(self._notify, person, ticket),
            )

    async def lapse(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        """The committed time has passed with the ticket still in hand: it is overdue until resolved."""
        if not ticket.in_hand or not sla.still_applies(clock, ticket):
            return
        now = self._clock.now()
        ticket = await ticket_queries.update_ticket(conn, ticket.id, overdue_at=ticket.overdue_at or now)
        await ticket_queries.add_event(
            conn, ticket.id, "overdue", at=now, actor_id=None, detail={"due_at": ticket.due_at.isoformat()}
        )
        butler = await people_queries.person_by_id(conn, ticket.butler_id) if ticket.butler_id else None
        if butler is not None:
            await self._notify.tell(conn, butler, "overdue_to_butler", ticket_id=ticket.id, ticket=ticket)
        await self._notify.tell_managers(
            conn, ticket.estate_id, "overdue_to_managers", ticket_id=ticket.id, ticket=ticket, butler=butler
        )

    async def show_overdue(self, manager: Person) -> None:
        """The manager's overdue list: in hand past the committed time, until resolved."""
        async with self._db.begin() as conn:
            now = self._clock.now()
            tickets = await ticket_queries.overdue_tickets(conn, manager.estate_id, now)
            butlers = {
                person.id: person.name
                for person in await people_queries.people_by_ids(conn, {t.butler_id for t in tickets})
            }
            await self._notify.tell(conn, manager, "overdue_list", tickets=tickets, butlers=butlers)

    async def _responsible(self, conn: AsyncConnection, ticket: Ticket) -> list[Person]:
        if ticket.butler_id is not None:
            butler = await people_queries.person_by_id(conn, ticket.butler_id)
            if butler.active:
                return [butler]
        return await people_queries.managers_of_estate(conn, ticket.estate_id)

    # ---- moving the committed time ---------------------------------------------------------------------

    async def ask_new_time(self, staff: Person, ticket_id: int, pressed: PressedOn) -> Outcome:
        """The "postpone" button: ask for the new time and the reason, as a reply."""
        async with self._db.begin() as conn:
            ticket = await ticket_queries.ticket_by_id(conn, ticket_id)
            if ticket is None:
                return Outcome.UNKNOWN
            if ticket.butler_id != staff.id:
                return Outcome.NOT_YOURS
            if ticket.state != TicketState.ACCEPTED:
                return Outcome.ALREADY
            await self._ask(conn, staff, ticket, problem=None)
            return Outcome.DONE

    async def _ask(self, conn: AsyncConnection, staff: Person, ticket: Ticket, problem: str | None) -> None:
        history = await postponement_queries.postponements_of(conn, ticket.id)
        await self._notify.tell(
            conn,
            staff,
            "postponement_ask",
            ticket_id=ticket.id,
            ticket=ticket,
            problem=problem,
            latest=self._latest(ticket),
            needs_manager=self._needs_manager(ticket, history),
            lapsed=ticket.due_at <= self._clock.now(),
            force_reply=True,
            expects=POSTPONEMENT,
        )

    def _latest(self, ticket: Ticket) -> datetime:
        return ticket.created_at + self._sla.max_commitment

    def _needs_manager(self, ticket: Ticket, history: list[Postponement]) -> bool:
        moved_before = any(p.status == "approved" for p in history)
        return moved_before or ticket.due_at <= self._clock.now()

    async def postpone(
        self, conn: AsyncConnection, staff: Person, ticket: Ticket, text: str, now: datetime
    ) -> None:
        """The butler's answer: a new time and a reason. Moved at once the first time, before the lapse;
        otherwise asked of the managers."""
        if ticket.butler_id != staff.id or not ticket.in_hand:
            await self._notify.tell(
                conn, staff, "postponement_not_possible", ticket_id=ticket.id, ticket=ticket
            )
            return
        history = await postponement_queries.postponements_of(conn, ticket.id)
        if any(p.status == "pending" for p in history):
            await self._notify.tell(conn, staff, "postponement_pending", ticket_id=ticket.id, ticket=ticket)
            return
        parsed = read_new_time(text, now, self._zone)
        problem = None
        if parsed is None:
            problem = "unreadable"
        elif not parsed[1]:
            problem = "no_reason"
        elif parsed[0] <= max(now, ticket.due_at):
            problem = "not_later"
        elif parsed[0] > self._latest(ticket):
            problem = "too_late"
        if parsed is None or problem is not None:
            await self._ask(conn, staff, ticket, problem)
            return
        new_due, reason = parsed
        needs_manager = self._needs_manager(ticket, history)
        postponement = await postponement_queries.add_postponement(
            conn,
            ticket_id=ticket.id,
            requested_by=staff.id,
            requested_at=now,
            from_due_at=ticket.due_at,
            to_due_at=new_due,
            reason=reason,
            status="pending" if needs_manager else "approved",
            decided_by=None if needs_manager else staff.id,
            decided_at=None if needs_manager else now,
        )
        if needs_manager:
            await self._ask_managers(conn, staff, ticket, postponement, now)
        else:
            await self._move(conn, ticket, postponement, staff, approved_by=None, now=now)

    async def _ask_managers(
        self, conn: AsyncConnection, butler: Person, ticket: Ticket, postponement: Postponement, now: datetime
    ) -> None:
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "postponement_requested",
            at=now,
            actor_id=butler.id,
            detail=_detail(postponement),
        )
        lapsed = ticket.due_at <= now
        for manager in await people_queries.managers_of_estate(conn, ticket.estate_id):
            buttons = [
                [
                    self._notify.button(manager, "button_approve", f"approve_postponement:{postponement.id}"),
                    self._notify.button(manager, "button_refuse", f"refuse_postponement:{postponement.id}"),
                ]
            ]
            await self._notify.tell(
                conn,
                manager,
                "postponement_request",
                ticket_id=ticket.id,
                ticket=ticket,
                butler=butler,
                postponement=postponement,
                lapsed=lapsed,
                buttons=buttons,
            )
        await self._notify.tell(
            conn, butler, "postponement_sent_to_managers", ticket_id=ticket.id, ticket=ticket, lapsed=lapsed
        )

    async def _move(
        self,
        conn: AsyncConnection,
        ticket: Ticket,
        postponement: Postponement,
        butler: Person,
        approved_by: Person | None,
        now: datetime,
    ) -> None:
        """Move the committed time, restart its clocks, and tell the resident why."""
        ticket = await ticket_queries.update_ticket(
            conn, ticket.id, due_at=postponement.to_due_at, last_activity_at=now
        )
        detail = _detail(postponement) | ({"approved_by": approved_by.name} if approved_by else {})
        await ticket_queries.add_event(
            conn, ticket.id, "postponed", at=now, actor_id=(approved_by or butler).id, detail=detail
        )
        await sla.start_commitment(conn, ticket, self._sla, now)
        requester = await people_queries.person_by_id(conn, ticket.requester_id)
        await self._notify.tell(
            conn,
            requester,
            "commitment_moved",
            ticket_id=ticket.id,
            ticket=ticket,
            butler=butler,
            reason=postponement.reason,
        )
        await self._notify.tell(
            conn,
            butler,
            "postponement_done",
            ticket_id=ticket.id,
            ticket=ticket,
            approved_by=approved_by,
        )

    async def decide(
        self, manager: Person, postponement_id: int, approve: bool, pressed: PressedOn
    ) -> Outcome:
        """A manager approves or refuses a second postponement (or one asked after the lapse)."""
        async with self._db.begin() as conn:
            postponement = await postponement_queries.postponement_by_id(conn, postponement_id)
            ticket = await ticket_queries.ticket_by_id(conn, postponement.ticket_id) if postponement else None
            if postponement is None or ticket is None:
                return Outcome.UNKNOWN
            if manager.role != Role.MANAGER or manager.estate_id != ticket.estate_id:
                return Outcome.NOT_YOURS
            now = self._clock.now()
            status = "approved" if approve else "refused"
            # Asked against another committed time, or for a time already past: the butler must ask anew.
            stale = postponement.from_due_at != ticket.due_at or postponement.to_due_at <= now
            if stale or not ticket.in_hand:
                status = WITHDRAWN
            decided = await postponement_queries.decide_postponement(
                conn, postponement.id, status, manager.id, now
            )
            if not decided or status == WITHDRAWN:
                return Outcome.ALREADY
            await cards.retire_pressed(conn, pressed, None, now=now)
            butler = await people_queries.person_by_id(conn, postponement.requested_by)
            if approve:
                await self._move(conn, ticket, postponement, butler, approved_by=manager, now=now)
            else:
                await ticket_queries.add_event(
                    conn,
                    ticket.id,
                    "postponement_refused",
                    at=now,
                    actor_id=manager.id,
                    detail=_detail(postponement),
                )
                await self._notify.tell(
                    conn, butler, "postponement_refused", ticket_id=ticket.id, ticket=ticket, manager=manager
                )
            return Outcome.DONE


def _detail(postponement: Postponement) -> dict[str, object]:
    return {
        "from": postponement.from_due_at.isoformat(),
        "to": postponement.to_due_at.isoformat(),
        "reason": postponement.reason,
    }
