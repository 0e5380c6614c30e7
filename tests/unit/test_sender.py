"""The outbox sender against a scripted Bot: order per chat, waits, retries and giving up."""

from __future__ import annotations

import warnings
from collections import deque
from datetime import timedelta
from itertools import count
from typing import Any, cast

import sqlalchemy as sa
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import outbox
from bot.clock import ManualClock
from bot.sender import OutboxSender
from storage.database import Database
from storage.schema import attachments
from storage.schema import outbox as outbox_table


class ScriptedBot:
    """Answers each call with the next scripted error for that chat, else succeeds."""

    def __init__(self) -> None:
        self.delivered: list[tuple[int, str]] = []
        self.failures: dict[int, deque[TelegramError]] = {}
        self._ids = count(100)

    def fail(self, chat_id: int, *errors: TelegramError) -> None:
        self.failures.setdefault(chat_id, deque()).extend(errors)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Any:
        queue = self.failures.get(chat_id)
        if queue:
            raise queue.popleft()
        self.delivered.append((chat_id, text))
        return type("Sent", (), {"message_id": next(self._ids)})()

    async def send_document(self, chat_id: int, document: Any, **_: Any) -> Any:
        queue = self.failures.get(chat_id)
        if queue:
            raise queue.popleft()
        self.delivered.append((chat_id, f"{document.filename}: {len(document.input_file_content)} bytes"))
        return type("Sent", (), {"message_id": next(self._ids)})()

    async def edit_message_reply_markup(self, chat_id: int, message_id: int, **_: Any) -> None:
        raise BadRequest("Message is not modified: specified new message content is the same")


async def _queue(db: Database, clock: ManualClock, *messages: tuple[int, str]) -> None:
    async with db.begin() as conn:
        for chat_id, text in messages:
            await outbox.send_text(conn, chat_id, text, now=clock.now())


async def _statuses(db: Database) -> list[tuple[int, str, int]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox_table.c.chat_id, outbox_table.c.status, outbox_table.c.attempts).order_by(
                outbox_table.c.id
            )
        )
        return [tuple(row) for row in rows]


def _sender(db: Database, bot: ScriptedBot, clock: ManualClock) -> OutboxSender:
    return OutboxSender(db, cast(Bot, bot), clock)


async def test_a_chat_told_to_wait_holds_its_later_messages_while_others_go_on(
    db: Database, clock: ManualClock
) -> None:
    bot = ScriptedBot()
    with warnings.catch_warnings():  # PTB itself warns about retry_after's future type when building it
        warnings.simplefilter("ignore")
        bot.fail(1, RetryAfter(timedelta(seconds=30)))
    await _queue(db, clock, (1, "first"), (2, "other chat"), (1, "second"))
    sender = _sender(db, bot, clock)
    await sender.deliver_pending()
    assert bot.delivered == [(2, "other chat")]
    assert await _statuses(db) == [(1, "pending", 1), (2, "sent", 1), (1, "pending", 0)]
    await sender.deliver_pending()  # still inside the 30 s: nothing is tried
    assert bot.delivered == [(2, "other chat")]

    sender._held_until.clear()  # the 30 seconds have passed
    await sender.deliver_pending()
    assert bot.delivered == [(2, "other chat"), (1, "first"), (1, "second")]


async def test_network_errors_are_retried_until_delivered(db: Database, clock: ManualClock) -> None:
    bot = ScriptedBot()
    bot.fail(1, NetworkError("connection reset"), NetworkError("timed out"))
    await _queue(db, clock, (1, "hello"))
    sender = _sender(db, bot, clock)
    for _ in range(3):
        sender._held_until.clear()
        await sender.deliver_pending()
    assert bot.delivered == [(1, "hello")]
    assert await _statuses(db) == [(1, "sent", 3)]


async def test_a_blocked_chat_or_a_refused_message_is_recorded_not_retried(
    db: Database, clock: ManualClock
) -> None:
    bot = ScriptedBot()
    bot.fail(1, Forbidden("bot was blocked by the user"))
    bot.fail(2, BadRequest("chat not found"))
    await _queue(db, clock, (1, "to a blocked user"), (2, "to nowhere"), (3, "fine"))
    sender = _sender(db, bot, clock)
    await sender.deliver_pending()
    await sender.deliver_pending()
    assert bot.delivered == [(3, "fine")]
    assert await _statuses(db) == [(1, "failed", 1), (2, "failed", 1), (3, "sent", 1)]
    async with db.engine.connect() as conn:
        errors = (
            (await conn.execute(sa.select(outbox_table.c.last_error).order_by(outbox_table.c.id)))
            .scalars()
            .all()
        )
    assert errors[0] == "unreachable: bot was blocked by the user"


async def test_not_modified_counts_as_done(db: Database, clock: ManualClock) -> None:
    bot = ScriptedBot()
    await _queue(db, clock, (1, "card"))
    sender = _sender(db, bot, clock)
    await sender.deliver_pending()
    async with db.begin() as conn:
        await outbox.edit_buttons(conn, 1, 1, None, now=clock.now())
    await sender.deliver_pending()
    assert await _statuses(db) == [(1, "sent", 1), (1, "sent", 1)]


async def test_a_long_text_becomes_several_rows_with_the_buttons_on_the_last(
    db: Database, clock: ManualClock
) -> None:
    text = "\n".join(f"第 {n:04d} 行：" + "内容" * 20 for n in range(200))  # over 9,000 characters
    assert len(text) > 5000
    async with db.begin() as conn:
        await outbox.send_text(conn, 1, text, now=clock.now(), buttons=[[outbox.Button("OK", "ok:1")]])
    async with db.engine.connect() as conn:
        payloads = (
            (await conn.execute(sa.select(outbox_table.c.payload).order_by(outbox_table.c.id)))
            .scalars()
            .all()
        )
    assert len(payloads) == 3
    assert [p["buttons"] is not None for p in payloads] == [False, False, True]
    assert "".join(p["html"] for p in payloads) == text


async def test_a_file_is_stored_once_and_dropped_when_every_copy_is_settled(
    db: Database, clock: ManualClock
) -> None:
    bot = ScriptedBot()
    bot.fail(2, Forbidden("Forbidden: bot was blocked by the user"))
    async with db.begin() as conn:
        stored = await outbox.attach(conn, "tickets.csv", b"\xef\xbb\xbfnumber\r\n", now=clock.now())
        for chat_id in (1, 2, 3):
            await outbox.send_file(conn, chat_id, stored, as_photo=False, now=clock.now())
    bot.fail(3, NetworkError("connection reset"))
    sender = _sender(db, bot, clock)

    async def content() -> bytes | None:
        async with db.read() as conn:
            value: bytes | None = (
                await conn.execute(sa.select(attachments.c.content).where(attachments.c.id == stored))
            ).scalar_one()
            return value

    await sender.deliver_pending()
    # Chat 1 has it, chat 2 blocked the bot, chat 3 waits for a retry: the bytes are still needed.
    assert bot.delivered == [(1, "tickets.csv: 11 bytes")]
    assert await content() == b"\xef\xbb\xbfnumber\r\n"
    sender._held_until.clear()  # the retry's wait is over
    await sender.deliver_pending()
    assert bot.delivered == [(1, "tickets.csv: 11 bytes"), (3, "tickets.csv: 11 bytes")]
    assert [status for _, status, _ in await _statuses(db)] == ["sent", "failed", "sent"]
    assert await content() is None
