"""Task cards: what a butler or manager is shown of a ticket, with the buttons that act on it.

Shared by everything that puts a ticket in front of staff: a new request, a hop along the escalation
ladder, a reopened ticket, a reminder. Buttons are retired once they no longer apply, so a stale one is
not pressed by mistake (a pressed stale button is refused on the server anyway).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import outbox
from bot.model import Category, Incoming, Person, PressedOn, Ticket, TicketState
from bot.notify import Notifier
from bot.outbox import Keyboard
from storage import people as people_queries
from storage import service_orders as service_order_queries
from storage import tickets as ticket_queries


async def card_context(
    conn: AsyncConnection,
    ticket: Ticket,
    requester: Person,
    incoming: Incoming,
    known: tuple[Person | None, ...] = (),
) -> dict[str, Any]:
    """What a task card or a manager's copy shows: the ticket, whose it is, and what was said; for a paid
    service ordered from the price list, the order with the price it was ordered at. People the caller
    already holds (`known`: the owner, the butler) are not read again."""
    at_hand = {person.id: person for person in (requester, *known) if person is not None}

    async def person(person_id: int) -> Person:
        return at_hand.get(person_id) or await people_queries.person_by_id(conn, person_id)

    owner = await person(ticket.owner_id)
    butler = await person(ticket.butler_id) if ticket.butler_id else None
    return {
        "ticket": ticket,
        "owner": owner,
        "requester": requester,
        "team": await people_queries.team_name(conn, ticket.team_id),
        "incoming": incoming,
        "butler": butler,
        "service_order": await service_order_queries.order_of_ticket(conn, ticket.id)
        if ticket.category == Category.SERVICE
        else None,
    }


async def original_request(conn: AsyncConnection, ticket: Ticket) -> tuple[Person, Incoming]:
    """Who asked and what they first sent, as logged when the ticket was opened."""
    created = await ticket_queries.first_event(conn, ticket.id, "created")
    requester = await people_queries.person_by_id(conn, ticket.requester_id)
    if created is None or created.chat_id is None or created.message_id is None:
        return requester, Incoming(kind="text", chat_id=0, message_id=0, text=ticket.summary)
    detail = created.detail
    location = detail.get("location")
    return requester, Incoming(
        kind=str(detail.get("kind", "text")),
        chat_id=int(created.chat_id),
        message_id=int(created.message_id),
        text=str(detail.get("text", "")),
        file_id=detail.get("file_id"),
        location=(float(location[0]), float(location[1])) if location else None,
    )


def card_buttons(notify: Notifier, staff: Person, ticket: Ticket) -> Keyboard:
    """New: accept (or resolve at once). In progress: resolve, or move the committed time; on a paid
    service, also quote an extra cost for the resident to accept or decline (bot/service_orders.py)."""
    resolve = notify.button(staff, "button_resolve", f"resolve:{ticket.id}")
    if ticket.state == TicketState.NEW:
        return [[notify.button(staff, "button_accept", f"accept:{ticket.id}"), resolve]]
    buttons = [[resolve, notify.button(staff, "button_postpone", f"postpone:{ticket.id}")]]
    if ticket.category == Category.SERVICE:
        buttons.append([notify.button(staff, "button_quote", f"quote:{ticket.id}")])
    return buttons


async def send_card(
    conn: AsyncConnection,
    notify: Notifier,
    staff: Person,
    template: str,
    card: dict[str, Any],
    buttons: Keyboard | None,
    **extra: Any,
) -> int | None:
    """Send a card and, for a photo, voice or file, a copy of the media right under it."""
    ticket: Ticket = card["ticket"]
    incoming: Incoming = card["incoming"]
    row = await notify.tell(conn, staff, template, ticket_id=ticket.id, buttons=buttons, **card, **extra)
    if incoming.is_media and incoming.chat_id:
        await notify.show_media(
            conn, staff, incoming, "media_header", ticket_id=ticket.id, reply_to=row, ticket=ticket
        )
    return row


async def alert_managers(
    conn: AsyncConnection,
    notify: Notifier,
    card: dict[str, Any],
    template: str = "manager_alert",
    skip: frozenset[int] = frozenset(),
    **extra: Any,
) -> None:
    """Copy the ticket to the estate's managers; while nobody has it, they can take it on."""
    ticket: Ticket = card["ticket"]
    for manager in await people_queries.managers_of_estate(conn, ticket.estate_id):
        if manager.id in skip:
            continue
        buttons = card_buttons(notify, manager, ticket) if ticket.butler_id is None else None
        await send_card(conn, notify, manager, template, card, buttons, **extra)


async def retire_buttons(
    conn: AsyncConnection, chat_id: int, row: int | None, buttons: Keyboard | None, *, now: datetime
) -> None:
    """Replace the buttons of a message the bot sent (found by its outbox row)."""
    if row is not None:
        await outbox.edit_buttons(conn, chat_id, row, buttons, now=now)


async def retire_pressed(
    conn: AsyncConnection, pressed: PressedOn, buttons: Keyboard | None, *, now: datetime
) -> None:
    """Replace the buttons of the message whose button was just pressed."""
    if not pressed.had_buttons and buttons is None:
        return  # Telegram would refuse an edit that changes nothing
    row = await outbox.row_of_card(conn, pressed.chat_id, pressed.message_id)
    await retire_buttons(conn, pressed.chat_id, row, buttons, now=now)
