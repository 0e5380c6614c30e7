"""Residents and owners: their list of tickets, the paid services, and the answers they give with buttons."""

from __future__ import annotations

from telegram import Update

from bot.model import Outcome, Person, PressedOn
from bot.runtime import GuanjiaContext, Runtime
from handlers.common import identify_for, on_button

# confirm:<ticket>, reopen:<ticket>, rate:<ticket>:<stars>
BUTTONS = r"^(confirm|reopen):[0-9]{1,9}\Z|^rate:[0-9]{1,9}:[1-5]\Z"
# The paid services (bot/service_orders.py): services:<page>, service:<item>, order:<item>:<price in cents
# shown>, order_as_is:<order>, order_cancel:<order>, quote_accept:<quote>, quote_decline:<quote>
SERVICE_BUTTONS = (
    r"^services:[0-9]{1,4}\Z|^service:[0-9]{1,9}\Z|^order:[0-9]{1,9}:[0-9]{1,10}\Z"
    r"|^order_(as_is|cancel):[0-9]{1,9}\Z|^quote_(accept|decline):[0-9]{1,9}\Z"
)


async def my_tickets(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, lambda p: p.role.is_household)
    if person is not None:
        await context.runtime.desk.show_my_tickets(person)


async def services(update: Update, context: GuanjiaContext) -> None:
    """/services: the estate's price list of paid special services (特约服务)."""
    person = await identify_for(update, context, lambda p: p.role.is_household)
    if person is not None:
        await context.runtime.service_orders.show_catalog(person)


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


async def service_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _service_act)


async def _service_act(
    runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn
) -> Outcome:
    if not person.role.is_household:
        return Outcome.NOT_FOR_YOU
    orders = runtime.service_orders
    number = int(args[0])
    if verb == "services":
        return await orders.show_page(person, number, pressed)
    if verb == "service":
        return await orders.show_item(person, number, pressed)
    if verb == "order":
        return await orders.start_order(person, number, int(args[1]), pressed)
    if verb == "order_as_is":
        return await orders.order_as_is(person, number, pressed)
    if verb == "order_cancel":
        return await orders.cancel_order(person, number, pressed)
    return await orders.answer_quote(person, number, verb == "quote_accept", pressed)
