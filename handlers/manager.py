"""Managers: today's figures on demand."""

from __future__ import annotations

from telegram import Update

from bot.model import Role
from bot.runtime import GuanjiaContext
from handlers.common import identify_for


async def digest(update: Update, context: GuanjiaContext) -> None:
    person = await identify_for(update, context, lambda p: p.role == Role.MANAGER)
    if person is not None:
        await context.runtime.digest.show_today(person)
