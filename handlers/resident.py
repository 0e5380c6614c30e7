"""Residents and owners: their list of tickets and the answers they give with buttons."""

from __future__ import annotations

from telegram import Update

from bot.runtime import GuanjiaContext
from bot.tickets import Outcome, PressedOn
from handlers.common import identify, identify_for

# confirm:<ticket>, reopen:<ticket>, rate:<ticket>:<stars>
BUTTONS = r"^(confirm|reopen):\d{1,9}$|^rate:\d{1,9}:[1-5]$"


async def my_tickets(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, lambda p: p.role.is_household)
    if person is not None:
        await context.runtime.desk.show_my_tickets(person)


async def answer_button(update: Update, context: GuanjiaContext) -> None:
    query = update.callback_query
    person = await identify(update, context, "button")
    if query is None or query.data is None or query.message is None or person is None:
        return
    verb, ticket_id, *rest = query.data.split(":")
    pressed = PressedOn(query.message.chat.id, query.message.message_id)
    desk = context.runtime.desk
    if not person.role.is_household:
        outcome = Outcome.NOT_YOURS
    elif verb == "confirm":
        outcome = await desk.confirm(person, int(ticket_id), pressed)
    elif verb == "reopen":
        outcome = await desk.reopen(person, int(ticket_id), pressed)
    else:
        outcome = await desk.rate(person, int(ticket_id), int(rest[0]), pressed)
    await query.answer(context.runtime.texts.label(person.language, f"answer_{outcome.value}"))
