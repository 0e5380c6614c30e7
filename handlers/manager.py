"""Managers: today's figures on demand."""

from __future__ import annotations

from telegram import Update

from bot.model import Role
from bot.runtime import GuanjiaContext
from handlers.common import identify


async def digest(update: Update, context: GuanjiaContext) -> None:
    person = await identify(update, context, "command")
    if person is None:
        return
    if person.role != Role.MANAGER:
        await context.runtime.reception.tell(person, "command_not_for_you")
        return
    await context.runtime.digest.show_today(person)
