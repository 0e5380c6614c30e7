"""Durable intake: every update is stored before Telegram is told it arrived, then handled from the table.

python-telegram-bot's own Updater acknowledges updates (the next getUpdates offset) while the handlers
may still be running, so a crash there loses them. Here the sources (bot/polling.py, bot/webhook.py)
only store what they receive, in one transaction, and acknowledge it afterwards; this class hands the
stored updates to the Application one at a time, in update_id order, and records how each ended.
Handling is once: see the claim in storage/updates.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Update
from telegram.ext import Application

from bot import strangers, well_formed
from bot.clock import Clock
from storage import people as people_queries
from storage import updates as stored
from storage.database import Database

log = logging.getLogger(__name__)

# Telegram keeps an unacknowledged update for 24 hours, so it can come again only within that time; a
# handled update is kept a little longer for looking into, and never as long as the week after which
# Telegram may start numbering updates afresh.
KEEP_HANDLED = timedelta(days=3)
RETRY_AFTER_DATABASE_ERROR = 1.0
READ_AT_ONCE = 50  # stored updates read in one look, then handled one by one in order


class Intake:
    def __init__(self, db: Database, clock: Clock, application: Application) -> None:  # type: ignore[type-arg]
        self._db = db
        self._clock = clock
        self._application = application
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._draining = False  # stopping once nothing stored is left
        self._busy = False
        self.handled = 0  # updates settled by this process: instrumentation for the demo and tests
        self._last_pruned = self._clock.now() - KEEP_HANDLED

    # -- what the sources call ---------------------------------------------------------------------

    async def store(self, raw_updates: Sequence[Any]) -> int | None:
        """Keep a batch of raw updates; returns the highest update_id in it, for acknowledging.

        An update that is not well formed is kept as rejected, without its content, so that it is
        acknowledged and never handled. One without an integer update_id cannot even be kept; Telegram
        never sends such a thing, and it is logged and skipped.
        """
        highest: int | None = None
        now = self._clock.now()
        async with self._db.begin() as conn:
            for raw in raw_updates:
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if not well_formed.is_int(update_id):
                    log.warning("skipped an update without an update_id")
                    continue
                assert isinstance(update_id, int)
                problem = well_formed.flaw(raw)
                if problem:
                    log.warning("update %s rejected: %s", update_id, problem)
                elif not await _may_keep_words(conn, raw):
                    raw = strangers.without_their_words(raw)
                await stored.store(conn, update_id, raw, now=now, rejected=problem)
                highest = update_id if highest is None else max(highest, update_id)
        self._wake.set()
        return highest

    # -- handling ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="intake")

    async def stop(self, grace: float = 10.0) -> None:
        """Handle what is already stored (Telegram was told it arrived), for up to `grace` seconds; then
        finish the update in hand and stop. Anything left waits, stored, for the next start."""
        if self._task is None:
            return
        self._draining = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        self._stopping = True
        self._wake.set()
        await self._task
        self._task = None

    @property
    def idle(self) -> bool:
        return not self._busy and not self._wake.is_set()

    async def _run(self) -> None:
        ready: deque[tuple[int, Any]] = deque()  # stored and not yet handled, oldest first
        while not self._stopping:
            next_update = None
            try:
                if not ready:
                    self._wake.clear()
                    async with self._db.read() as conn:
                        ready.extend(await stored.oldest_received(conn, READ_AT_ONCE))
                if not ready:
                    if self._draining:
                        return
                    await self._forget_old()
                    await self._wake.wait()
                    continue
                next_update = ready.popleft()
                self._busy = True
                await self._handle(*next_update)
                self.handled += 1
            except SQLAlchemyError:
                # The database is the truth: without it nothing can be handled. The update stays
                # stored and is tried again.
                log.exception("intake: the database failed; trying again shortly")
                ready.clear()
                await asyncio.sleep(RETRY_AFTER_DATABASE_ERROR)
            except Exception:  # a bug must not stop the intake: that update is set aside, the rest go on
                log.exception("intake: handling an update failed outside its handlers")
                await self._set_aside(next_update)
            finally:
                self._busy = False

    async def _handle(self, update_id: int, payload: Any) -> None:
        try:
            update = Update.de_json(payload, self._application.bot)
        except Exception as error:  # the shape was checked; anything PTB still refuses is rejected
            log.warning("update %s could not be read: %s", update_id, type(error).__name__)
            await self._settle(update_id, stored.REJECTED, "could not be read")
            return
        in_hand = stored.InHand(update_id, self._clock.now())
        with stored.handling(in_hand):
            # Errors inside handlers are PTB's to catch: they reach handlers.common.on_error.
            await self._application.process_update(update)
        # A claimed update was marked handled by its decision's own transaction: nothing more to write.
        if in_hand.error is not None:
            await self._settle(update_id, stored.FAILED, in_hand.error, payload)
        elif not in_hand.claimed:  # nothing was decided (a command that only looks, an ignored kind)
            await self._settle(update_id, stored.HANDLED, None)

    async def _set_aside(self, next_update: tuple[int, Any] | None) -> None:
        if next_update is None:
            await asyncio.sleep(RETRY_AFTER_DATABASE_ERROR)
            return
        with contextlib.suppress(SQLAlchemyError):
            await self._settle(next_update[0], stored.FAILED, "failed outside the handlers", next_update[1])

    async def _settle(self, update_id: int, status: str, error: str | None, payload: Any = None) -> None:
        async with self._db.begin() as conn:
            await stored.settle(conn, update_id, status, now=self._clock.now(), error=error, payload=payload)

    async def _forget_old(self) -> None:
        now = self._clock.now()
        if now - self._last_pruned < timedelta(hours=1):
            return
        self._last_pruned = now
        with contextlib.suppress(SQLAlchemyError):
            async with self._db.begin() as conn:
                await stored.forget_before(conn, now - KEEP_HANDLED)


async def _may_keep_words(conn: AsyncConnection, update: dict[str, Any]) -> bool:
    """Someone the roster knows, or about to: a stranger whose /start CODE is stored and not yet
    handled may be a new resident, whose first request must not lose its words. If the code fails, the
    words go when the update is settled."""
    sender = strangers.sender_id(update)
    if sender is None:
        return False
    if await people_queries.person_by_telegram_id(conn, sender) is not None:
        return True
    return await stored.start_waiting_from(conn, sender)


def note_failure(error: BaseException) -> bool:
    """Called by the error handler: the update in hand failed. False if it was only a repeat of one an
    earlier run already handled, which is no failure and must not be answered."""
    if isinstance(error, stored.UpdateAlreadyHandled):
        return False
    current = stored.in_hand()
    if current is not None:
        current.error = type(error).__name__  # not its text: that could quote a URL with the token
    return True
