"""Residents and owners: their list of tickets and the answers they give with buttons."""

from __future__ import annotations

from telegram import Update

from bot.model import Outcome, Person, PressedOn
from bot.runtime import GuanjiaContext, Runtime
from handlers.common import identify_for, on_button

# confirm:<ticket>, reopen:<ticket>, rate:<ticket>:<stars>
BUTTONS = r"^(confirm|reopen):[0-9]{1,9}\Z|^rate:[0-9]{1,9}:[1-5]\Z"


async def my_tickets(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, lambda p: p.role.is_household)
    if person is not None:
        await context.runtime.desk.show_my_tickets(person)


async def answer_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _act)


async def _act(runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn) -> Outcome:
    if not person.role.is_household:
        return Outcome.NOT_YOURS
    ticket_id = int(args[0])
    if verb == "confirm":
        return await runtime.desk.confirm(person, ticket_id, pressed)
    if verb == "reopen":
        return await runtime.desk.reopen(person, ticket_id, pressed)
    return await runtime.desk.rate(person, ticket_id, int(args[1]), pressed)
