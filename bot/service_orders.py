"""Paid special services (特约服务, 明码标价): browsing the price list, ordering, and extra costs.

Browsing. /services shows the estate's services with their published prices, PAGE_SIZE to a page, one
button each. Paging and a service's details replace that same message, so the chat does not fill up
with lists. A press acts only on a price list the bot sent to the person pressing (the message's outbox
row says so), so forged data on any other message changes nothing.

Ordering. *Order* carries the price the resident was shown; if the price has changed since, they are
shown the new one instead of ordering at a price they did not see. Otherwise the service's name, unit and
price are copied into a draft order at once: that is the price of this order whatever a later import
says. The resident then replies with a preferred time and a note (``明天 15:00 请带梯子``, read with
bot/when.py; a note alone is fine), or orders it as it is, or cancels. Placing it opens a ticket of
category service through the ticket desk, exactly as any request: their own butler, the three-minute
promise, the committed time, managers copied for a VIP owner. A draft is open for DRAFT_VALID_FOR; a
late, second or forged answer changes nothing and says so.

Extra costs. On a paid-service ticket in progress, whoever has it can quote an extra cost (amount and
reason); the resident who asked accepts or declines it, once, while the ticket is still in hand. The
staff following the ticket hear of the quote and of the answer, and the ticket's log keeps both.
"""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, outbox
from bot.clock import Clock
from bot.model import Category, Incoming, Outcome, Person, PressedOn, Ticket, TicketState
from bot.money import read_amount, to_cents
from bot.notify import Notifier
from bot.outbox import Button, Keyboard
from bot.tickets import TicketDesk
from bot.when import read_appointment
from storage import catalog as catalog_queries
from storage import people as people_queries
from storage import service_orders as order_queries
from storage import tickets as ticket_queries
from storage.catalog import ServiceItem
from storage.database import Database
from storage.service_orders import ACCEPTED, CANCELLED, DECLINED, DRAFT, OPEN, PLACED, ServiceOrder

PAGE_SIZE = 6
DRAFT_VALID_FOR = timedelta(days=1)
# A message sent without replying gives the time and note of a draft made this recently.
DETAILS_WITHOUT_REPLY = timedelta(minutes=30)
PREFERRED_WITHIN = timedelta(days=90)  # further ahead is a typo ("11-19" read as next year's), so asked again
# What a message of this service is for (its outbox row's `expects`).
CATALOG = "service_catalog"  # a price list: presses on it page, show details and order
ORDER_DETAILS = "service_order_details:"  # + the order's id: asks for its preferred time and note
QUOTE = "service_quote"  # asks the staff member for an extra cost's amount and reason

# An extra cost as staff write it: the amount first (80, ¥80, 80元, RMB 80.50), then the reason.
_LEADING_AMOUNT = re.compile(r"\s*(?:¥|￥|RMB|CNY)?\s*[0-9][0-9,.]*\s*(?:元|块|RMB|CNY)?", re.IGNORECASE)
_SEPARATORS = " ,，:：;；-—"


def read_preferred_time(text: str, now: datetime, zone: ZoneInfo) -> tuple[datetime | None, str]:
    """The preferred time at the start of an order's note, and the rest; (None, the whole text) if none.
    Only an exact moment is read (bot/when.py read_appointment); anything else is the butler's to read."""
    text = text.strip()
    read = read_appointment(text, now, zone)
    return (None, text) if read is None else read


def read_quote(text: str) -> tuple[Decimal, str] | None:
    """The amount and the reason of ``80 更换水龙头配件``; None unless both are there."""
    match = _LEADING_AMOUNT.match(text)
    if match is None:
        return None
    amount = read_amount(match.group())
    reason = text[match.end() :].strip().lstrip(_SEPARATORS).strip()
    return (amount, reason) if amount is not None and reason else None


