"""Injected faults as python-telegram-bot sees them, the timed call log, and per-chat order."""

import asyncio
import datetime as dtm

import httpx
import pytest
import telegram
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.sandbox import BotApiSandbox, FaultKind, max_in_window, min_gap
from tests.sandbox.conftest import TOKEN

SHORT = 0.2  # the client's read timeout in timeout tests


# RetryAfter.retry_after warns that it will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB's settings."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_429_carries_retry_after_and_delivers_nothing(
    sandbox: BotApiSandbox, bot: telegram.Bot
) -> None:
    alice = sandbox.user(1001, "Alice")
    fault = sandbox.faults.too_many_requests(7, method="sendMessage")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1001, "one")
    assert seconds(info.value) == 7
    assert alice.inbox == []
    await bot.send_message(1001, "two")  # fired once, then gone
    assert [m.text for m in alice.inbox] == ["two"]
    assert fault.fired == 1 and sandbox.faults.armed == []
    [fired] = sandbox.faults.fired
    assert (fired.fault, fired.method, fired.chat_id) == (fault, "sendMessage", 1001)
    refused, accepted = sandbox.call_log.sends(1001)
    assert (refused.status, refused.ok, refused.performed, refused.retry_after) == (429, False, False, 7)
    assert refused.description == "Too Many Requests: retry after 7"
    assert (accepted.status, accepted.ok, accepted.performed) == (200, True, True)
    assert sandbox.rejections == []  # a fault is not the bot's mistake


async def test_429_body_is_what_telegram_sends(sandbox: BotApiSandbox) -> None:
    sandbox.user(1001, "Alice")
    sandbox.faults.too_many_requests(2)
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            f"{sandbox.api_url}{TOKEN}/sendMessage", json={"chat_id": 1001, "text": "x"}
        )
    assert reply.status_code == 429
    assert reply.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }


