"""The optional Telegram sending limits: 429 for a bot that sends too fast, as Telegram answers."""

import asyncio
import datetime as dtm

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter

from bot.sandbox import BotApiSandbox, TelegramLimits
from bot.sandbox.cli import _parse_args
from bot.sandbox.errors import ApiError
from tests.sandbox.conftest import TOKEN

# RetryAfter.retry_after warns that it will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Clock:
    """A hand-moved time source for the limits."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB's settings."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def refusal(limits: TelegramLimits, chat_id: int, at: float, method: str = "sendMessage") -> int:
    """The retry_after of the 429 ``limits`` answers (failing if the send is let through)."""
    with pytest.raises(ApiError) as info:
        limits.admit(method, chat_id, at)
    error = info.value
    assert error.error_code == 429 and error.parameters is not None
    retry_after = error.parameters["retry_after"]
    assert error.description == f"Too Many Requests: retry after {retry_after}"
    return int(retry_after)


# -- the window logic, without a server or any waiting ------------------------------------


def test_one_message_a_second_per_chat() -> None:
    limits = TelegramLimits()
    assert limits.admit("sendMessage", 1001, 10.0) is not None
    assert refusal(limits, 1001, 10.0) == 1
    assert refusal(limits, 1001, 10.999) == 1
    assert limits.admit("sendPhoto", 1002, 10.5) is not None  # another chat is not held up
    assert limits.admit("copyMessage", 1001, 11.0) is not None  # exactly a second later
    assert (limits.refused_per_chat, limits.refused_overall, limits.refused) == (2, 0, 2)


def test_retry_after_is_the_wait_rounded_up() -> None:
    limits = TelegramLimits(per_chat_seconds=2.5)
    limits.admit("sendMessage", 1001, 0.0)
    assert refusal(limits, 1001, 0.2) == 3  # 2.3 s to wait
    assert refusal(limits, 1001, 1.5) == 1  # 1.0 s
    assert refusal(limits, 1001, 2.4) == 1  # 0.1 s: never less than 1


def test_thirty_a_second_overall() -> None:
    limits = TelegramLimits()
    for n in range(30):
        limits.admit("sendMessage", 2000 + n, 5.0 + n * 0.01)
    assert refusal(limits, 3000, 5.5) == 1
    assert (limits.refused_per_chat, limits.refused_overall) == (0, 1)
    assert limits.admit("sendMessage", 3000, 6.0) is not None  # the first send left the window
    assert refusal(limits, 3001, 6.005) == 1  # the second has not yet
    assert limits.admit("sendMessage", 3001, 6.01) is not None


def test_per_second_counts_only_the_last_second() -> None:
    limits = TelegramLimits(per_chat_seconds=0, per_second=3)
    for at in (0.0, 0.4, 0.8, 1.4, 1.8, 2.2):  # never more than three within a second
        assert limits.admit("sendMessage", 1001, at) is not None
    assert refusal(limits, 1001, 2.3) == 1  # 1.4, 1.8 and 2.2 are within the second


def test_a_chat_sent_to_too_soon_counts_as_per_chat_and_waits_for_both() -> None:
    limits = TelegramLimits(per_chat_seconds=3.0, per_second=2)
    limits.admit("sendMessage", 1001, 0.0)
    limits.admit("sendMessage", 1002, 0.5)
    assert refusal(limits, 1001, 0.6) == 3  # both limits: counted once, per chat
    assert refusal(limits, 1003, 0.6) == 1  # overall only
    assert (limits.refused_per_chat, limits.refused_overall) == (1, 1)


def test_refused_sends_do_not_count() -> None:
    limits = TelegramLimits()
    limits.admit("sendMessage", 1001, 0.0)
    refusal(limits, 1001, 0.5)
    refusal(limits, 1001, 0.9)
    assert limits.admit("sendMessage", 1001, 1.0) is not None  # not held up by the refusals


def test_a_cancelled_send_gives_its_slots_back() -> None:
    limits = TelegramLimits(per_second=2)
    limits.admit("sendMessage", 1001, 0.0)
    failed = limits.admit("sendMessage", 1002, 0.1)  # e.g. the user had blocked the bot
    assert failed is not None
    assert refusal(limits, 1003, 0.2) == 1  # two within the second: full
    limits.cancel(failed)
    assert limits.admit("sendMessage", 1003, 0.2) is not None


def test_a_cancelled_send_does_not_hold_its_chat_up() -> None:
    limits = TelegramLimits()
    failed = limits.admit("sendMessage", 1002, 0.1)
    assert failed is not None
    limits.cancel(failed)
    assert limits.admit("sendMessage", 1002, 0.3) is not None
    # The chat's send before a cancelled one is its last again.
    again = limits.admit("sendMessage", 1002, 1.5)
    assert again is not None
    limits.cancel(again)
    assert refusal(limits, 1002, 1.2) == 1
    assert limits.admit("sendMessage", 1002, 1.3) is not None


def test_other_methods_are_never_limited() -> None:
    limits = TelegramLimits(per_second=1)
    limits.admit("sendMessage", 1001, 0.0)
    for method in ("editMessageText", "answerCallbackQuery", "getUpdates", "setMyCommands", "deleteMessage"):
        assert limits.admit(method, 1001, 0.1) is None
    assert limits.refused == 0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="per_second"):
        TelegramLimits(per_second=0)
    with pytest.raises(ValueError, match="per_chat_seconds"):
        TelegramLimits(per_chat_seconds=-1)


# -- through the server, as python-telegram-bot sees it -----------------------------------


async def test_off_by_default(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    assert sandbox.limits is None
    sandbox.user(1001, "Alice")
    await bot.send_message(1001, "one")
    await bot.send_message(1001, "two")
    assert [m.text for m in sandbox.delivered(1001)] == ["one", "two"]


async def test_second_message_within_a_second_is_refused(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.limits = TelegramLimits()
    sandbox.user(1001, "Alice")
    await bot.send_message(1001, "one")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1001, "two")
    assert seconds(info.value) == 1
    assert [m.text for m in sandbox.delivered(1001)] == ["one"]
    accepted, refused = sandbox.call_log.sends(1001)
    assert (accepted.status, accepted.performed) == (200, True)
    assert (refused.status, refused.ok, refused.performed, refused.fault) == (429, False, False, None)
    assert refused.description == "Too Many Requests: retry after 1"
    assert refused.retry_after == 1
    assert sandbox.calls[-1] == ("sendMessage", {"chat_id": 1001, "text": "two"})
    assert sandbox.rejections == []  # too fast is not malformed
    assert (sandbox.limits.refused_per_chat, sandbox.limits.refused_overall) == (1, 0)


async def test_accepted_after_the_wait(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    clock = Clock()
    sandbox.limits = TelegramLimits(clock=clock)
    sandbox.user(1001, "Alice")
    await bot.send_message(1001, "one")
    clock.now += 0.5
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "two")
    clock.now += 0.5
    await bot.send_message(1001, "two")
    assert [m.text for m in sandbox.delivered(1001)] == ["one", "two"]
    assert [r.status for r in sandbox.call_log.sends(1001)] == [200, 429, 200]


async def test_accepted_after_a_real_wait(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.limits = TelegramLimits(per_chat_seconds=0.2)  # on the loop's own clock
    sandbox.user(1001, "Alice")
    await bot.send_message(1001, "one")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1001, "two")
    assert seconds(info.value) == 1  # whole seconds, as Telegram gives
    await asyncio.sleep(0.2)
    await bot.send_message(1001, "two")
    assert [m.text for m in sandbox.delivered(1001)] == ["one", "two"]


async def test_31st_message_in_a_second_is_refused(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    clock = Clock()
    sandbox.limits = TelegramLimits(clock=clock)
    chats = [2001 + n for n in range(31)]
    for chat_id in chats:
        sandbox.user(chat_id)
    for chat_id in chats[:30]:
        await bot.send_message(chat_id, "公告")
        clock.now += 0.02
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(chats[30], "公告")  # 0.6 s after the first
    assert seconds(info.value) == 1
    assert sandbox.delivered(chats[30]) == []
    assert (sandbox.limits.refused_per_chat, sandbox.limits.refused_overall) == (0, 1)
    clock.now = 101.0  # the first send (at 100.0) is a second old
    await bot.send_message(chats[30], "公告")
    assert [m.text for m in sandbox.delivered(chats[30])] == ["公告"]
    accepted = [r for r in sandbox.call_log.sends() if r.ok]
    assert len(accepted) == 31 and sandbox.rejections == []


async def test_a_burst_in_flight_together_stays_within_the_limit(sandbox: BotApiSandbox) -> None:
    sandbox.limits = TelegramLimits(clock=Clock())  # all at one instant
    chats = [2001 + n for n in range(40)]
    for chat_id in chats:
        sandbox.user(chat_id)
    async with httpx.AsyncClient() as client:
        url = f"{sandbox.api_url}{TOKEN}/sendMessage"
        replies = await asyncio.gather(*(client.post(url, json={"chat_id": c, "text": "x"}) for c in chats))
    assert sorted(r.status_code for r in replies) == [200] * 30 + [429] * 10
    assert sum(len(sandbox.delivered(c)) for c in chats) == 30
    assert sandbox.limits.refused_overall == 10


async def test_edits_and_callback_answers_are_not_limited(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.limits = TelegramLimits(per_second=1)
    alice = sandbox.user(1001, "Alice")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data="t:accept:5")]])
    sent = await bot.send_message(1001, "v1", reply_markup=markup)
    for n in range(2, 6):
        await bot.edit_message_text(f"v{n}", 1001, sent.message_id, reply_markup=markup)
    query_id = await alice.press(alice.inbox[0], "Accept")
    await bot.get_updates(timeout=0)
    assert await bot.answer_callback_query(query_id, text="已接单")
    await bot.set_my_commands([("help", "帮助")])
    assert alice.inbox[0].text == "v5"
    assert sandbox.limits.refused == 0
    assert all(r.status == 200 for r in sandbox.call_log)


async def test_only_sends_that_took_effect_count(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.limits = TelegramLimits()
    alice = sandbox.user(1001, "Alice")
    alice.block()
    with pytest.raises(Forbidden):
        await bot.send_message(1001, "blocked")
    alice.unblock()
    sandbox.faults.server_error(502)
    with pytest.raises(telegram.error.NetworkError):
        await bot.send_message(1001, "faulted")
    await bot.send_message(1001, "hello")  # neither failure used up the chat's second
    assert [m.text for m in alice.delivered] == ["hello"]
    assert sandbox.limits.refused == 0


async def test_switched_on_and_off_at_runtime(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.user(1001, "Alice")
    limits = TelegramLimits()
    sandbox.limits = limits
    await bot.send_message(1001, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "two")
    sandbox.limits = None
    await bot.send_message(1001, "two")
    assert [m.text for m in sandbox.delivered(1001)] == ["one", "two"]
    assert limits.refused == 1


async def test_429_body_is_what_telegram_sends(sandbox: BotApiSandbox) -> None:
    sandbox.limits = TelegramLimits()
    sandbox.user(1001, "Alice")
    async with httpx.AsyncClient() as client:
        url = f"{sandbox.api_url}{TOKEN}/sendMessage"
        first = await client.post(url, json={"chat_id": 1001, "text": "x"})
        second = await client.post(url, json={"chat_id": 1001, "text": "y"})
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }


def test_cli_flag() -> None:
    assert _parse_args(["--telegram-limits"]).telegram_limits is True
    assert _parse_args([]).telegram_limits is False
