"""Managers: the figures (today, any span, the export), the overdue list, decisions on postponements, and
unpaid property fees (/fees, *Mark paid*), and announcements (/announce, its buttons)."""

from __future__ import annotations

from telegram import Update

from bot.model import Outcome, Person, PressedOn, Role
from bot.runtime import GuanjiaContext, Runtime
from handlers.common import identify_for, on_button

# approve_postponement:<postponement>, refuse_postponement:<postponement>, fee_paid:<fee>
BUTTONS = r"^((approve|refuse)_postponement|fee_paid):[0-9]{1,9}\Z"
# announce_to:<draft>:<which audience offered>, announce_send:<draft>, announce_cancel:<draft>
ANNOUNCE_BUTTONS = r"^announce_(to:[0-9]{1,9}:[0-9]{1,3}|send:[0-9]{1,9}|cancel:[0-9]{1,9})\Z"


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


async def fees(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, _is_manager)
    if person is not None:
        await context.runtime.fees.show_unpaid(person, list(context.args or []))


async def decision_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _act)


async def _act(runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn) -> Outcome:
    if not _is_manager(person):
        return Outcome.NOT_FOR_YOU if verb == "fee_paid" else Outcome.NOT_YOURS
    if verb == "fee_paid":
        return await runtime.fees.mark_paid_by(person, int(args[0]), pressed)
    approve = verb == "approve_postponement"
    return await runtime.commitments.decide(person, int(args[0]), approve, pressed)


async def announce(update: Update, context: GuanjiaContext) -> None:
    """/announce: a notice to the whole estate, one building or the VIP owners (bot/announcements.py)."""
    person = await identify_for(update, context, _is_manager)
    if person is not None:
        await context.runtime.announcements.start(person)


async def announce_button(update: Update, context: GuanjiaContext) -> None:
    await on_button(update, context, _announce_act)


async def _announce_act(
    runtime: Runtime, person: Person, verb: str, args: list[str], pressed: PressedOn
) -> Outcome:
    # Whoever pressed: only the draft's own author may act on it, which the service checks.
    draft = int(args[0])
    if verb == "announce_to":
        return await runtime.announcements.choose(person, draft, int(args[1]), pressed)
    if verb == "announce_send":
        return await runtime.announcements.send(person, draft, pressed)
    return await runtime.announcements.cancel(person, draft, pressed)
