"""Delivering the outbox: pending rows to the Bot API, each marked sent once Telegram has taken it.

Order within a chat is kept: a chat has at most one message on its way, and its rows go oldest first.
The sender reads each pending row once, as it is committed, and keeps every chat's rows in memory
until they are settled: deciding what goes next is then a look at memory, not a query over every
pending row after every message. Committed rows appear in id order (SQLite has one writer at a time,
and outbox rows are never deleted), so "the rows after the last one read" is all that is new, from this
process or another (a CLI announcement).
When a chat must wait (Telegram said retry_after, the network failed, or its limits say not yet), its
later rows wait too, while other chats go on. Messages to different chats travel side by side, as fast
as Telegram's limits allow (bot/pacing.py). Bulk rows (an announcement to many) go only after the chats
waiting for anything else.

What becomes of a message Telegram does not take:
- 429 Too Many Requests: its chat waits exactly the retry_after Telegram gave, then it is sent again.
- a network error, a connection dropped half-way, a timeout or a 5xx (python-telegram-bot raises
  NetworkError for each, its subclass TimedOut for a timeout): sent again after a backoff doubling from
  half a second up to a minute.
- 400 "message is not modified": the buttons already are as asked; done.
- any other 400 (chat not found, message to edit not found ...) or refusal: given up and logged.
- 403 (the person blocked the bot, or never opened it): given up, and the person marked unreachable;
  their butler or the managers are told (bot/reachability.py).
- 401/404 (the token no longer works): no fault of the message; kept, and tried again after the backoff.
A row gives up after MAX_ATTEMPTS (about a day of failures at the longest backoff), so one message
nothing can deliver never holds its chat back for good.

Delivery is at least once: a crash between Telegram taking a message and its row being marked sent, or
a timeout after Telegram took it, means it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import logging
import re
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot import bot_api_client
from bot.clock import Clock
from bot.pacing import Backoff, Pacing, retry_after_seconds
from storage.database import Database
from storage.prepared import Prepared
from storage.schema import attachments, outbox

log = logging.getLogger(__name__)

READ_AT_ONCE = 500  # new pending rows read in one look
IDLE_POLL_SECONDS = 1.0
NOT_YET_DELIVERABLE_SECONDS = 0.2
MAX_ATTEMPTS = 1500
UPLOAD_SECONDS = 30.0
UPLOAD_BYTES_PER_SECOND = 200_000  # the slowest uplink we still wait for
# python-telegram-bot names an error answer it could not parse "<phrase> (<code>)": a 4xx there is a
# refusal (a 413 for an upload too large) that sending again cannot change.
_UNPARSED_REFUSAL = re.compile(r"^[A-Za-z -]+ \(4\d\d\)")


# Kinds that put a message in the chat; only their delivery shows the chat reads the bot.
MESSAGE_KINDS = ("send_text", "copy_media", "send_photo", "send_document")


class Recipients(Protocol):
    """What the sender tells the domain about who can be reached (bot/reachability.py)."""

    async def refused(self, conn: AsyncConnection, chat_id: int, ticket_id: int | None) -> bool: ...

    async def reached(self, conn: AsyncConnection, chat_ids: Collection[int]) -> bool: ...


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        *,
        pacing: Pacing | None = None,
        recipients: Recipients | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._db = db
        self._bot = bot
        self._clock = clock
        self._pacing = pacing or Pacing.unpaced()
        self._recipients = recipients
        self._backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Chats with a message on its way (sent, or being recorded as sent): never two of one chat.
        self._in_flight: set[int] = set()
        self._sending: set[asyncio.Task[None]] = set()
        self._recorded = asyncio.Condition()
        # Every pending row read so far, per chat, oldest first.
        self._waiting: dict[int, deque[_Row]] = {}
        self._not_bulk: dict[int, int] = {}  # chat -> how many of its waiting rows are not bulk
        # The chats whose next row may be sent, in the order they go: chats with anything but bulk
        # waiting first, then by their oldest row. A heap of (only bulk waiting, oldest row, chat);
        # an entry that no longer matches its chat (sent meanwhile, or no longer only bulk) is skipped.
        self._next_up: list[tuple[bool, int, int]] = []
        self._read_up_to = 0  # the highest outbox id read
        # Rows may have been committed since the last look: wake() says so; rows that another process
        # (a CLI announcement) committed are found by looking at least every IDLE_POLL_SECONDS anyway.
        self._unread = True
        self._next_look = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    def wake(self) -> None:
        """Something was just committed to the outbox: deliver it now rather than at the next poll."""
        self._unread = True
        self._wake.set()

    async def until_recorded(self, chat_id: int, timeout: float = 5.0) -> None:
        """Wait while a message to `chat_id` is on its way and not yet recorded as sent.

        A reply to that message, or a press on its button, can reach the bot in that moment (Telegram
        shows the message before its answer reaches us); it must find the message in the outbox.
        """
        async with self._recorded:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._recorded.wait_for(lambda: chat_id not in self._in_flight), timeout
                )

    async def stop(self, grace: float = 5.0) -> None:
        """Deliver what can be delivered within `grace` seconds, then stop; the rest waits in the outbox."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drain(grace)

    async def deliver_pending(self) -> int:
        """Deliver every message that may go now, each chat's in order; returns how many were tried."""
        return await self._drain(0.0)

    async def _drain(self, grace: float) -> int:
        """Deliver until nothing is left that may go within `grace` seconds, and nothing is on its way."""
        self._unread = True
        deadline = self._pacing.now() + grace
        tried = 0
        while True:
            started, wait = await self._dispatch()
            tried += started
            if self._sending:
                await asyncio.wait(set(self._sending))
            elif started == 0:
                if wait is None or self._pacing.now() + wait > deadline:
                    return tried
                await asyncio.sleep(wait)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                _, wait = await self._dispatch()
            except Exception:  # a bug or a database hiccup must not stop delivery for good
                log.exception("outbox delivery pass failed")
                wait = IDLE_POLL_SECONDS
            if self._stopping:
                return
            # Woken by a new row, by a message settled (its chat's next row may go), or when the next
            # waiting chat's time comes.
            with contextlib.suppress(TimeoutError):
                timeout = IDLE_POLL_SECONDS if wait is None else min(IDLE_POLL_SECONDS, max(0.001, wait))
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _dispatch(self) -> tuple[int, float | None]:
        """Start sending every chat's oldest pending row that may go now.

        Returns how many were started, and the seconds until the next waiting chat may go (None when
        no pending row waits for its time).
        """
        if self._unread or self._pacing.now() >= self._next_look:
            await self._read_new_rows()
        started = 0
        wait: float | None = None
        must_wait: list[tuple[bool, int, int]] = []
        # Chats with anything but bulk waiting (a ticket's card, an answer) go before chats with only
        # bulk rows (an announcement to a thousand residents), so an announcement never holds up the
        # service. A chat's own rows still go oldest first, bulk or not.
        while self._next_up and len(self._sending) < self._pacing.limits.in_flight:
            overall = self._pacing.wait_for_any()
            if overall > 0:  # the bot as a whole must wait: no chat may go before then
                wait = overall
                break
            entry = heapq.heappop(self._next_up)
            if entry != self._entry_of(chat_id := entry[2]):
                continue  # stale: the chat's row went, or it is on its way
            seconds = self._pacing.wait_for(chat_id)
            if seconds > 0:
                wait = seconds if wait is None else min(wait, seconds)
                must_wait.append(entry)
                continue
            row = self._waiting[chat_id][0]
            self._pacing.sending(chat_id)
            self._in_flight.add(chat_id)
            task = asyncio.create_task(self._deliver(row), name=f"outbox-{row.id}")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
            started += 1
        for entry in must_wait:
            heapq.heappush(self._next_up, entry)
        return started, wait

    async def _read_new_rows(self) -> None:
        """Take in the rows committed since the last look."""
        self._unread = False  # a wake() while reading asks for another look
        self._next_look = self._pacing.now() + IDLE_POLL_SECONDS
        while True:
            async with self._db.read() as conn:
                rows = await _PENDING_AFTER.all(conn, after=self._read_up_to)
            for row in rows:
                self._take_in(_Row.of(row))
            if len(rows) < READ_AT_ONCE:
                return

    def _take_in(self, row: _Row) -> None:
        self._read_up_to = max(self._read_up_to, row.id)
        rows = self._waiting.setdefault(row.chat_id, deque())
        rows.append(row)
        if not row.bulk:
            self._not_bulk[row.chat_id] = self._not_bulk.get(row.chat_id, 0) + 1
        if len(rows) == 1 or (not row.bulk and self._not_bulk[row.chat_id] == 1):
            self._queue_next(row.chat_id)  # its first row, or its first that is not bulk

    def _entry_of(self, chat_id: int) -> tuple[bool, int, int] | None:
        """The chat's place among those whose next row may go; None if it has none, or one on its way."""
        rows = self._waiting.get(chat_id)
        if not rows or chat_id in self._in_flight:
            return None
        return (chat_id not in self._not_bulk, rows[0].id, chat_id)

    def _queue_next(self, chat_id: int) -> None:
        entry = self._entry_of(chat_id)
        if entry is not None:
            heapq.heappush(self._next_up, entry)

    def _settled(self, row: _Row) -> None:
        """The row was recorded sent, or given up: the chat's next row (if any) comes up."""
        rows = self._waiting[row.chat_id]
        rows.popleft()
        if not row.bulk:
            self._not_bulk[row.chat_id] -= 1
            if self._not_bulk[row.chat_id] == 0:
                del self._not_bulk[row.chat_id]
        if not rows:
            del self._waiting[row.chat_id]

    async def _deliver(self, row: _Row) -> None:
        try:
            if await self._deliver_and_record(row):
                self._settled(row)
        except Exception as error:  # a bug, or the database failing to record: try again later
            log.exception("outbox row %s could not be delivered", row.id)
            self._pacing.hold(row.chat_id, self._backoff.seconds(row.attempts + 1))
            with contextlib.suppress(Exception):
                await self._retry_later(row, f"error: {error!r}")
        finally:
            self._in_flight.discard(row.chat_id)
            self._queue_next(row.chat_id)
            async with self._recorded:
                self._recorded.notify_all()
            self._wake.set()

    async def _deliver_and_record(self, row: _Row) -> bool:
        """Send the row and record how it went: True if it is settled (sent, or given up for good)."""
        try:
            message_id = await self._call(row)
        except _NotYetDeliverable:
            self._pacing.hold(row.chat_id, NOT_YET_DELIVERABLE_SECONDS)
            return False
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self._pacing.told_to_wait(row.chat_id, seconds)
            return await self._failed(row, f"429 retry after {seconds:g}s", waiting=True)
        except Forbidden as error:
            log.info("outbox row %s: chat %s refuses the bot: %s", row.id, row.chat_id, error.message)
            await self._give_up(row, f"unreachable: {error.message}", refused=True)
            return True
        except BadRequest as error:
            if "message is not modified" in error.message.lower():
                await self._mark_sent(row, None)
                return True
            log.error("outbox row %s refused by the Bot API: %s", row.id, error.message)
            await self._give_up(row, error.message)
            return True
        except NetworkError as error:
            if _UNPARSED_REFUSAL.match(error.message):
                log.error("outbox row %s refused by the Bot API: %s", row.id, error.message)
                await self._give_up(row, error.message)
                return True
            return await self._failed(row, f"network: {error.message}")
        except InvalidToken as error:
            log.error("the Bot API does not accept the bot's token; outbox row %s waits", row.id)
            return await self._failed(row, f"token: {error.message}")
        except TelegramError as error:
            log.error("outbox row %s refused by the Bot API: %s", row.id, error.message)
            await self._give_up(row, error.message)
            return True
        await self._mark_sent(row, message_id)
        return True

    async def _call(self, row: _Row) -> int | None:
        payload: dict[str, Any] = row.payload
        # The two kinds nearly every message is, sent as plain JSON (bot/bot_api_client.py `call`).
        if row.kind == "send_text":
            markup = {"force_reply": True, "selective": True} if payload.get("force_reply") else None
            sent = await self._send_raw(
                "sendMessage",
                chat_id=row.chat_id,
                text=payload["html"],
                parse_mode=ParseMode.HTML.value,
                reply_markup=markup or _keyboard(payload.get("buttons")),
                reply_parameters=await self._reply_parameters(payload.get("reply_to")),
                link_preview_options={"is_disabled": True},
            )
            return int(sent["message_id"])
        if row.kind == "copy_media":
            caption = payload.get("caption_html")
            copied = await self._send_raw(
                "copyMessage",
                chat_id=row.chat_id,
                from_chat_id=payload["from_chat_id"],
                message_id=payload["message_id"],
                caption=caption,
                parse_mode=ParseMode.HTML.value if caption else None,
                reply_markup=_keyboard(payload.get("buttons")),
                reply_parameters=await self._reply_parameters(payload.get("reply_to")),
            )
            return int(copied["message_id"])
        if row.kind in ("send_photo", "send_document"):
            return await self._send_file(row)
        if row.kind == "edit_buttons":
            target = await self._sent_message_id(payload["of"])
            if target is None:  # the message never arrived: there is nothing to edit, now or later
                raise BadRequest(NEVER_DELIVERED)
            await self._bot.edit_message_reply_markup(
                chat_id=row.chat_id, message_id=target, reply_markup=_markup(payload.get("buttons"))
            )
            return None
        if row.kind == "edit_text":
            target = await self._sent_message_id(payload["of"])
            if target is None:  # the message never arrived: there is nothing to edit, now or later
                raise BadRequest(NEVER_DELIVERED)
            await self._bot.edit_message_text(
                payload["html"],
                chat_id=row.chat_id,
                message_id=target,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(payload.get("buttons")),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            return None
        if row.kind == "set_commands":
            await self._bot.set_my_commands(
                [BotCommand(name, description) for name, description in payload["commands"]],
                scope=BotCommandScopeChat(row.chat_id),
            )
            return None
        raise TelegramError(f"unknown outbox kind {row.kind!r}")

    async def _send_file(self, row: _Row) -> int:
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

    async def _send_raw(self, method: str, **parameters: Any) -> dict[str, Any]:
        given = {name: value for name, value in parameters.items() if value is not None}
        answer: dict[str, Any] = await bot_api_client.call(self._bot, method, given)
        return answer

    async def _reply_parameters(self, reply_to_row: int | None) -> dict[str, Any] | None:
        if reply_to_row is None:
            return None
        message_id = await self._sent_message_id(reply_to_row)
        if message_id is None:
            return None
        return {"message_id": message_id, "allow_sending_without_reply": True}

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

    async def _mark_sent(self, row: _Row, message_id: int | None) -> None:
        """Record that Telegram took the message; returns once that is committed (raises if it failed).

        The record rides along with whatever transaction is being written (Database.write_soon): under
        load, the request being decided carries it, and one fsync serves both."""
        await self._db.write_soon(functools.partial(self._record, row, message_id))

    async def _record(self, row: _Row, message_id: int | None, conn: AsyncConnection) -> None:
        await _RECORD_SENT.run(
            conn, row_id=row.id, message_id=message_id, attempts=row.attempts + 1, at=self._clock.now()
        )
        await _release_attachment(conn, row)
        # Only a message delivered proves the person reads the bot again: Telegram may take a command
        # menu, or an edit, for a chat that has blocked it.
        recipients = self._recipients if row.kind in MESSAGE_KINDS else None
        if recipients is not None and await recipients.reached(conn, (row.chat_id,)):
            self._unread = True  # someone was told: read their message at the next look

    async def _give_up(self, row: _Row, reason: str, *, refused: bool = False) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(status="failed", last_error=reason, attempts=row.attempts + 1)
            )
            await _release_attachment(conn, row)
            recipients = self._recipients if refused else None
            if recipients is not None and await recipients.refused(conn, row.chat_id, row.ticket_id):
                self._unread = True  # someone was told: read their message at the next look

    async def _failed(self, row: _Row, reason: str, *, waiting: bool = False) -> bool:
        """A try that may succeed later: its chat waits out the backoff (unless Telegram already said how
        long, `waiting`), or after MAX_ATTEMPTS the row is given up (True: it is settled)."""
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            log.error("outbox row %s given up after %s attempts: %s", row.id, attempts, reason)
            await self._give_up(row, reason)
            return True
        if not waiting:
            self._pacing.hold(row.chat_id, self._backoff.seconds(attempts))
        await self._retry_later(row, reason)
        return False

    async def _retry_later(self, row: _Row, reason: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(last_error=reason, attempts=row.attempts + 1)
            )
        row.attempts += 1