class ServiceOrders:
    def __init__(
        self, db: Database, clock: Clock, notifier: Notifier, desk: TicketDesk, zone: ZoneInfo
    ) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._desk = desk
        self._zone = zone

    # ---- browsing ------------------------------------------------------------------------------------

    async def show_catalog(self, person: Person) -> None:
        """/services: the first page of the price list."""
        async with self._db.begin() as conn:
            items = await catalog_queries.items_of_estate(conn, person.estate_id, active_only=True)
            if not items:
                await self._notify.tell(conn, person, "services_none")
                return
            context, buttons = self._page(person, items, 1)
            await self._notify.tell(
                conn, person, "services_list", buttons=buttons, expects=CATALOG, **context
            )

    async def show_page(self, person: Person, page: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            row = await self._price_list(conn, person, pressed)
            if row is None:
                return Outcome.UNKNOWN
            items = await catalog_queries.items_of_estate(conn, person.estate_id, active_only=True)
            if not items:
                await self._edit(conn, person, row, "services_none", None)
                return Outcome.DONE
            context, buttons = self._page(person, items, page)
            await self._edit(conn, person, row, "services_list", buttons, **context)
            return Outcome.DONE

    async def show_item(self, person: Person, item_id: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            row = await self._price_list(conn, person, pressed)
            item = await self._offered(conn, person, item_id)
            if row is None or item is None:
                return Outcome.UNKNOWN
            await self._show_item(conn, person, row, item, price_changed=False)
            return Outcome.DONE

    def _page(self, person: Person, items: list[ServiceItem], page: int) -> tuple[dict[str, Any], Keyboard]:
        pages = math.ceil(len(items) / PAGE_SIZE)
        page = min(max(page, 1), pages)  # the list may have shrunk since the button was shown
        shown = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        # A service's name is the catalog's words, not the bot's: its button is labelled with it as it is.
        buttons = [[Button(item.name(person.language), f"service:{item.id}")] for item in shown]
        turn = []
        if page > 1:
            turn.append(self._notify.button(person, "button_services_previous", f"services:{page - 1}"))
        if page < pages:
            turn.append(self._notify.button(person, "button_services_next", f"services:{page + 1}"))
        if turn:
            buttons.append(turn)
        return {"service_items": shown, "service_page": page, "service_pages": pages}, buttons

    async def _show_item(
        self, conn: AsyncConnection, person: Person, row: int, item: ServiceItem, *, price_changed: bool
    ) -> None:
        items = await catalog_queries.items_of_estate(conn, person.estate_id, active_only=True)
        page = next(index for index, offered in enumerate(items) if offered.id == item.id) // PAGE_SIZE + 1
        buttons = [
            # The price shown travels with the button: ordering checks it is still the price.
            [self._notify.button(person, "button_order", f"order:{item.id}:{item.price_cents}")],
            [self._notify.button(person, "button_services_back", f"services:{page}")],
        ]
        await self._edit(
            conn, person, row, "service_item", buttons, service_item=item, service_price_changed=price_changed
        )

    async def _price_list(self, conn: AsyncConnection, person: Person, pressed: PressedOn) -> int | None:
        """The outbox row of the pressed message if it is a price list the bot sent this person."""
        if pressed.chat_id != person.telegram_id:
            return None
        sent = await outbox.sent_message(conn, pressed.chat_id, pressed.message_id)
        return sent.row if sent is not None and sent.expects == CATALOG else None

    async def _offered(self, conn: AsyncConnection, person: Person, item_id: int) -> ServiceItem | None:
        item = await catalog_queries.item_by_id(conn, item_id)
        if item is None or item.estate_id != person.estate_id or not item.active:
            return None
        return item

    async def _edit(
        self,
        conn: AsyncConnection,
        person: Person,
        row: int,
        template: str,
        buttons: Keyboard | None,
        **context: Any,
    ) -> None:
        assert person.telegram_id is not None  # they pressed a button in their chat
        html = self._notify.texts.render(person.language, template, me=person, **context)
        await outbox.edit_text(conn, person.telegram_id, row, html, buttons, now=self._clock.now())

    # ---- ordering ------------------------------------------------------------------------------------

    async def start_order(
        self, person: Person, item_id: int, shown_cents: int, pressed: PressedOn
    ) -> Outcome:
        """*Order*: a draft at the price shown, and the question for a preferred time and a note."""
        async with self._db.begin() as conn:
            now = self._clock.now()
            row = await self._price_list(conn, person, pressed)
            item = await self._offered(conn, person, item_id)
            if row is None or item is None:
                return Outcome.UNKNOWN
            earlier = await order_queries.draft_on(conn, row, person.id)
            if earlier is not None and not self._lapsed(earlier, now):
                return Outcome.UNKNOWN  # pressed twice before the draft replaced the button
            if item.price_cents != shown_cents:
                await self._show_item(conn, person, row, item, price_changed=True)
                return Outcome.UNKNOWN
            order = await order_queries.add_draft(conn, item, person.id, row, now)
            buttons = [
                [
                    self._notify.button(person, "button_order_as_is", f"order_as_is:{order.id}"),
                    self._notify.button(person, "button_order_cancel", f"order_cancel:{order.id}"),
                ]
            ]
            await self._edit(conn, person, row, "service_order_draft", buttons, service_order=order)
            await self._ask_details(conn, person, order, problem=None)
            return Outcome.DONE

    async def _ask_details(
        self, conn: AsyncConnection, person: Person, order: ServiceOrder, problem: str | None
    ) -> None:
        await self._notify.tell(
            conn,
            person,
            "service_order_ask",
            service_order=order,
            service_problem=problem,
            service_latest=self._clock.now() + PREFERRED_WITHIN,
            force_reply=True,
            expects=f"{ORDER_DETAILS}{order.id}",
        )

    async def order_as_is(self, person: Person, order_id: int, pressed: PressedOn) -> Outcome:
        """*Order as it is*: placed without a preferred time or a note."""
        async with self._db.begin() as conn:
            order, outcome = await self._open_draft(conn, person, order_id, pressed)
            if order is None:
                return outcome
            # The ticket starts from the draft's message: a reply to it later adds to the ticket.
            incoming = Incoming("text", pressed.chat_id, pressed.message_id, had_buttons=pressed.had_buttons)
            return await self._place(conn, person, order, incoming, None, "")

    async def cancel_order(self, person: Person, order_id: int, pressed: PressedOn) -> Outcome:
        async with self._db.begin() as conn:
            order, outcome = await self._open_draft(conn, person, order_id, pressed)
            if order is None:
                return outcome
            now = self._clock.now()
            if await order_queries.settle_draft(conn, order.id, CANCELLED, now) is None:
                return Outcome.UNKNOWN
            await cards.retire_pressed(conn, pressed, None, now=now)
            await self._notify.tell(conn, person, "service_order_cancelled", service_order=order)
            return Outcome.DONE

    async def _open_draft(
        self, conn: AsyncConnection, person: Person, order_id: int, pressed: PressedOn
    ) -> tuple[ServiceOrder | None, Outcome]:
        """The order if it is this person's draft, still open, and pressed on its own message."""
        order = await order_queries.order_by_id(conn, order_id)
        if order is None:
            return None, Outcome.UNKNOWN
        if order.person_id != person.id:
            return None, Outcome.NOT_FOR_YOU
        sent = await outbox.sent_message(conn, pressed.chat_id, pressed.message_id)
        if sent is None or sent.row != order.draft_row:
            return None, Outcome.UNKNOWN
        if order.status != DRAFT or self._lapsed(order, self._clock.now()):
            return None, Outcome.UNKNOWN
        return order, Outcome.DONE

    def _lapsed(self, order: ServiceOrder, now: datetime) -> bool:
        return now - order.created_at > DRAFT_VALID_FOR

    async def _take_details(
        self, conn: AsyncConnection, person: Person, order_id: int, incoming: Incoming
    ) -> None:
        """The reply to the question: a preferred time first if there is one, then the note."""
        now = self._clock.now()
        order = await order_queries.order_by_id(conn, order_id)
        if order is None or order.person_id != person.id:
            return  # a question of another order in this person's chat cannot be; nothing to do
        if order.status != DRAFT or self._lapsed(order, now):
            await self._tell_closed(conn, person, order, now)
            return
        preferred_at, note = read_preferred_time(incoming.text, now, self._zone)
        if preferred_at is not None and not now < preferred_at <= now + PREFERRED_WITHIN:
            await self._ask_details(conn, person, order, problem="past" if preferred_at <= now else "too_far")
            return
        # The ticket keeps the reply itself (a photo stays a photo), its words being the note.
        await self._place(conn, person, order, dataclasses.replace(incoming, text=note), preferred_at, note)

    async def _place(
        self,
        conn: AsyncConnection,
        person: Person,
        order: ServiceOrder,
        incoming: Incoming,
        preferred_at: datetime | None,
        note: str,
    ) -> Outcome:
        now = self._clock.now()
        placed = await order_queries.settle_draft(
            conn, order.id, PLACED, now, preferred_at=preferred_at, note=note or None
        )
        if placed is None:  # answered at the same moment another way
            await self._tell_closed(conn, person, order, now)
            return Outcome.UNKNOWN
        await self._desk.open_service_order(conn, person, incoming, placed)
        if person.telegram_id is not None:
            await cards.retire_buttons(conn, person.telegram_id, placed.draft_row, None, now=now)
        return Outcome.DONE

    async def _tell_closed(
        self, conn: AsyncConnection, person: Person, order: ServiceOrder, now: datetime
    ) -> None:
        """A reply to a draft already placed, cancelled or lapsed: nothing changes, and they are told why."""
        state = order.status if order.status != DRAFT else "lapsed"
        ticket = await ticket_queries.ticket_by_id(conn, order.ticket_id) if order.ticket_id else None
        await self._notify.tell(
            conn,
            person,
            "service_order_closed",
            service_order=order,
            service_order_state=state,
            ticket=ticket,
        )

    # ---- answers to the bot's questions --------------------------------------------------------------

    async def take_answer(self, person: Person, incoming: Incoming) -> bool:
        """If the message answers one of this service's questions (an order's time and note, an extra
        cost), take it and return True; otherwise it is not for us and nothing was done."""
        # Looked up without a write transaction: the first write commits the update as handled
        # (storage/updates.py), and a message that is not ours must be decided by the ticket desk.
        async with self._db.read() as conn:
            order_id = await self._order_answered(conn, person, incoming)
            sent = None
            if order_id is None and incoming.reply_to_message_id is not None:
                sent = await outbox.sent_message(conn, incoming.chat_id, incoming.reply_to_message_id)
        if order_id is not None:
            async with self._db.begin() as conn:
                await self._take_details(conn, person, order_id, incoming)
            return True
        if sent is not None and sent.expects == QUOTE and sent.ticket_id is not None:
            async with self._db.begin() as conn:
                await self._take_quote(conn, person, sent.ticket_id, incoming)
            return True
        return False

    async def _order_answered(self, conn: AsyncConnection, person: Person, incoming: Incoming) -> int | None:
        """The order whose time and note this message gives: a reply to the question or to the draft,
        or, as force-reply is only a suggestion in most apps, a household member's next message while
        their draft is fresh."""
        if incoming.reply_to_message_id is None:
            if not person.role.is_household:
                return None
            fresh = await order_queries.latest_draft(
                conn, person.id, self._clock.now() - DETAILS_WITHOUT_REPLY
            )
            return fresh.id if fresh is not None else None
        sent = await outbox.sent_message(conn, incoming.chat_id, incoming.reply_to_message_id)
        if sent is None:
            return None
        if sent.expects is not None and sent.expects.startswith(ORDER_DETAILS):
            order_id = sent.expects.removeprefix(ORDER_DETAILS)
            return int(order_id) if re.fullmatch("[0-9]{1,9}", order_id) else None
        draft = await order_queries.draft_on(conn, sent.row, person.id)
        return draft.id if draft is not None else None

    # ---- extra costs ---------------------------------------------------------------------------------

    async def ask_quote(self, staff: Person, ticket_id: int, pressed: PressedOn) -> Outcome:
        """*Quote extra cost* on a card: ask for the amount and the reason, as a reply."""
        async with self._db.begin() as conn:
            ticket = await ticket_queries.ticket_by_id(conn, ticket_id)
            if ticket is None or ticket.category != Category.SERVICE:
                return Outcome.UNKNOWN
            if ticket.butler_id != staff.id:
                return Outcome.NOT_YOURS
            if ticket.state != TicketState.ACCEPTED:
                return Outcome.ALREADY
            await self._ask_quote(conn, staff, ticket, problem=None)
            return Outcome.DONE

    async def _ask_quote(
        self, conn: AsyncConnection, staff: Person, ticket: Ticket, problem: str | None
    ) -> None:
        await self._notify.tell(
            conn,
            staff,
            "quote_ask",
            ticket_id=ticket.id,
            ticket=ticket,
            requester=await people_queries.person_by_id(conn, ticket.requester_id),
            service_order=await order_queries.order_of_ticket(conn, ticket.id),
            service_problem=problem,
            force_reply=True,
            expects=QUOTE,
        )

    async def _take_quote(
        self, conn: AsyncConnection, staff: Person, ticket_id: int, incoming: Incoming
    ) -> None:
        ticket = await ticket_queries.ticket_by_id(conn, ticket_id)
        if ticket is None:
            return
        if ticket.butler_id != staff.id or ticket.state != TicketState.ACCEPTED:
            await self._notify.tell(conn, staff, "quote_not_possible", ticket_id=ticket.id, ticket=ticket)
            return
        read = read_quote(incoming.text)
        if read is None:
            await self._ask_quote(conn, staff, ticket, problem="unreadable")
            return
        amount, reason = read
        now = self._clock.now()
        quote = await order_queries.add_quote(conn, ticket.id, staff.id, to_cents(amount), reason, now)
        await ticket_queries.add_event(
            conn,
            ticket.id,
            "quote_given",
            at=now,
            actor_id=staff.id,
            detail={"quote_id": quote.id, "amount_cents": quote.amount_cents, "reason": reason},
        )
        ticket = await ticket_queries.update_ticket(conn, ticket.id, last_activity_at=now)
        requester = await people_queries.person_by_id(conn, ticket.requester_id)
        words: dict[str, Any] = {
            "ticket": ticket,
            "service_order": await order_queries.order_of_ticket(conn, ticket.id),
            "service_quote": quote,
            "service_quote_by": staff,
            "requester": requester,
        }
        buttons = [
            [
                self._notify.button(requester, "button_quote_accept", f"quote_accept:{quote.id}"),
                self._notify.button(requester, "button_quote_decline", f"quote_decline:{quote.id}"),
            ]
        ]
        await self._notify.tell(
            conn, requester, "quote_to_resident", ticket_id=ticket.id, buttons=buttons, **words
        )
        for person in await self._desk.followers(conn, ticket):
            await self._notify.tell(conn, person, "quote_sent", ticket_id=ticket.id, **words)

    async def answer_quote(self, person: Person, quote_id: int, accept: bool, pressed: PressedOn) -> Outcome:
        """The resident accepts or declines an extra cost: once, and only while the ticket is in hand."""
        async with self._db.begin() as conn:
            quote = await order_queries.quote_by_id(conn, quote_id)
            if quote is None:
                return Outcome.UNKNOWN
            ticket = await ticket_queries.ticket_by_id(conn, quote.ticket_id)
            if ticket is None or ticket.requester_id != person.id:
                return Outcome.NOT_YOURS
            if quote.status != OPEN or not ticket.in_hand:
                return Outcome.ALREADY  # answered already, or the ticket is resolved: no longer open
            now = self._clock.now()
            answered = await order_queries.answer_quote(conn, quote.id, ACCEPTED if accept else DECLINED, now)
            if answered is None:
                return Outcome.ALREADY
            await ticket_queries.add_event(
                conn,
                ticket.id,
                f"quote_{answered.status}",
                at=now,
                actor_id=person.id,
                detail={"quote_id": quote.id, "amount_cents": quote.amount_cents, "reason": quote.reason},
            )
            ticket = await ticket_queries.update_ticket(conn, ticket.id, last_activity_at=now)
            await cards.retire_pressed(conn, pressed, None, now=now)
            words: dict[str, Any] = {
                "ticket": ticket,
                "service_quote": answered,
                "service_quote_by": await people_queries.person_by_id(conn, quote.quoted_by),
                "requester": person,
            }
            await self._notify.tell(conn, person, "quote_answer_noted", ticket_id=ticket.id, **words)
            for staff in await self._desk.followers(conn, ticket):
                await self._notify.tell(conn, staff, "quote_answered", ticket_id=ticket.id, **words)
            return Outcome.DONE
