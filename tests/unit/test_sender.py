"""The outbox sender against a scripted Bot: order per chat, waits, retries and giving up."""

from __future__ import annotations

import asyncio
import warnings
from collections import deque
from datetime import timedelta
from itertools import count
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot import outbox, sender
from bot.clock import ManualClock
from bot.pacing import Backoff, Pacing, SendLimits
from bot.sender import OutboxSender
from storage import inline
from storage.database import Database
from storage.schema import attachments
from storage.schema import outbox as outbox_table

NO_JITTER = Backoff(jitter=0.0)


class FakeTime:
    """The pacing's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def retry_after(seconds: int) -> RetryAfter:
    with warnings.catch_warnings():  # PTB itself warns about retry_after's future type when building it
        warnings.simplefilter("ignore")
        return RetryAfter(timedelta(seconds=seconds))


class ScriptedBot:
    """Answers each call with the next scripted error for that chat, else succeeds."""

    request = None  # no aiohttp client: plain calls come to do_api_request (bot/bot_api_client.py)

    def __init__(self) -> None:
        self.delivered: list[tuple[int, str]] = []
        self.failures: dict[int, deque[TelegramError]] = {}
        self.calls: list[int] = []
        self._ids = count(100)

    def fail(self, chat_id: int, *errors: TelegramError) -> None:
        self.failures.setdefault(chat_id, deque()).extend(errors)

    def _answer(self, chat_id: int) -> None:
        self.calls.append(chat_id)
        queue = self.failures.get(chat_id)
        if queue:
            raise queue.popleft()

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Any:
        self._answer(chat_id)
        self.delivered.append((chat_id, text))
        return type("Sent", (), {"message_id": next(self._ids)})()

    async def do_api_request(self, endpoint: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        """The sender sends texts as plain JSON (bot/bot_api_client.py): answered as send_message."""
        assert endpoint == "sendMessage", endpoint
        parameters = dict(api_kwargs)
        sent = await self.send_message(parameters.pop("chat_id"), parameters.pop("text"), **parameters)
        return {"message_id": sent.message_id}

    async def send_document(self, chat_id: int, document: Any, **_: Any) -> Any:
        self._answer(chat_id)
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


async def _errors(db: Database) -> list[str | None]:
    async with db.engine.connect() as conn:
        query = sa.select(outbox_table.c.last_error).order_by(outbox_table.c.id)
        return list((await conn.execute(query)).scalars().all())


def _sender(
    db: Database, bot: ScriptedBot, clock: ManualClock, time: FakeTime, limits: SendLimits | None = None
) -> OutboxSender:
    pacing = Pacing(limits, time) if limits is not None else Pacing.unpaced(time)
    return OutboxSender(db, cast(Bot, bot), clock, pacing=pacing, backoff=NO_JITTER)


async def test_a_chat_told_to_wait_holds_its_later_messages_while_others_go_on(
    db: Database, clock: ManualClock
) -> None:
    bot, time = ScriptedBot(), FakeTime()
    bot.fail(1, retry_after(30))
    await _queue(db, clock, (1, "first"), (2, "other chat"), (1, "second"))
    sender = _sender(db, bot, clock, time)
    await sender.deliver_pending()
    assert bot.delivered == [(2, "other chat")]
    assert await _statuses(db) == [(1, "pending", 1), (2, "sent", 1), (1, "pending", 0)]
    assert await _errors(db) == ["429 retry after 30s", None, None]

    time.advance(29.9)  # exactly retry_after: not a moment sooner
    await sender.deliver_pending()
    assert bot.delivered == [(2, "other chat")]
    time.advance(0.1)
    await sender.deliver_pending()
    assert bot.delivered == [(2, "other chat"), (1, "first"), (1, "second")]
    assert await _statuses(db) == [(1, "sent", 2), (2, "sent", 1), (1, "sent", 1)]


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("httpx.RemoteProtocolError: Server disconnected without sending a response."),
        TimedOut("Timed out"),
        NetworkError("Bad Gateway"),  # 502, as python-telegram-bot raises it
        NetworkError("Internal Server Error"),  # 500
        NetworkError("Service Unavailable (503). Parsing the server response b'<html>' failed"),
        InvalidToken("Unauthorized"),  # the token, not the message: kept until it works again
    ],
)
async def test_network_errors_timeouts_and_5xx_are_retried_with_a_doubling_backoff(
    db: Database, clock: ManualClock, error: TelegramError
) -> None:
    bot, time = ScriptedBot(), FakeTime()
    bot.fail(1, error, error, error)
    await _queue(db, clock, (1, "hello"), (1, "after it"))
    sender = _sender(db, bot, clock, time)
    await sender.deliver_pending()
    waits = []
    while len(bot.delivered) < 2:
        wait = 0.0
        while not await sender.deliver_pending():  # nothing is tried before the backoff is over
            time.advance(0.25)
            wait += 0.25
        waits.append(wait)
    assert waits == [0.5, 1.0, 2.0]
    assert len(bot.calls) == 5
    assert bot.delivered == [(1, "hello"), (1, "after it")]
    assert await _statuses(db) == [(1, "sent", 4), (1, "sent", 1)]


def test_the_backoff_doubles_up_to_a_minute_with_a_little_jitter() -> None:
    backoff = Backoff()
    assert [backoff.seconds(n, lambda: 0.0) for n in (1, 2, 3, 4, 8, 9, 50)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        60.0,
        60.0,
        60.0,
    ]
    assert backoff.seconds(3, lambda: 1.0) == pytest.approx(1.6)


async def test_a_blocked_chat_or_a_refused_message_is_recorded_not_retried(
    db: Database, clock: ManualClock
) -> None:
    bot, time = ScriptedBot(), FakeTime()
    bot.fail(1, Forbidden("Forbidden: bot was blocked by the user"))
    bot.fail(2, BadRequest("Bad Request: chat not found"))
    bot.fail(4, NetworkError("Request Entity Too Large (413). Parsing the server response b'<html>' failed"))
    await _queue(db, clock, (1, "to a blocked user"), (2, "to nowhere"), (3, "fine"), (4, "too large"))
    sender = _sender(db, bot, clock, time)
    await sender.deliver_pending()
    await sender.deliver_pending()
    assert bot.delivered == [(3, "fine")]
    assert await _statuses(db) == [(1, "failed", 1), (2, "failed", 1), (3, "sent", 1), (4, "failed", 1)]
    assert await _errors(db) == [
        "unreachable: Forbidden: bot was blocked by the user",
        "Chat not found",
        None,
        "Request Entity Too Large (413). Parsing the server response b'<html>' failed",
    ]


async def test_a_message_that_never_goes_through_is_given_up_at_last(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "MAX_ATTEMPTS", 3)
    bot, time = ScriptedBot(), FakeTime()
    bot.fail(1, *[NetworkError("Bad Gateway")] * 5)
    await _queue(db, clock, (1, "doomed"), (1, "next"))
    outbox_sender = _sender(db, bot, clock, time)
    for _ in range(4):
        await outbox_sender.deliver_pending()
        time.advance(60)
    assert await _statuses(db) == [(1, "failed", 3), (1, "pending", 2)]
    assert await _errors(db) == ["network: Bad Gateway", "network: Bad Gateway"]


async def test_not_modified_counts_as_done(db: Database, clock: ManualClock) -> None:
    bot = ScriptedBot()
    await _queue(db, clock, (1, "card"))
    sender = _sender(db, bot, clock, FakeTime())
    await sender.deliver_pending()
    async with db.begin() as conn:
        await outbox.edit_buttons(conn, 1, 1, None, now=clock.now())
    await sender.deliver_pending()
    assert await _statuses(db) == [(1, "sent", 1), (1, "sent", 1)]


async def test_paced_one_message_a_second_to_a_chat(db: Database, clock: ManualClock) -> None:
    bot, time = ScriptedBot(), FakeTime()
    await _queue(db, clock, (1, "one"), (1, "two"), (2, "other"), (1, "three"))
    sender = _sender(db, bot, clock, time, SendLimits(margin=0.0))
    await sender.deliver_pending()
    assert bot.delivered == [(1, "one"), (2, "other")]
    time.advance(0.99)
    await sender.deliver_pending()
    assert len(bot.delivered) == 2
    time.advance(0.01)
    await sender.deliver_pending()
    time.advance(1.0)
    await sender.deliver_pending()
    assert bot.delivered == [(1, "one"), (2, "other"), (1, "two"), (1, "three")]


async def test_paced_at_most_thirty_a_second_overall(db: Database, clock: ManualClock) -> None:
    bot, time = ScriptedBot(), FakeTime()
    await _queue(db, clock, *[(chat, f"to {chat}") for chat in range(1, 71)])
    sender = _sender(db, bot, clock, time, SendLimits(in_flight=100, margin=0.0))
    for tenth in range(10):  # a few at a time, spread over the second: thirty in it
        await sender.deliver_pending()
        assert len(bot.delivered) == 3 * (tenth + 1)
        time.advance(0.1001)
    while len(bot.delivered) < 70:
        await sender.deliver_pending()
        time.advance(0.1001)
    assert [chat for chat, _ in bot.delivered] == list(range(1, 71))  # oldest first


async def test_different_chats_travel_together_never_two_of_one_chat(
    db: Database, clock: ManualClock
) -> None:
    class SlowBot(ScriptedBot):
        def __init__(self) -> None:
            super().__init__()
            self.on_the_way: list[int] = []
            self.most = 0

        async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
            assert chat_id not in self.on_the_way, "two messages of one chat at once"
            self.on_the_way.append(chat_id)
            self.most = max(self.most, len(self.on_the_way))
            await asyncio.sleep(0.02)
            self.on_the_way.remove(chat_id)
            return await super().send_message(chat_id, text, **kwargs)

    bot = SlowBot()
    await _queue(db, clock, *[(chat % 5, f"{n}") for n, chat in enumerate(range(40))])
    limits = SendLimits(per_chat_seconds=0.0, per_second=None, in_flight=4)
    sender = OutboxSender(db, cast(Bot, bot), clock, pacing=Pacing(limits))
    await sender.deliver_pending()
    assert bot.most == 4
    for chat in range(5):
        assert [int(text) for to, text in bot.delivered if to == chat] == list(range(chat, 40, 5))


async def test_until_recorded_waits_for_the_message_on_its_way_to_that_chat(
    db: Database, clock: ManualClock
) -> None:
    on_its_way, release = asyncio.Event(), asyncio.Event()

    class HeldBot(ScriptedBot):
        async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
            if chat_id == 1:
                on_its_way.set()
                await release.wait()
            return await super().send_message(chat_id, text, **kwargs)

    bot = HeldBot()
    await _queue(db, clock, (1, "slow"), (2, "quick"))
    sender = OutboxSender(db, cast(Bot, bot), clock, pacing=Pacing(SendLimits(0.0, None, 4)))
    sender.start()
    try:
        await asyncio.wait_for(on_its_way.wait(), 1.0)
        await asyncio.wait_for(sender.until_recorded(2), 1.0)  # another chat's message does not hold it
        waiting = asyncio.create_task(sender.until_recorded(1))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        release.set()
        await asyncio.wait_for(waiting, 1.0)
        assert await _statuses(db) == [(1, "sent", 1), (2, "sent", 1)]
    finally:
        await sender.stop()


async def test_stop_delivers_what_is_queued(db: Database, clock: ManualClock) -> None:
    bot = ScriptedBot()
    sender = OutboxSender(db, cast(Bot, bot), clock)
    sender.start()
    await _queue(db, clock, (1, "a"), (2, "b"), (1, "c"))
    await sender.stop()
    assert bot.delivered == [(1, "a"), (2, "b"), (1, "c")]


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
    bot, time = ScriptedBot(), FakeTime()
    bot.fail(2, Forbidden("Forbidden: bot was blocked by the user"))
    async with db.begin() as conn:
        stored = await outbox.attach(conn, "tickets.csv", b"\xef\xbb\xbfnumber\r\n", now=clock.now())
        for chat_id in (1, 2, 3):
            await outbox.send_file(conn, chat_id, stored, as_photo=False, now=clock.now())
    bot.fail(3, NetworkError("connection reset"))
    sender = _sender(db, bot, clock, time)

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
    time.advance(0.5)  # the retry's wait is over
    await sender.deliver_pending()
    assert bot.delivered == [(1, "tickets.csv: 11 bytes"), (3, "tickets.csv: 11 bytes")]
    assert [status for _, status, _ in await _statuses(db)] == ["sent", "failed", "sent"]
    assert await content() is None


async def test_messages_sent_together_are_recorded_together_and_a_failed_record_sends_again(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class TogetherBot(ScriptedBot):
        """Answers only once eight messages are on their way: they all finish at the same moment."""

        def __init__(self) -> None:
            super().__init__()
            self.all_sent = asyncio.Event()
            self.waiting = 0

        async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
            self.waiting += 1
            if self.waiting == 8:
                self.all_sent.set()
            await self.all_sent.wait()
            return await super().send_message(chat_id, text, **kwargs)

    commits: list[int] = []
    commit = inline.commit

    async def counted(conn: AsyncConnection) -> None:  # Database's own COMMIT, which the records use
        commits.append(1)
        await commit(conn)

    monkeypatch.setattr(inline, "commit", counted)
    await _queue(db, clock, *[(chat, f"to {chat}") for chat in range(8)])
    commits.clear()
    sender = OutboxSender(db, cast(Bot, TogetherBot()), clock, pacing=Pacing(SendLimits(0.0, None, 8)))
    await sender.deliver_pending()
    assert await _statuses(db) == [(chat, "sent", 1) for chat in range(8)]
    assert len(commits) < 8  # one transaction recorded several of them

    # The database refuses the record: Telegram took the messages, but their rows stay pending and are sent
    # again (delivery is at least once), never lost.
    async with db.begin() as conn:
        await conn.execute(
            sa.text(
                "CREATE TRIGGER refuse_sent BEFORE UPDATE OF status ON outbox WHEN NEW.status = 'sent'"
                " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        )
    await _queue(db, clock, (1, "again"), (2, "again"))
    bot = ScriptedBot()
    sender = OutboxSender(
        db, cast(Bot, bot), clock, pacing=Pacing(SendLimits(0.0, None, 8)), backoff=NO_JITTER
    )
    await sender.deliver_pending()
    assert [status for _, status, _ in (await _statuses(db))[8:]] == ["pending", "pending"]
    async with db.begin() as conn:
        await conn.execute(sa.text("DROP TRIGGER refuse_sent"))
    await asyncio.sleep(0.6)  # the backoff after the failure
    await sender.deliver_pending()
    assert [status for _, status, _ in (await _statuses(db))[8:]] == ["sent", "sent"]
    assert bot.delivered.count((1, "again")) >= 2  # sent again: at least once
