"""The long-lived things the handlers use, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.intake import Intake
from bot.sender import OutboxSender
from bot.services import Services
from bot.timekeeper import Timekeeper


@dataclass
class Runtime(Services):
    sender: OutboxSender
    timekeeper: Timekeeper
    intake: Intake


class GuanjiaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The handlers' context: `context.runtime` instead of reaching into bot_data by key."""

    @property
    def runtime(self) -> Runtime:
        return cast(Runtime, self.application.bot_data["runtime"])