async def _release_attachment(conn: AsyncConnection, row: _Row) -> None:
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


NEVER_DELIVERED = "message to edit was never delivered"

_PENDING_AFTER = Prepared(
    sa.select(
        outbox.c.id,
        outbox.c.chat_id,
        outbox.c.kind,
        outbox.c.payload,
        outbox.c.ticket_id,
        outbox.c.attachment_id,
        outbox.c.bulk,
        outbox.c.attempts,
    )  # what a _Row keeps, no more
    .where(outbox.c.status == "pending", outbox.c.id > sa.bindparam("after"))
    .order_by(outbox.c.id)
    .limit(READ_AT_ONCE)
)
_RECORD_SENT = Prepared(
    outbox.update()
    .where(outbox.c.id == sa.bindparam("row_id"))
    .values(
        status="sent",
        sent_at=sa.bindparam("at"),
        sent_message_id=sa.bindparam("message_id"),
        attempts=sa.bindparam("attempts"),
    )
)


@dataclass(eq=False)
class _Row:
    """A pending outbox row as the sender keeps it until it is settled."""

    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    ticket_id: int | None
    attachment_id: int | None
    bulk: bool
    attempts: int  # tries so far, kept in step with the row's own count

    @classmethod
    def of(cls, row: Any) -> _Row:
        return cls(
            row.id,
            row.chat_id,
            row.kind,
            row.payload,
            row.ticket_id,
            row.attachment_id,
            row.bulk,
            row.attempts,
        )


class _NotYetDeliverable(Exception):
    """The row depends on an earlier one that is not delivered yet."""


def _keyboard(buttons: list[list[dict[str, str]]] | None) -> dict[str, Any] | None:
    """An inline keyboard as the Bot API's JSON."""
    if not buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b["label"], "callback_data": b["action"]} for b in row] for row in buttons
        ]
    }


def _markup(buttons: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    """The same keyboard as python-telegram-bot's object, for the edits sent through its own methods."""
    keyboard = _keyboard(buttons)
    return InlineKeyboardMarkup.de_json(keyboard, None) if keyboard else None
