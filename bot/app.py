"""Wiring: the python-telegram-bot Application, with the database, services and sender around it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

import handlers
from bot.clock import Clock, SystemClock
from bot.config import TELEGRAM_API_URL, Config
from bot.runtime import GuanjiaContext, Runtime
from bot.sender import OutboxSender
from bot.services import Services
from bot.texts import DEFAULT_LANGUAGE
from bot.timekeeper import Timekeeper
from storage.database import Database

log = logging.getLogger(__name__)

GuanjiaApplication = Application[Any, GuanjiaContext, Any, Any, Any, Any]

# The update kinds the handlers use; everything else Telegram could send is not asked for.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


@dataclass
class Settings:
    token: str
    db_path: Path
    api_url: str = TELEGRAM_API_URL
    config: Config = field(default_factory=Config)
    clock: Clock = field(default_factory=SystemClock)
    rate_limit: bool = True  # Telegram's global limit; the sandbox can do without it

    @property
    def file_url(self) -> str:
        # https://api.telegram.org/bot -> https://api.telegram.org/file/bot
        base, _, tail = self.api_url.rstrip("/").rpartition("/")
        return f"{base}/file/{tail}"


def build_application(settings: Settings) -> GuanjiaApplication:
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(settings.file_url)
        .context_types(ContextTypes(context=GuanjiaContext))
        # No Defaults(parse_mode=...): PTB would add parse_mode to editMessageReplyMarkup too, a field
        # that method does not have. Every send states its parse mode itself (bot/sender.py).
        .post_init(lambda app: _open(app, settings))
        .post_stop(_stop_sending)
        .post_shutdown(_close)
    )
    if settings.rate_limit:
        # No retries here: the outbox sender owns retrying, so a 429 is waited out exactly once.
        builder = builder.rate_limiter(cast(Any, AIORateLimiter(max_retries=0)))
    application: GuanjiaApplication = builder.build()
    handlers.register(application)
    return application


async def _open(application: GuanjiaApplication, settings: Settings) -> None:
    db = await Database.open(settings.db_path)
    services = Services.assemble(db, settings.clock, settings.config)
    sender = OutboxSender(db, application.bot, settings.clock)
    timekeeper = Timekeeper(
        db,
        settings.clock,
        services.on_due(),
        after_firing=sender.wake,
        on_estate_due=services.on_estate_due(),
    )
    application.bot_data["runtime"] = Runtime(**vars(services), sender=sender, timekeeper=timekeeper)
    # Before anyone is known, the menu offers only /start and /help; each person gets their role's menu.
    texts = services.texts
    await application.bot.set_my_commands(
        [BotCommand(name, texts.label(DEFAULT_LANGUAGE, f"command_{name}")) for name in ("start", "help")]
    )
    await services.digest.schedule()  # every estate's next daily digest is on the clocks
    sender.start()
    timekeeper.start()
    log.info("Guanjia is up: database %s", settings.db_path)


async def _stop_sending(application: GuanjiaApplication) -> None:
    # post_stop, not post_shutdown: the sender still needs the bot's HTTP client to flush. The clocks
    # stop first, so what they last decided is flushed too.
    runtime: Runtime | None = application.bot_data.get("runtime")
    if runtime is not None:
        await runtime.timekeeper.stop()
        await runtime.sender.stop()


async def _close(application: GuanjiaApplication) -> None:
    runtime: Runtime | None = application.bot_data.pop("runtime", None)
    if runtime is not None:
        await runtime.db.close()


@contextlib.asynccontextmanager
async def polling(application: GuanjiaApplication, poll_timeout: float = 10.0) -> AsyncIterator[None]:
    """Run the bot inside an event loop someone else owns (the demo, the tests), as run_polling would.

    run_polling owns its loop; this does the same steps in the same order, hooks included.
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=int(poll_timeout), allowed_updates=ALLOWED_UPDATES
    )
    await application.start()
    try:
        yield
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
