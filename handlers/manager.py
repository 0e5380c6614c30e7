"""Managers: the figures (today, any span, the export), the overdue list, and decisions on postponements."""

from __future__ import annotations

from telegram import Update

from bot.model import Outcome, Person, PressedOn, Role
from bot.runtime import GuanjiaContext, Runtime
from handlers.common import identify_for, on_button

# approve_postponement:<postponement>, refuse_postponement:<postponement>
BUTTONS = r"^(approve|refuse)_postponement:[0-9]{1,9}\Z"


def _is_manager(person: Person) -> bool:
    return person.role == Role.MANAGER


async def digest(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, _is_manager)
    if person is not None:
        await context.runtime.digest.show_today(person)


async def report(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, _is_manager)
    if person is not None:
        await context.runtime.digest.show_report(person, list(context.args or []))


async def export(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, _is_manager)
    if person is not None:
        await context.runtime.export.send(person, list(context.args or []))


async def overdue(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, _is_manager)
    if person is not None:
        await context.runtime.commitments.show_overdue(person)


async def decision_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _act)


async def _act(runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn) -> Outcome:
    if not _is_manager(person):
        return Outcome.NOT_YOURS
    approve = verb == "approve_postponement"
    return await runtime.commitments.decide(person, int(args[0]), approve, pressed)
