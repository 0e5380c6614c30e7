"""Wiring: the python-telegram-bot Application, with the database, services and sender around it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from telegram import Bot, BotCommand
from telegram.ext import Application, ApplicationBuilder, ContextTypes

import handlers
from bot.bot_api_client import AiohttpRequest
from bot.clock import Clock, SystemClock
from bot.config import TELEGRAM_API_URL, Config
from bot.intake import Intake
from bot.pacing import Pacing, SendLimits
from bot.polling import LongPolling
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
    # Telegram's limits (1 message a second per chat, ~30 overall), kept by the outbox sender's pacing;
    # the sandbox imposes none unless asked, so the embedded bot sends unpaced (bot/pacing.py UNPACED).
    send_limits: SendLimits = field(default_factory=SendLimits)

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
        # aiohttp instead of PTB's httpx: the same requests at a fraction of the cost (bot/bot_api_client.py).
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connections=1))
        .context_types(ContextTypes(context=GuanjiaContext))
        # No Defaults(parse_mode=...): PTB would add parse_mode to editMessageReplyMarkup too, a field
        # that method does not have. Every send states its parse mode itself (bot/sender.py).
        # No Updater: updates are fetched and stored by bot/polling.py or bot/webhook.py, and handed to
        # the Application by bot/intake.py once they are safe in the database.
        .updater(None)
        .post_init(lambda app: _open(app, settings))
        .post_stop(_stop_sending)
        .post_shutdown(_close)
    )
    application: GuanjiaApplication = builder.build()
    handlers.register(application)
    return application


async def _open(application: GuanjiaApplication, settings: Settings) -> None:
    db = await Database.open(settings.db_path)
    db.keep_log_short()
    services = Services.assemble(db, settings.clock, settings.config)
    pacing = Pacing(settings.send_limits)
    sender = OutboxSender(
        db, application.bot, settings.clock, pacing=pacing, recipients=services.reachability
    )
    timekeeper = Timekeeper(
        db,
        settings.clock,
        services.on_due(),
        after_firing=sender.wake,
        on_estate_due=services.on_estate_due(),
    )
    intake = Intake(db, settings.clock, application)
    application.bot_data["runtime"] = Runtime(
        **vars(services), sender=sender, timekeeper=timekeeper, intake=intake
    )
    # Before anyone is known, the menu offers only /start and /help; each person gets their role's menu.
    texts = services.texts
    await application.bot.set_my_commands(
        [BotCommand(name, texts.label(DEFAULT_LANGUAGE, f"command_{name}")) for name in ("start", "help")]
    )
    await services.digest.schedule()  # every estate's next daily digest is on the clocks
    sender.start()
    timekeeper.start()
    intake.start()  # updates stored but not handled when the bot last stopped are handled first
    log.info("Guanjia is up: database %s", settings.db_path)


async def _stop_sending(application: GuanjiaApplication) -> None:
    # post_stop, not post_shutdown: the sender still needs the bot's HTTP client to flush. Handling and
    # the clocks stop first, so what they last decided is flushed too.
    runtime: Runtime | None = application.bot_data.get("runtime")
    if runtime is not None:
        await every_step(runtime.intake.stop, runtime.timekeeper.stop, runtime.sender.stop)


async def _close(application: GuanjiaApplication) -> None:
    runtime: Runtime | None = application.bot_data.pop("runtime", None)
    if runtime is not None:
        await runtime.db.close()


class UpdateSource(Protocol):
    """Where updates come from: long polling (bot/polling.py) or a webhook (bot/webhook.py)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


SourceFor = Callable[[Bot, Intake], UpdateSource]


def long_polling(poll_timeout: float = 10.0) -> SourceFor:
    return lambda bot, intake: LongPolling(bot, intake, ALLOWED_UPDATES, poll_timeout)


@contextlib.asynccontextmanager
async def running(application: GuanjiaApplication, source_for: SourceFor) -> AsyncIterator[UpdateSource]:
    """Run the bot inside an event loop someone else owns: `guanjia run`, the demo, the tests.

    The stop is graceful and in this order: take no more updates; finish the update in hand; stop the
    clocks; deliver what the outbox holds; close the database (post_stop and post_shutdown).
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    runtime: Runtime = application.bot_data["runtime"]
    source = source_for(application.bot, runtime.intake)
    try:
        await source.start()
        yield source
    finally:
        # The hooks, as run_polling would call them: post_stop flushes, post_shutdown closes the database.
        post_stop, post_shutdown = application.post_stop, application.post_shutdown
        await every_step(
            source.stop,
            application.stop,
            lambda: post_stop(application) if post_stop else asyncio.sleep(0),
            application.shutdown,
            lambda: post_shutdown(application) if post_shutdown else asyncio.sleep(0),
        )


async def every_step(*steps: Callable[[], Awaitable[object]]) -> None:
    """Run each stopping step in order, even when one before it failed (the database must be closed
    whatever happened); the first failure is raised once all have run."""
    failure: BaseException | None = None
    for step in steps:
        try:
            await step()
        except BaseException as error:
            failure = failure or error
    if failure is not None:
        raise failure
