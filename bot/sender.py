"""Delivering the outbox: pending rows, oldest first, to the Bot API; each marked sent once delivered.

Order within a chat is kept: when one chat must wait (Telegram said retry_after, or the network
failed), that chat's later rows wait too, while other chats go on. Delivery is at least once: a crash
between Telegram accepting a message and the row being marked sent means it is sent again at restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.clock import Clock
from storage.database import Database
from storage.schema import attachments, outbox

log = logging.getLogger(__name__)

BATCH = 200
MAX_BACKOFF_SECONDS = 60.0
IDLE_POLL_SECONDS = 1.0
UPLOAD_SECONDS = 30.0
UPLOAD_BYTES_PER_SECOND = 200_000  # the slowest uplink we still wait for


class OutboxSender:
    def __init__(self, db: Database, bot: Bot, clock: Clock) -> None:
        self._db = db
        self._bot = bot
        self._clock = clock
        self._wake = asyncio.Event()
        self._held_until: dict[int, float] = {}  # chat id -> loop time it may be tried again
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # The chat a message is being sent to right now (rows go one at a time), until it is recorded.
        self._in_flight: int | None = None
        self._recorded = asyncio.Condition()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    def wake(self) -> None:
        """Something was just committed to the outbox: deliver it now rather than at the next poll."""
        self._wake.set()

    async def until_recorded(self, chat_id: int, timeout: float = 5.0) -> None:
        """Wait while a message to `chat_id` is on its way and not yet recorded as sent.

        A reply to that message, or a press on its button, can reach the bot in that moment (Telegram
        shows the message before its answer reaches us); it must find the message in the outbox.
        """
        async with self._recorded:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recorded.wait_for(lambda: self._in_flight != chat_id), timeout)

    async def stop(self) -> None:
        """Deliver what can be delivered now, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                delivered = await self.deliver_pending()
            except Exception:  # a bug or a database hiccup must not stop delivery for good
                log.exception("outbox delivery pass failed")
                delivered = 0
            if self._stopping:
                return
            if delivered == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._next_wait())

    def _next_wait(self) -> float:
        now = asyncio.get_running_loop().time()
        waits = [until - now for until in self._held_until.values() if until > now]
        return max(0.01, min([IDLE_POLL_SECONDS, *waits]))

    async def deliver_pending(self) -> int:
        """One pass over the pending rows; returns how many were settled (sent or given up)."""
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox).where(outbox.c.status == "pending").order_by(outbox.c.id).limit(BATCH)
                )
            ).all()
        now = asyncio.get_running_loop().time()
        # Holds that have run out are forgotten, so the table stays as small as the chats now waiting.
        self._held_until = {chat: until for chat, until in self._held_until.items() if until > now}
        waiting: set[int] = set()
        settled = 0
        for row in rows:
            if row.chat_id in waiting or self._held_until.get(row.chat_id, 0.0) > now:
                waiting.add(row.chat_id)
                continue
            if await self._deliver(row):
                settled += 1
            else:
                waiting.add(row.chat_id)
        return settled

    async def _deliver(self, row: Row[Any]) -> bool:
        self._in_flight = row.chat_id
        try:
            return await self._deliver_and_record(row)
        finally:
            self._in_flight = None
            async with self._recorded:
                self._recorded.notify_all()

    async def _deliver_and_record(self, row: Row[Any]) -> bool:
        try:
            message_id = await self._call(row)
        except RetryAfter as error:
            seconds = _retry_after_seconds(error)
            await self._retry_later(row, seconds, f"429 retry after {seconds:g}s")
            return False
        except Forbidden as error:
            await self._give_up(row, f"unreachable: {error.message}")
            return True
        except BadRequest as error:
            if "message is not modified" in error.message.lower():
                await self._mark_sent(row, None)
                return True
            log.error("outbox row %s refused by the Bot API: %s", row.id, error.message)
            await self._give_up(row, error.message)
            return True
        except NetworkError as error:
            backoff = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(row.attempts, 7))
            await self._retry_later(row, backoff, f"network: {error.message}")
            return False
        except TelegramError as error:
            await self._give_up(row, error.message)
            return True
        except _NotYetDeliverable:
            self._held_until[row.chat_id] = asyncio.get_running_loop().time() + 0.2
            return False
        await self._mark_sent(row, message_id)
        return True

    async def _call(self, row: Row[Any]) -> int | None:
        payload: dict[str, Any] = row.payload
        if row.kind == "send_text":
            markup: InlineKeyboardMarkup | ForceReply | None = _markup(payload.get("buttons"))
            if payload.get("force_reply"):
                markup = ForceReply(selective=True)
            message = await self._bot.send_message(
                chat_id=row.chat_id,
                text=payload["html"],
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=await self._reply_parameters(payload.get("reply_to")),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            return message.message_id
        if row.kind == "copy_media":
            copied = await self._bot.copy_message(
                chat_id=row.chat_id,
                from_chat_id=payload["from_chat_id"],
                message_id=payload["message_id"],
                caption=payload.get("caption_html"),
                parse_mode=ParseMode.HTML if payload.get("caption_html") else None,
                reply_markup=_markup(payload.get("buttons")),
                reply_parameters=await self._reply_parameters(payload.get("reply_to")),
            )
            return copied.message_id
        if row.kind in ("send_photo", "send_document"):
            return await self._send_file(row)
        if row.kind == "edit_buttons":
            target = await self._sent_message_id(payload["of"])
            if target is None:
                raise _NotYetDeliverable()
            await self._bot.edit_message_reply_markup(
                chat_id=row.chat_id, message_id=target, reply_markup=_markup(payload.get("buttons"))
            )
            return None
        if row.kind == "set_commands":
            await self._bot.set_my_commands(
                [BotCommand(name, description) for name, description in payload["commands"]],
                scope=BotCommandScopeChat(row.chat_id),
            )
            return None
        raise TelegramError(f"unknown outbox kind {row.kind!r}")

    async def _send_file(self, row: Row[Any]) -> int:
        async with self._db.read() as conn:
            stored = (
                await conn.execute(
                    sa.select(attachments.c.filename, attachments.c.content).where(
                        attachments.c.id == row.attachment_id
                    )
                )
            ).one()
        if stored.content is None:
            raise TelegramError("the file was already removed")
        upload = InputFile(stored.content, filename=stored.filename)
        caption = row.payload.get("caption_html")
        parse_mode = ParseMode.HTML if caption else None
        # PTB's default 20 s to write would cut off a large export on an ordinary line: allow for its size.
        write_timeout = UPLOAD_SECONDS + len(stored.content) / UPLOAD_BYTES_PER_SECOND
        send = self._bot.send_photo if row.kind == "send_photo" else self._bot.send_document
        message = await send(
            row.chat_id,
            upload,
            caption=caption,
            parse_mode=parse_mode,
            write_timeout=write_timeout,
            read_timeout=UPLOAD_SECONDS,
        )
        return message.message_id

    async def _reply_parameters(self, reply_to_row: int | None) -> ReplyParameters | None:
        if reply_to_row is None:
            return None
        message_id = await self._sent_message_id(reply_to_row)
        if message_id is None:
            return None
        return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)

    async def _sent_message_id(self, row_id: int) -> int | None:
        async with self._db.read() as conn:
            target = (
                await conn.execute(
                    sa.select(outbox.c.status, outbox.c.sent_message_id).where(outbox.c.id == row_id)
                )
            ).first()
        if target is None or target.status == "failed":
            return None
        if target.status == "pending":
            raise _NotYetDeliverable()
        return int(target.sent_message_id) if target.sent_message_id is not None else None

    async def _mark_sent(self, row: Row[Any], message_id: int | None) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(
                    status="sent",
                    sent_at=self._clock.now(),
                    sent_message_id=message_id,
                    attempts=row.attempts + 1,
                )
            )
            await _release_attachment(conn, row)

    async def _give_up(self, row: Row[Any], reason: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(status="failed", last_error=reason, attempts=row.attempts + 1)
            )
            await _release_attachment(conn, row)

    async def _retry_later(self, row: Row[Any], seconds: float, reason: str) -> None:
        self._held_until[row.chat_id] = asyncio.get_running_loop().time() + seconds
        async with self._db.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(last_error=reason, attempts=row.attempts + 1)
            )


async def _release_attachment(conn: AsyncConnection, row: Row[Any]) -> None:
    """A file's bytes are dropped once no message still waits to carry them: exports can be large."""
    if row.attachment_id is None:
        return
    still_waiting = (
        sa.select(outbox.c.id)
        .where(outbox.c.attachment_id == row.attachment_id, outbox.c.status == "pending")
        .exists()
    )
    await conn.execute(
        attachments.update().where(attachments.c.id == row.attachment_id, ~still_waiting).values(content=None)
    )


def _retry_after_seconds(error: RetryAfter) -> float:
    # PTB 22 warns that retry_after will become a timedelta; accept either, without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class _NotYetDeliverable(Exception):
    """The row depends on an earlier one that is not delivered yet."""


def _markup(buttons: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["label"], callback_data=b["action"]) for b in row] for row in buttons]
    )
