"""The ticket desk (工单): opening requests, relaying the conversation, accept, resolve, confirm, rate.

Each public method is one decision and runs in one transaction: the ticket's new state, its event-log
rows and every message it causes (outbox rows) are committed together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, outbox, routing, sla
from bot.classify import Classifier
from bot.clock import Clock
from bot.commitments import POSTPONEMENT, Commitments
from bot.config import ServiceLevels
from bot.flood import FloodControl
from bot.model import (
    IN_HAND_STATES,
    Category,
    Incoming,
    Outcome,
    Person,
    PressedOn,
    Role,
    Ticket,
    TicketState,
)
from bot.notify import Notifier
from bot.return_visits import VISIT_NOTE, ReturnVisits
from bot.sla import ClockKind
from storage import people as people_queries
from storage import postponements as postponement_queries
from storage import service_orders as service_order_queries
from storage import tickets as ticket_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.service_orders import ServiceOrder

RATING_COMMENT = "rating_comment"  # a message that asks for an optional comment on a rating
MANAGER_COPY_CATEGORIES = (Category.COMPLAINT, Category.EMERGENCY)
# How urgent a category is, for raising a ticket when a follow-up turns out to be more serious.
URGENCY = {Category.EMERGENCY: 2, Category.COMPLAINT: 1}


class TicketDesk:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        classifier: Classifier,
        levels: ServiceLevels,
        commitments: Commitments,
        return_visits: ReturnVisits,
        flood: FloodControl,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._classifier = classifier
        self._sla = levels
        self._commitments = commitments
        self._visits = return_visits
        self._flood = flood

    # ---- a household member writes -------------------------------------------------------------

    async def take_message(self, requester: Person, incoming: Incoming) -> Ticket | None:
        """A resident's or owner's message: a new ticket, a follow-up, or the comment on a rating; None
        if it is held back from a flood, to be passed on later (bot/flood.py)."""
        async with self._db.begin() as conn:
            return await self._take(conn, requester, incoming, held_since=None)

    async def pass_on_held(
        self, conn: AsyncConnection, requester: Person, incoming: Incoming, held_since: datetime
    ) -> None:
        """A message held back from a flood goes through now, as it would have when it came: the
        follow-up window is reckoned from when it came, and its event keeps that time."""
        await self._take(conn, requester, incoming, held_since=held_since)

    async def _take(
        self, conn: AsyncConnection, requester: Person, incoming: Incoming, held_since: datetime | None
    ) -> Ticket | None:
        now = self._clock.now()
        earlier: Ticket | None = None
        ticket: Ticket | None = None
        if incoming.reply_to_message_id is not None:
            ref = await outbox.find_message(conn, incoming.chat_id, incoming.reply_to_message_id)
            replied = await ticket_queries.ticket_by_id(conn, ref.ticket_id) if ref else None
            if replied is not None and replied.requester_id == requester.id:
                if ref is not None and ref.expects == RATING_COMMENT and replied.rating_comment is None:
                    return await self._comment(conn, requester, replied, incoming, now)
                if replied.state == TicketState.CLOSED:
                    earlier = replied
                else:
                    ticket = replied
        else:
            ticket = await ticket_queries.latest_open_ticket(
                conn, requester.id, (held_since or now) - self._sla.followup_window
            )
        if held_since is None and await self._flood.holds(conn, requester, incoming, now):
            return None
        if ticket is not None:
            return await self._follow_up(conn, requester, ticket, incoming, now, held_since)
        return await self._open(conn, requester, incoming, now, earlier, held_since)

    async def open_service_order(
        self, conn: AsyncConnection, requester: Person, incoming: Incoming, order: ServiceOrder
    ) -> Ticket:
        """A paid service ordered from the price list (bot/service_orders.py): a ticket of its own, routed
        and promised like any other request, carrying the order with the price it was ordered at. A
        service booked for a later day is promised its feedback counted from that day, not from now."""
        now = self._clock.now()
        due_at = None
        if order.preferred_at is not None:
            within = sla.feedback_window(self._sla, Category.SERVICE)
            due_at = max(now, order.preferred_at) + within
        return await self._open(
            conn, requester, incoming, now, None, category=Category.SERVICE, order=order, due_at=due_at
        )

    async def _open(
        self,
        conn: AsyncConnection,
        requester: Person,
        incoming: Incoming,
        now: datetime,
        earlier: Ticket | None,
        held_since: datetime | None = None,
        *,
        category: Category | None = None,
        order: ServiceOrder | None = None,
        due_at: datetime | None = None,
    ) -> Ticket:
        owner = requester
        if requester.role == Role.RESIDENT:
            owner = (
                await people_queries.owner_of_unit(conn, requester.estate_id, requester.unit or "")
                or requester
            )
        if owner.team_id is None:
            raise ValueError(f"person {owner.id} has no team; the roster import should have refused that")
        category = category or self._classifier.classify(incoming.text)
        within = sla.feedback_window(self._sla, category)
        butler = await routing.butler_for_team(conn, owner.team_id)
        ticket = await ticket_queries.insert_ticket(
            conn,
            estate_id=requester.estate_id,
            number=await ticket_queries.next_number(conn, requester.estate_id),
            requester_id=requester.id,
            owner_id=owner.id,
            team_id=owner.team_id,
            butler_id=butler.id if butler else None,
            category=category.value,
            state=TicketState.NEW.value,
            summary=(order.summary(requester.language) if order else incoming.text)[:500],
            created_at=now,
            due_at=due_at or now + within,
            last_activity_at=now,
        )
        await _log_message(
            conn,
            ticket.id,
            "created",
            requester,
            incoming,
            now,
            follows=earlier.number if earlier else None,
            held_since=held_since.isoformat() if held_since else None,
        )
        if order is not None:  # linked before the cards are written: they show what was ordered
            order = await service_order_queries.attach_ticket(conn, order.id, ticket.id)
            await ticket_queries.add_event(
                conn, ticket.id, "service_ordered", at=now, actor_id=requester.id, detail=order.log_detail()
            )
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "assigned" if butler else "unassigned",
            at=now,
            actor_id=None,
            detail={"butler_id": butler.id, "butler": butler.name}
            if butler
            else {"reason": "nobody on duty"},
        )
        await self._notify.tell(
            conn,
            requester,
            "ticket_opened",
            ticket_id=ticket.id,
            ticket=ticket,
            butler=butler,
            earlier=earlier,
            service_order=order,
        )
        card = await cards.card_context(conn, ticket, requester, incoming, known=(owner, butler))
        await sla.start_commitment(conn, ticket, self._sla, now, opened=True)
        if butler is not None:
            card_row = await cards.send_card(
                conn,
                self._notify,
                butler,
                "task_card",
                card,
                cards.card_buttons(self._notify, butler, ticket),
            )
            await sla.start_acceptance(conn, ticket, self._sla, now, card_row, opened=True)
        if butler is None or _watched_by_managers(ticket, owner):
            await cards.alert_managers(conn, self._notify, card)
        return ticket

    async def _follow_up(
        self,
        conn: AsyncConnection,
        requester: Person,
        ticket: Ticket,
        incoming: Incoming,
        now: datetime,
        held_since: datetime | None = None,
    ) -> Ticket:
        await _log_message(
            conn,
            ticket.id,
            "message_from_resident",
            requester,
            incoming,
            now,
            held_since=held_since.isoformat() if held_since else None,
        )
        ticket = await ticket_queries.update_ticket(conn, ticket.id, last_activity_at=now)
        followers = await self._relay_to_followers(conn, ticket, requester, incoming)
        raised_to = self._classifier.classify(incoming.text)
        raised = _outranks(raised_to, ticket.category)
        if raised:
            ticket = await self._raise_category(conn, ticket, raised_to, requester, incoming, followers, now)
        await self._notify.tell(
            conn,
            requester,
            "followup_added",
            ticket_id=ticket.id,
            ticket=ticket,
            raised=raised,
            to_managers=ticket.butler_id is None,
        )
        if ticket.state == TicketState.RESOLVED and ticket.butler_id is not None:
            # Written after the fix: not a silent yes. Ask again, and the two days start over.
            handler = await people_queries.person_by_id(conn, ticket.butler_id)
            await self._ask_to_confirm(conn, ticket, requester, handler, now)
        return ticket

    async def _raise_category(
        self,
        conn: AsyncConnection,
        ticket: Ticket,
        category: Category,
        requester: Person,
        incoming: Incoming,
        already_told: list[Person],
        now: datetime,
    ) -> Ticket:
        """A follow-up turns out to be an emergency or a complaint: the ticket becomes one, with its
        shorter commitment, and the managers hear of it at once, as they would of a new one."""
        due_at = min(ticket.due_at, now + sla.feedback_window(self._sla, category))
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "category_raised",
            at=now,
            actor_id=None,
            detail={"from": ticket.category.value, "to": category.value, "due_at": due_at.isoformat()},
        )
        moved = due_at != ticket.due_at
        ticket = await ticket_queries.update_ticket(conn, ticket.id, category=category.value, due_at=due_at)
        if moved and ticket.in_hand:
            await sla.start_commitment(conn, ticket, self._sla, now)
        card = await cards.card_context(conn, ticket, requester, incoming)
        await cards.alert_managers(
            conn, self._notify, card, skip=frozenset(person.id for person in already_told)
        )
        if card["butler"] is not None:
            await self._notify.tell(
                conn, card["butler"], "category_raised", ticket_id=ticket.id, ticket=ticket
            )
        return ticket

    async def followers(self, conn: AsyncConnection, ticket: Ticket) -> list[Person]:
        """The staff who follow a ticket's conversation: its butler, and the managers when the ticket
        is theirs to watch (a complaint, an emergency, a VIP owner's, or nobody has it yet)."""
        staff = []
        if ticket.butler_id is not None:
            staff.append(await people_queries.person_by_id(conn, ticket.butler_id))
        owner = await people_queries.person_by_id(conn, ticket.owner_id)
        if ticket.butler_id is None or _watched_by_managers(ticket, owner):
            staff.extend(await people_queries.managers_of_estate(conn, ticket.estate_id))
        return [person for index, person in enumerate(staff) if person not in staff[:index]]

    async def _relay_to_followers(
        self, conn: AsyncConnection, ticket: Ticket, sender: Person, incoming: Incoming, edited: bool = False
    ) -> list[Person]:
        """Relay a message inside the ticket: a resident's to the staff following it; a staff member's
        to the resident and, so that nobody gives inconsistent answers, to the other staff following it.
        Returns the staff who were told."""
        followers = [person for person in await self.followers(conn, ticket) if person.id != sender.id]
        if sender.role.is_household:
            for person in followers:
                await self._relay(conn, person, "relay_to_staff", ticket, sender, incoming, edited)
            return followers
        requester = await people_queries.person_by_id(conn, ticket.requester_id)
        await self._relay(conn, requester, "relay_to_resident", ticket, sender, incoming, edited)
        for person in followers:
            await self._relay(
                conn, person, "relay_between_staff", ticket, sender, incoming, edited, requester=requester
            )
        return followers

    async def _relay(
        self,
        conn: AsyncConnection,
        to: Person,
        template: str,
        ticket: Ticket,
        sender: Person,
        incoming: Incoming,
        edited: bool,
        **extra: Any,
    ) -> None:
        words: dict[str, Any] = {"ticket": ticket, "sender": sender, "edited": edited, **extra}
        if incoming.is_media and not edited:
            await self._notify.show_media(conn, to, incoming, template, ticket_id=ticket.id, **words)
        else:
            await self._notify.tell(conn, to, template, ticket_id=ticket.id, incoming=incoming, **words)

    async def _comment(
        self, conn: AsyncConnection, requester: Person, ticket: Ticket, incoming: Incoming, now: datetime
    ) -> Ticket:
        await _log_message(conn, ticket.id, "commented", requester, incoming, now)
        ticket = await ticket_queries.update_ticket(
            conn, ticket.id, rating_comment=incoming.text or f"[{incoming.kind}]"
        )
        await self._notify.tell(conn, requester, "comment_thanks", ticket_id=ticket.id, ticket=ticket)
        if ticket.butler_id is not None:
            handler = await people_queries.person_by_id(conn, ticket.butler_id)
            await self._relay(conn, handler, "comment_to_butler", ticket, requester, incoming, edited=False)
        return ticket

    # ---- staff write into a ticket ---------------------------------------------------------------

    async def take_staff_message(self, staff: Person, incoming: Incoming) -> Outcome:
        """A butler's or manager's message: relayed to the resident when it replies to a ticket message."""
        async with self._db.begin() as conn:
            now = self._clock.now()
            ref = None
            if incoming.reply_to_message_id is not None:
                ref = await outbox.find_message(conn, incoming.chat_id, incoming.reply_to_message_id)
            ticket = await ticket_queries.ticket_by_id(conn, ref.ticket_id) if ref else None
            if ticket is None:
                await self._notify.tell(conn, staff, "staff_reply_hint")
                return Outcome.UNKNOWN
            if not self._may_handle(staff, ticket):
                await self._notify.tell(conn, staff, "not_your_ticket", ticket=ticket)
                return Outcome.NOT_YOURS
            if ref is not None and ref.expects == POSTPONEMENT:
                await self._commitments.postpone(conn, staff, ticket, incoming.text, now)
                return Outcome.DONE
            if ref is not None and ref.expects == VISIT_NOTE:
                await self._visits.note(conn, staff, ticket, incoming.text or f"[{incoming.kind}]")
                return Outcome.DONE
            await _log_message(conn, ticket.id, f"message_from_{staff.role.value}", staff, incoming, now)
            ticket = await ticket_queries.update_ticket(conn, ticket.id, last_activity_at=now)
            requester = await people_queries.person_by_id(conn, ticket.requester_id)
            await self._relay_to_followers(conn, ticket, staff, incoming)
            await self._notify.tell(
                conn, staff, "staff_message_relayed", ticket_id=ticket.id, ticket=ticket, requester=requester
            )
            return Outcome.DONE

    async def take_edit(self, person: Person, incoming: Incoming) -> Outcome:
        """Someone corrected a message they had sent into a ticket: log it and pass the new words on."""
        async with self._db.begin() as conn:
            ref = await outbox.find_message(conn, incoming.chat_id, incoming.message_id)
            ticket = await ticket_queries.ticket_by_id(conn, ref.ticket_id) if ref else None
            if ticket is None:
                if person.role.is_household and await self._flood.correct(conn, person, incoming):
                    return Outcome.DONE  # still held back from a flood: it will go on as corrected
                return Outcome.UNKNOWN  # not part of any ticket (a command, a refused sticker ...)
            allowed = (
                ticket.requester_id == person.id
                if person.role.is_household
                else self._may_handle(person, ticket)
            )
            if not allowed:
                return Outcome.NOT_YOURS
            now = self._clock.now()
            await _log_message(conn, ticket.id, "message_edited", person, incoming, now)
            ticket = await ticket_queries.update_ticket(conn, ticket.id, last_activity_at=now)
            await self._relay_to_followers(conn, ticket, person, incoming, edited=True)
            return Outcome.DONE

    @staticmethod
    def _may_handle(staff: Person, ticket: Ticket) -> bool:
        if staff.role == Role.MANAGER:
            return staff.estate_id == ticket.estate_id
        return staff.role == Role.BUTLER and staff.team_id == ticket.team_id

    # ---- the butler's buttons --------------------------------------------------------------------

    async def accept(self, staff: Person, ticket_id: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            ticket, outcome = await self._handlers_ticket(conn, staff, ticket_id, (TicketState.NEW,))
            if ticket is None:
                return outcome
            now = self._clock.now()
            ticket = await self._take_on_if_unassigned(conn, ticket, staff, now)
            ticket = await ticket_queries.update_ticket(
                conn, ticket.id, state=TicketState.ACCEPTED.value, accepted_at=now, last_activity_at=now
            )
            await ticket_queries.add_event(conn, ticket.id, "accepted", at=now, actor_id=staff.id)
            await sla.stop(conn, ticket, (ClockKind.ACCEPT,), now)
            await cards.retire_pressed(
                conn, pressed, cards.card_buttons(self._notify, staff, ticket), now=now
            )
            requester = await people_queries.person_by_id(conn, ticket.requester_id)
            await self._notify.tell(
                conn, requester, "ticket_accepted", ticket_id=ticket.id, ticket=ticket, butler=staff
            )
            return Outcome.DONE

    async def resolve(self, staff: Person, ticket_id: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            ticket, outcome = await self._handlers_ticket(conn, staff, ticket_id, IN_HAND_STATES)
            if ticket is None:
                return outcome
            now = self._clock.now()
            ticket = await self._take_on_if_unassigned(conn, ticket, staff, now)
            if ticket.accepted_at is None:
                # Resolved straight away: it was accepted in the same moment, and the log says so.
                await ticket_queries.add_event(conn, ticket.id, "accepted", at=now, actor_id=staff.id)
            ticket = await ticket_queries.update_ticket(
                conn,
                ticket.id,
                state=TicketState.RESOLVED.value,
                accepted_at=ticket.accepted_at or now,
                resolved_at=now,
                last_activity_at=now,
            )
            await ticket_queries.add_event(conn, ticket.id, "resolved", at=now, actor_id=staff.id)
            await cards.retire_pressed(conn, pressed, None, now=now)
            requester = await people_queries.person_by_id(conn, ticket.requester_id)
            await self._ask_to_confirm(conn, ticket, requester, staff, now)
            await postponement_queries.withdraw_pending(conn, ticket.id, now)
            return Outcome.DONE

    async def _ask_to_confirm(
        self, conn: AsyncConnection, ticket: Ticket, requester: Person, handler: Person, now: datetime
    ) -> None:
        """ "Is it resolved for you?": the resident has `confirm_within` to answer before it closes."""
        question = await self._notify.tell(
            conn,
            requester,
            "ticket_resolved",
            ticket_id=ticket.id,
            ticket=ticket,
            butler=handler,
            buttons=[
                [
                    self._notify.button(requester, "button_confirm", f"confirm:{ticket.id}"),
                    self._notify.button(requester, "button_reopen", f"reopen:{ticket.id}"),
                ]
            ],
        )
        await sla.start_confirmation(conn, ticket, self._sla, now, question)

    async def _handlers_ticket(
        self, conn: AsyncConnection, staff: Person, ticket_id: int, states: tuple[TicketState, ...]
    ) -> tuple[Ticket | None, Outcome]:
        """The ticket if `staff` may act on it now: it is theirs, or nobody has it and they manage its
        estate; otherwise why not. Only managers are shown the buttons of a ticket nobody has, so a
        butler pressing one (an old card of a ticket since passed to the managers) changes nothing."""
        ticket = await ticket_queries.ticket_by_id(conn, ticket_id)
        if ticket is None:
            return None, Outcome.UNKNOWN
        theirs = ticket.butler_id == staff.id
        unclaimed = (
            ticket.butler_id is None and staff.role == Role.MANAGER and self._may_handle(staff, ticket)
        )
        if not (theirs or unclaimed):
            return None, Outcome.NOT_YOURS
        if ticket.state not in states:
            return None, Outcome.ALREADY
        return ticket, Outcome.DONE

    async def _take_on_if_unassigned(
        self, conn: AsyncConnection, ticket: Ticket, staff: Person, now: datetime
    ) -> Ticket:
        if ticket.butler_id is not None:
            return ticket
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "assigned",
            at=now,
            actor_id=staff.id,
            detail={"butler_id": staff.id, "taken_on_by": staff.name},
        )
        return await ticket_queries.update_ticket(conn, ticket.id, butler_id=staff.id)

    # ---- the resident's buttons ------------------------------------------------------------------

    async def confirm(self, requester: Person, ticket_id: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            ticket, outcome = await self._requesters_ticket(conn, requester, ticket_id, TicketState.RESOLVED)
            if ticket is None:
                return outcome
            now = self._clock.now()
            ticket = await ticket_queries.update_ticket(
                conn, ticket.id, state=TicketState.CLOSED.value, closed_at=now, last_activity_at=now
            )
            await ticket_queries.add_event(conn, ticket.id, "confirmed", at=now, actor_id=requester.id)
            await cards.retire_pressed(conn, pressed, None, now=now)
            await self._visits.ask_for_rating(conn, ticket, requester, now, why="confirmed")
            await self._tell_handler(conn, ticket, "confirmed_to_butler", requester=requester)
            return Outcome.DONE

    async def close_unconfirmed(self, conn: AsyncConnection, ticket: Ticket, clock: DueClock) -> None:
        """The confirm clock ran out: the resident neither confirmed nor reopened, so the ticket closes
        as confirmed by timeout, and the return visit begins as after any close."""
        if ticket.state != TicketState.RESOLVED:
            return
        now = self._clock.now()
        ticket = await ticket_queries.update_ticket(
            conn, ticket.id, state=TicketState.CLOSED.value, closed_at=now, last_activity_at=now
        )
        await ticket_queries.add_event(conn, ticket.id, "closed_unconfirmed", at=now, actor_id=None)
        requester = await people_queries.person_by_id(conn, ticket.requester_id)
        if requester.telegram_id is not None:
            await cards.retire_buttons(
                conn, requester.telegram_id, clock.detail.get("question_row"), None, now=now
            )
        await self._visits.ask_for_rating(conn, ticket, requester, now, why="unconfirmed")
        await self._tell_handler(conn, ticket, "closed_unconfirmed_to_butler", requester=requester)

    async def reopen(self, requester: Person, ticket_id: int, pressed: PressedOn) -> Outcome:
        """ "Not yet": the ticket goes back to the same butler, who must see it through."""
        async with self._db.begin() as conn:
            ticket, outcome = await self._requesters_ticket(conn, requester, ticket_id, TicketState.RESOLVED)
            if ticket is None:
                return outcome
            now = self._clock.now()
            # Second service (二次服务): a fresh commitment, never earlier than the one already given.
            due_at = max(ticket.due_at, now + sla.feedback_window(self._sla, ticket.category))
            ticket = await ticket_queries.update_ticket(
                conn,
                ticket.id,
                state=TicketState.ACCEPTED.value,
                resolved_at=None,
                due_at=due_at,
                overdue_at=None,  # a fresh commitment; the earlier lapse stays in the event log
                reopen_count=ticket.reopen_count + 1,
                last_activity_at=now,
            )
            await ticket_queries.add_event(
                conn,
                ticket.id,
                "reopened",
                at=now,
                actor_id=requester.id,
                detail={"due_at": due_at.isoformat()},
            )
            await cards.retire_pressed(conn, pressed, None, now=now)
            await sla.stop(conn, ticket, (ClockKind.CONFIRM,), now)
            await sla.start_commitment(conn, ticket, self._sla, now)
            butler = await people_queries.person_by_id(conn, ticket.butler_id) if ticket.butler_id else None
            await self._notify.tell(
                conn, requester, "ticket_reopened", ticket_id=ticket.id, ticket=ticket, butler=butler
            )
            if butler is not None:
                await self._notify.tell(
                    conn,
                    butler,
                    "reopened_to_butler",
                    ticket_id=ticket.id,
                    ticket=ticket,
                    requester=requester,
                    buttons=cards.card_buttons(self._notify, butler, ticket),
                )
            await self._visits.alert_second_service(conn, ticket, requester, reason="reopened")
            return Outcome.DONE

    async def rate(self, requester: Person, ticket_id: int, stars: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            ticket, outcome = await self._requesters_ticket(conn, requester, ticket_id, TicketState.CLOSED)
            if ticket is None:
                return outcome
            if ticket.rating is not None or not 1 <= stars <= 5:
                return Outcome.ALREADY
            now = self._clock.now()
            ticket = await self._visits.record(conn, ticket, requester, stars, by="survey", now=now)
            await cards.retire_pressed(conn, pressed, None, now=now)
            await self._notify.tell(
                conn,
                requester,
                "rated_thanks",
                ticket_id=ticket.id,
                ticket=ticket,
                force_reply=True,
                expects=RATING_COMMENT,
            )
            await self._tell_handler(conn, ticket, "rating_to_butler", requester=requester)
            await self._visits.after_rating(conn, ticket, requester, now)
            return Outcome.DONE

    async def _tell_handler(
        self, conn: AsyncConnection, ticket: Ticket, template: str, **context: Any
    ) -> None:
        """Tell whoever has the ticket (its butler, or the manager who took it on), if anyone does."""
        if ticket.butler_id is not None:
            handler = await people_queries.person_by_id(conn, ticket.butler_id)
            await self._notify.tell(conn, handler, template, ticket_id=ticket.id, ticket=ticket, **context)

    async def _requesters_ticket(
        self, conn: AsyncConnection, requester: Person, ticket_id: int, state: TicketState
    ) -> tuple[Ticket | None, Outcome]:
        """The ticket if it is this requester's and in `state`; otherwise why not."""
        ticket = await ticket_queries.ticket_by_id(conn, ticket_id)
        if ticket is None:
            return None, Outcome.UNKNOWN
        if ticket.requester_id != requester.id:
            return None, Outcome.NOT_YOURS
        if ticket.state != state:
            return None, Outcome.ALREADY
        return ticket, Outcome.DONE

    # ---- lists -----------------------------------------------------------------------------------

    async def show_my_tickets(self, requester: Person) -> None:
        async with self._db.begin() as conn:
            tickets = await ticket_queries.tickets_of_requester(conn, requester.id)
            await self._notify.tell(conn, requester, "my_tickets", tickets=tickets)

    async def show_tasks(self, butler: Person) -> None:
        async with self._db.begin() as conn:
            tickets = await ticket_queries.open_tickets_of_butler(conn, butler.id)
            follow_ups = await self._visits.open_follow_ups(conn, butler)
            await self._notify.tell(
                conn, butler, "tasks", tickets=tickets, follow_ups=follow_ups, now=self._clock.now()
            )


def _watched_by_managers(ticket: Ticket, owner: Person) -> bool:
    """Complaints, emergencies and every VIP owner's ticket go to a manager at once (domain.md)."""
    return ticket.category in MANAGER_COPY_CATEGORIES or owner.vip


def _outranks(new: Category, old: Category) -> bool:
    return URGENCY.get(new, 0) > URGENCY.get(old, 0)


async def _log_message(
    conn: AsyncConnection,
    ticket_id: int,
    kind: str,
    actor: Person,
    incoming: Incoming,
    now: datetime,
    **extra: object,
) -> None:
    """Record what someone sent into the ticket's history, with where it is in their chat.

    The chat position lets a later reply to this very message find the ticket again.
    """
    detail: dict[str, object] = {"kind": incoming.kind, "text": incoming.text}
    if incoming.file_id:
        detail["file_id"] = incoming.file_id
    if incoming.location:
        detail["location"] = list(incoming.location)
    detail.update({key: value for key, value in extra.items() if value is not None})
    await ticket_queries.add_event(
        conn,
        ticket_id,
        kind,
        at=now,
        actor_id=actor.id,
        detail=detail,
        chat_id=incoming.chat_id,
        message_id=incoming.message_id,
    )
