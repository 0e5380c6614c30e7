"""Butlers: their open tasks, their duty, and the buttons on task cards and follow-ups."""

from __future__ import annotations

from telegram import Update

from bot.model import Outcome, Person, PressedOn, Role
from bot.runtime import GuanjiaContext, Runtime
from handlers.common import identify_for, on_button

# accept:<ticket>, resolve:<ticket>, postpone:<ticket>, quote:<ticket> (an extra cost on a paid service),
# visit:<follow-up>:<stars, 0 = would not rate>, served:<follow-up>, duty:on, duty:off
# ASCII digits only, and \Z rather than $ (which also matches before a final newline): data that is not
# exactly what the bot wrote is a stale or forged button.
BUTTONS = (
    r"^(accept|resolve|postpone|quote):[0-9]{1,9}\Z|^visit:[0-9]{1,9}:[0-5]\Z|^served:[0-9]{1,9}\Z"
    r"|^duty:(on|off)\Z"
)


async def tasks(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, lambda p: p.role == Role.BUTLER)
    if person is not None:
        await context.runtime.desk.show_tasks(person)


async def duty(update: Update, context: GuanjiaContext) -> None:
    """/duty shows where the butler stands, with a button to switch; /duty on and /duty off switch."""
    person = await identify_for(update, context, lambda p: p.role == Role.BUTLER)
    if person is None:
        return
    choice = context.args[0].lower() if context.args else ""
    if choice in ("on", "off"):
        await context.runtime.duty.set(person, on_duty=choice == "on")
    else:
        await context.runtime.duty.show(person)


async def staff_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _act)


async def _act(runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn) -> Outcome:
    # Managers press these too: they take on tickets nobody has and can record a return visit.
    if person.role not in (Role.BUTLER, Role.MANAGER):
        return Outcome.NOT_YOURS
    if verb == "duty":
        return await runtime.duty.set(person, on_duty=args[0] == "on", pressed=pressed)
    number = int(args[0])
    if verb == "accept":
        return await runtime.desk.accept(person, number, pressed)
    if verb == "resolve":
        return await runtime.desk.resolve(person, number, pressed)
    if verb == "postpone":
        return await runtime.commitments.ask_new_time(person, number, pressed)
    if verb == "quote":
        return await runtime.service_orders.ask_quote(person, number, pressed)
    if verb == "visit":
        return await runtime.return_visits.record_phone_visit(person, number, int(args[1]), pressed)
    return await runtime.return_visits.mark_served(person, number, pressed)
