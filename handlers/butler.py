"""Butlers: their open tasks and the buttons on a task card."""

from __future__ import annotations

from telegram import Update

from bot.model import Role
from bot.runtime import GuanjiaContext
from bot.tickets import Outcome, PressedOn
from handlers.common import identify, identify_for

# accept:<ticket>, resolve:<ticket>
BUTTONS = r"^(accept|resolve):\d{1,9}$"


async def tasks(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, lambda p: p.role == Role.BUTLER)
    if person is not None:
        await context.runtime.desk.show_tasks(person)


async def card_button(update: Update, context: GuanjiaContext) -> None:
    query = update.callback_query
    person = await identify(update, context, "button")
    if query is None or query.data is None or query.message is None or person is None:
        return
    verb, ticket_id = query.data.split(":")
    pressed = PressedOn(query.message.chat.id, query.message.message_id)
    desk = context.runtime.desk
    if person.role not in (Role.BUTLER, Role.MANAGER):  # managers may take on a ticket nobody has
        outcome = Outcome.NOT_YOURS
    elif verb == "accept":
        outcome = await desk.accept(person, int(ticket_id), pressed)
    else:
        outcome = await desk.resolve(person, int(ticket_id), pressed)
    await query.answer(context.runtime.texts.label(person.language, f"answer_{outcome.value}"))
