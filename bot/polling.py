"""Long polling: fetch updates, store them, and only then move the offset that acknowledges them.

getUpdates with offset N tells Telegram that every update below N arrived. The offset moves past a batch
only after Intake.store committed it, so a crash at any point makes Telegram send the batch again, and
the stored copy dedupes it. Updates are fetched as raw JSON: one malformed update must not make the
whole batch unreadable, as it would through Bot.get_updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Bot
from telegram.error import Conflict, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot import bot_api_client
from bot.intake import Intake
from bot.pacing import retry_after_seconds

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
READ_MARGIN_SECONDS = 5.0  # how much longer than the long poll itself the answer may take


class LongPolling:
    def __init__(
        self, bot: Bot, intake: Intake, allowed_updates: list[str], poll_timeout: float = 10.0
    ) -> None:
        self._bot = bot
        self._intake = intake
        self._allowed_updates = allowed_updates
        self._poll_timeout = poll_timeout
        self._offset: int | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # A webhook left from an earlier run would make getUpdates fail; its pending updates stay queued.
        await self._bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="long-polling")

    async def stop(self) -> None:
        """Stop taking updates. A fetch in progress is abandoned: what it would have returned was not
        acknowledged, so Telegram sends it again next time."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                batch = await self._fetch_unless_stopped()
            except RetryAfter as error:
                await self._pause(retry_after_seconds(error))
                continue
            except (InvalidToken, Forbidden):
                log.critical("Telegram refused the bot token; no updates can be fetched")
                await self._pause(MAX_BACKOFF_SECONDS)
                continue
            except Conflict:
                log.error("another instance is fetching updates, or a webhook is set; waiting")
                await self._pause(MAX_BACKOFF_SECONDS)
                continue
            except TelegramError as error:  # the network, a timeout, a 5xx: all worth another try
                failures += 1
                log.warning("fetching updates failed (%s); retrying", type(error).__name__)
                await self._pause(min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(failures, 6)))
                continue
            if batch is None:
                return
            failures = 0
            if batch:
                # Not cancelled by stop(): the batch is either stored whole or not at all.
                try:
                    highest = await self._intake.store(batch)
                except Exception:
                    # Not acknowledged, so Telegram hands the batch out again at the next fetch.
                    log.exception("storing updates failed; fetching them again")
                    await self._pause(1.0)
                    continue
                if highest is not None:
                    self._offset = highest + 1

    async def _fetch_unless_stopped(self) -> list[Any] | None:
        fetch = asyncio.ensure_future(self._fetch())
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if fetch not in done:
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return fetch.result()

    async def _fetch(self) -> list[Any]:
        api_kwargs: dict[str, Any] = {
            "timeout": int(self._poll_timeout),
            "allowed_updates": self._allowed_updates,
        }
        if self._offset is not None:
            api_kwargs["offset"] = self._offset
        # Bot.get_updates would parse the batch as a whole: the raw updates are asked for on purpose.
        result = await bot_api_client.call(
            self._bot, "getUpdates", api_kwargs, read_timeout=self._poll_timeout + READ_MARGIN_SECONDS
        )
        return result if isinstance(result, list) else []

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