@pytest.mark.parametrize(
    ("status", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_server_errors(
    sandbox: BotApiSandbox, bot: telegram.Bot, status: int, description: str
) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.faults.server_error(status)
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            f"{sandbox.api_url}{TOKEN}/sendMessage", json={"chat_id": 1001, "text": "x"}
        )
    assert reply.status_code == status
    assert reply.json() == {"ok": False, "error_code": status, "description": description}
    sandbox.faults.server_error(status)
    with pytest.raises(NetworkError, match=description) as info:
        await bot.send_message(1001, "y")
    assert not isinstance(info.value, TimedOut)
    assert alice.inbox == []


async def test_server_error_after_performing_is_ambiguous(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.faults.server_error(502, performed=True)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1001, "delivered though")
    assert [m.text for m in alice.inbox] == ["delivered though"]
    [record] = sandbox.call_log.sends(1001)
    assert (record.status, record.performed, record.ok) == (502, True, False)


async def test_timeout_not_performed(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.faults.timeout(SHORT * 3, method="sendMessage")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "lost", read_timeout=SHORT)
    assert SHORT * 0.9 <= loop.time() - started < SHORT * 3  # before the late answer
    await sandbox.wait_idle(quiet=0.01, timeout=2)  # the sandbox's late answer has gone out
    assert alice.inbox == []
    [record] = sandbox.call_log.sends(1001)
    assert record.fault is not None and record.fault.kind is FaultKind.TIMEOUT
    assert (record.status, record.performed, record.ok) == (504, False, False)
    assert record.done_at is not None and record.done_at - record.at >= SHORT * 3 * 0.9


async def test_timeout_after_performing_delivers(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.faults.timeout(SHORT * 3, performed=True, chat_id=1001)
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "arrived", read_timeout=SHORT)
    assert [m.text for m in alice.inbox] == ["arrived"]  # before the late answer
    await sandbox.wait_idle(quiet=0.01, timeout=2)
    [record] = sandbox.call_log.sends(1001)
    assert (record.status, record.performed, record.ok) == (200, True, False)


async def test_dropped_connection(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.faults.drop_connection(method="sendMessage")
    with pytest.raises(NetworkError) as info:
        await bot.send_message(1001, "dropped")
    assert not isinstance(info.value, TimedOut)
    assert alice.inbox == []
    sandbox.faults.drop_connection(method="sendMessage", performed=True)
    with pytest.raises(NetworkError):
        await bot.send_message(1001, "delivered, answer lost")
    assert [m.text for m in alice.inbox] == ["delivered, answer lost"]
    await bot.send_message(1001, "fine again")  # the client recovers on a new connection
    first, second, third = sandbox.call_log.sends(1001)
    assert (first.status, first.performed) == (None, False)
    assert (second.status, second.performed) == (None, True)
    assert third.ok


async def test_dropped_connection_with_raw_http(sandbox: BotApiSandbox) -> None:
    sandbox.faults.drop_connection(method="getMe")
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"{sandbox.api_url}{TOKEN}/getMe")
        assert (await client.post(f"{sandbox.api_url}{TOKEN}/getMe")).status_code == 200


async def test_faults_fire_the_given_number_of_times_in_order(
    sandbox: BotApiSandbox, bot: telegram.Bot
) -> None:
    alice = sandbox.user(1001, "Alice")
    first = sandbox.faults.server_error(503, times=2)
    second = sandbox.faults.too_many_requests(1)
    outcomes: list[str] = []
    for n in range(4):
        try:
            await bot.send_message(1001, f"try {n}")
            outcomes.append("ok")
        except RetryAfter:
            outcomes.append("429")
        except NetworkError:
            outcomes.append("5xx")
    assert outcomes == ["5xx", "5xx", "429", "ok"]
    assert (first.fired, second.fired) == (2, 1)
    assert [f.fault for f in sandbox.faults.fired] == [first, first, second]
    assert [m.text for m in alice.inbox] == ["try 3"]


async def test_match_by_chat(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice, bob = sandbox.user(1001, "Alice"), sandbox.user(1002, "Bob")
    sandbox.faults.too_many_requests(1, chat_id=1002)
    await bot.send_message(1001, "to Alice")
    await bot.send_chat_action(1001, "typing")
    with pytest.raises(RetryAfter):
        await bot.send_chat_action(1002, "typing")  # any method naming that chat
    await bot.send_message(1002, "to Bob")
    assert [m.text for m in alice.inbox] == ["to Alice"]
    assert [m.text for m in bob.inbox] == ["to Bob"]


async def test_until_removed_and_get_updates(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    fault = sandbox.faults.server_error(500, times=None)
    assert await bot.get_updates() == ()  # a wildcard leaves polling alone
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.get_me()
    sandbox.faults.remove(fault)
    assert (await bot.get_me()).is_bot
    assert fault.fired == 3
    sandbox.faults.drop_connection(include_get_updates=True)
    with pytest.raises(NetworkError):
        await bot.get_updates()
    sandbox.faults.too_many_requests(3, method="getupdates")  # names are case-insensitive
    with pytest.raises(RetryAfter):
        await bot.get_updates()
    sandbox.faults.server_error(502, times=None)
    sandbox.faults.clear()
    assert (await bot.get_me()).is_bot


def test_bad_fault_arguments(sandbox: BotApiSandbox) -> None:
    with pytest.raises(ValueError, match="no method"):
        sandbox.faults.server_error(method="sendMesage")
    with pytest.raises(ValueError, match="5xx"):
        sandbox.faults.server_error(404)
    with pytest.raises(ValueError):
        sandbox.faults.too_many_requests(0)
    with pytest.raises(ValueError):
        sandbox.faults.timeout(1.0, times=0)


async def test_block_answers_403(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    alice.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "hello?")
    alice.unblock()
    await bot.send_message(1001, "hello")
    blocked, sent = sandbox.call_log.sends(1001)
    assert (blocked.status, blocked.description) == (403, "Forbidden: bot was blocked by the user")
    assert sent.ok


async def test_call_log_times_for_pacing(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.user(1001, "Alice")
    sandbox.user(1002, "Bob")
    loop = asyncio.get_running_loop()
    before = loop.time()
    await bot.send_message(1001, "a")
    await bot.send_message(1002, "b")
    await asyncio.sleep(0.15)
    await bot.send_message(1001, "c")
    await bot.get_me()
    log = sandbox.call_log
    ours = log[-4:]  # the Bot's own getMe at start-up came first
    assert [r.method for r in ours] == ["sendMessage", "sendMessage", "sendMessage", "getMe"]
    assert all(before <= r.at <= loop.time() for r in ours)
    assert [r.at for r in log] == sorted(r.at for r in log)
    assert [r.chat_id for r in log.sends()] == [1001, 1002, 1001]
    assert min_gap(log.sends(1001)) >= 0.14
    assert min_gap(log.sends()) < min_gap(log.sends(1001))
    assert min_gap(log.sends(1002)) == float("inf")
    assert max_in_window(log.sends(), 0.15) == 2
    assert max_in_window(log.sends(), 10) == 3
    assert log.of("getMe")[-1] is ours[-1]
    assert [name for name, _ in sandbox.calls] == [r.method for r in log]  # the plain list is kept


async def test_waited_retry_after_is_measurable(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    sandbox.user(1001, "Alice")
    sandbox.faults.too_many_requests(1, chat_id=1001)
    try:
        await bot.send_message(1001, "x")
    except RetryAfter as exc:
        await asyncio.sleep(seconds(exc))
    await bot.send_message(1001, "x")
    refused, accepted = sandbox.call_log.sends(1001)
    assert refused.retry_after == 1
    assert accepted.at - refused.at >= refused.retry_after


async def test_delivered_keeps_order_and_deleted_messages(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    alice, bob = sandbox.user(1001, "Alice"), sandbox.user(1002, "Bob")
    first = await bot.send_message(1001, "one")
    await bot.send_message(1002, "for Bob")
    await alice.send_text("a reply from Alice")
    await bot.send_message(1001, "two")
    await bot.delete_message(1001, first.message_id)
    assert [m.text for m in sandbox.delivered(1001)] == ["one", "two"]
    assert [m.deleted for m in alice.delivered] == [True, False]
    assert [m.text for m in alice.inbox] == ["two"]
    assert [m.text for m in bob.delivered] == ["for Bob"]
    assert sandbox.delivered(4242) == []


async def test_stop_does_not_wait_for_a_slow_answer() -> None:
    box = BotApiSandbox(token=TOKEN)
    await box.start()
    try:
        async with telegram.Bot(TOKEN, base_url=box.api_url) as client:
            box.faults.timeout(30)
            with pytest.raises(TimedOut):
                await client.get_me(read_timeout=SHORT)
    finally:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await box.stop()
    assert loop.time() - started < 0.5
