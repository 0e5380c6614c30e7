"""The escalation ladder of the three-minute promise (三分钟服务承诺).

A new ticket goes to the owner's team: its designated first butler, or the next one on duty. If the
butler does not accept within `accept_within`, the ticket goes to the next butler on duty in the team's
order; when the whole team has let it lapse, to the estate's managers. Nobody outside the owner's team
is asked before a manager. Every hop is logged and the resident is told someone is on it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, routing, sla
from bot.clock import Clock
from bot.config import ServiceLevels
from bot.model import Person, Ticket, TicketState
from bot.notify import Notifier
from bot.sla import ClockKind
from storage import clocks as clock_queries
from storage import people as people_queries
from storage import tickets as ticket_queries
from storage.clocks import DueClock

NOT_ACCEPTED = "not_accepted"
OFF_DUTY = "off_duty"


class Escalation:
    def __init__(self, clock: Clock, notifier: Notifier, levels: ServiceLevels) -> None:
        self._clock = clock
        self._notify = notifier
        self._sla = levels

    async def accept_lapsed(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        """The accept clock ran out: the ticket moves one step up the ladder."""
        if ticket.state != TicketState.NEW or ticket.butler_id != clock.detail.get("butler_id"):
            return  # accepted, or handed on in the meantime: this clock no longer applies
        await self.pass_on(conn, ticket, NOT_ACCEPTED, card_row=clock.detail.get("card_row"))

    async def hand_on(self, conn: AsyncConnection, ticket: Ticket, reason: str) -> Ticket:
        """Pass a ticket on before its three minutes are up (its butler went off duty)."""
        watched = await clock_queries.pending_detail(conn, ticket.id, ClockKind.ACCEPT.value) or {}
        return await self.pass_on(conn, ticket, reason, card_row=watched.get("card_row"))

    async def pass_on(
        self, conn: AsyncConnection, ticket: Ticket, reason: str, *, card_row: int | None
    ) -> Ticket:
        """Hand an unaccepted ticket to the next butler on duty after its current one, or the managers;
        `card_row` is the card whose buttons no longer apply."""
        assert ticket.butler_id is not None
        now = self._clock.now()
        previous = await people_queries.person_by_id(conn, ticket.butler_id)
        await sla.stop(conn, ticket, (ClockKind.ACCEPT,), now)
        following = await self._next_butler(conn, ticket, previous)
        ticket = await ticket_queries.update_ticket(
            conn, ticket.id, butler_id=following.id if following else None, last_activity_at=now
        )
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "escalated",
            at=now,
            actor_id=None,
            detail={
                "reason": reason,
                "from_id": previous.id,
                "from": previous.name,
                "to_id": following.id if following else None,
                "to": following.name if following else "managers",
            },
        )
        if previous.telegram_id is not None:
            await cards.retire_buttons(conn, previous.telegram_id, card_row, None, now=now)
        await self._notify.tell(
            conn, previous, "task_passed_on", ticket_id=ticket.id, ticket=ticket, to=following, reason=reason
        )
        requester, incoming = await cards.original_request(conn, ticket)
        card = await cards.card_context(conn, ticket, requester, incoming)
        if following is not None:
            buttons = cards.card_buttons(self._notify, following, ticket)
            row = await cards.send_card(
                conn, self._notify, following, "task_card", card, buttons, passed_from=previous, reason=reason
            )
            await sla.start_acceptance(conn, ticket, self._sla, now, row)
        else:
            await cards.alert_managers(conn, self._notify, card, "escalated_to_managers", reason=reason)
        await self._notify.tell(
            conn, requester, "ticket_escalated", ticket_id=ticket.id, ticket=ticket, butler=following
        )
        return ticket

    async def _next_butler(self, conn: AsyncConnection, ticket: Ticket, previous: Person) -> Person | None:
        """The next butler on duty after `previous` in the team's order; each is asked once."""
        team = await people_queries.butlers_of_team(conn, ticket.team_id)
        ids = [butler.id for butler in team]
        # A butler dropped from the roster has no place in the team any more: ask the team from the top.
        after = team[ids.index(previous.id) + 1 :] if previous.id in ids else team
        return routing.first_on_duty(after)
