"""getUpdates long polling, offsets, webhooks and wait_idle."""

import asyncio
import time

import pytest
import telegram
from telegram.error import Conflict

from bot.sandbox import BotApiSandbox


async def test_long_poll_returns_as_soon_as_a_user_writes(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()  # nothing to deliver yet: the request is held open
    await alice.send_text("报修")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.0
    [update] = updates
    assert update.message is not None and update.message.text == "报修"
    assert update.message.from_user is not None and update.message.from_user.id == 1001
    assert update.message.chat.type == "private"


async def test_empty_long_poll_waits_for_the_timeout(bot: telegram.Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2.0


async def test_offset_confirms_updates(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    for text in ("one", "two", "three"):
        await alice.send_text(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert first[1].update_id > first[0].update_id
    assert sandbox.pending_updates == 3  # handed out but not yet confirmed
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert sandbox.pending_updates == 1
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert sandbox.pending_updates == 0


async def test_reply_and_command_updates(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice", username="alice")
    sent = await bot.send_message(1001, "Describe the problem")
    await alice.send_text("sink leaks", reply_to=sent.message_id)
    await alice.send_command("/start", "ABC123")
    await alice.send_text("/help")
    reply, start, help_ = (u.message for u in await bot.get_updates() if u.message)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == sent.message_id
    assert reply.reply_to_message.text == "Describe the problem"
    assert start.text == "/start ABC123"
    assert start.entities[0].type == "bot_command" and start.entities[0].length == 6
    assert help_.entities[0].type == "bot_command"
    # One id counter per chat, shared by both directions.
    assert [m.message_id for m in alice.transcript] == [1, 2, 3, 4]
    assert [m.from_bot for m in alice.transcript] == [True, False, False, False]


async def test_webhook_blocks_get_updates(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    assert await bot.set_webhook("https://example.com/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook"
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert sandbox.webhook is None


async def test_wait_idle(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await sandbox.wait_idle(quiet=0.01, timeout=1)
    await alice.send_text("hi")
    with pytest.raises(AssertionError, match="not idle"):
        await sandbox.wait_idle(quiet=0.01, timeout=0.2)  # nobody fetched the update

    async def handle() -> None:
        [update] = await bot.get_updates()
        await asyncio.sleep(0.05)
        await bot.send_message(1001, f"echo {update.message.text if update.message else ''}")

    task = asyncio.create_task(handle())
    await sandbox.wait_idle(quiet=0.1, timeout=2)
    assert task.done()
    assert [m.text for m in alice.inbox] == ["echo hi"]


async def test_wait_for_helpers(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(1001, "工单 #1001 已受理")
        await bot.send_message(1001, "second")

    task = asyncio.create_task(later())
    msg = await alice.wait_for("#1001", timeout=2)
    assert msg.text == "工单 #1001 已受理"
    assert len(await alice.wait_for_count(2, timeout=2)) == 2
    assert (await alice.wait_for(lambda m: m.text == "second")).message_id == 2
    await task
    with pytest.raises(AssertionError, match="second"):
        await alice.wait_for("never", timeout=0.05)
