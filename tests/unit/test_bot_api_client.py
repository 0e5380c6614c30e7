"""The bot's own HTTP client sends what python-telegram-bot asks, and fails the way PTB's own client does."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import ChatMigrated, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.bot_api_client import AiohttpRequest, call

TOKEN = "123456:SECRET-token-never-shown"


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.delay = 0.0
        self.not_found = False
        self.refusal: tuple[int, bytes] | None = None  # (HTTP status, body) to answer instead

    async def handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        fields: dict[str, Any] = {}
        if request.content_type == "application/json":
            fields = await request.json()
        for name, value in (await request.post()).items():
            fields[name] = (value.filename, value.file.read()) if isinstance(value, web.FileField) else value
        method = request.path.rsplit("/", 1)[-1]
        if method == "getMe":  # what Bot.initialize asks first
            return web.json_response({"ok": True, "result": {"id": 9, "is_bot": True, "first_name": "管家"}})
        self.seen.append((method, fields))
        if self.refusal is not None:
            status, body = self.refusal
            return web.Response(status=status, body=body, content_type="application/json")
        if self.not_found:  # what Telegram answers once it no longer knows the token
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.json_response(
            {"ok": True, "result": {"message_id": 7, "date": 0, "chat": {"id": 1, "type": "private"}}}
        )


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/{path:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/bot", recorder
    await runner.cleanup()


async def test_a_message_goes_as_one_json_object_and_its_answer_comes_back(api: tuple[str, Recorder]) -> None:
    base_url, recorder = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton("接单", callback_data="accept:1001")]])
        message = await bot.send_message(1, "<b>厨房漏水</b>", parse_mode="HTML", reply_markup=buttons)
    assert message.message_id == 7
    ((method, fields),) = recorder.seen
    assert method == "sendMessage"
    assert fields == {
        "chat_id": 1,
        "text": "<b>厨房漏水</b>",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "接单", "callback_data": "accept:1001"}]]},
    }


async def test_a_file_goes_as_multipart_with_its_caption(api: tuple[str, Recorder]) -> None:
    base_url, recorder = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        await bot.send_document(
            1, InputFile(b"ticket,state\n1001,new\n", filename="tickets.csv"), caption="导出"
        )
    ((method, fields),) = recorder.seen
    assert method == "sendDocument"
    assert (fields["chat_id"], fields["caption"]) == ("1", "导出")
    assert fields["document"] == ("tickets.csv", b"ticket,state\n1001,new\n")


async def test_an_answer_too_slow_is_timed_out(api: tuple[str, Recorder]) -> None:
    base_url, recorder = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest(read_timeout=0.1)) as bot:
        recorder.delay = 1.0
        with pytest.raises(TimedOut):
            await bot.send_message(1, "来不及")


async def test_nobody_listening_is_a_network_error_that_does_not_show_the_token() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage")
    finally:
        await request.shutdown()
    assert not isinstance(raised.value, TimedOut)
    assert raised.value.message.startswith("aiohttp.")
    assert "SECRET" not in raised.value.message and "SECRET" not in repr(raised.value)


async def test_it_refuses_to_send_before_it_is_initialized() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/x", "POST")


async def test_a_raw_call_sends_plain_json_and_returns_telegrams_answer(api: tuple[str, Recorder]) -> None:
    base_url, recorder = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        answer = await call(
            bot, "sendMessage", {"chat_id": 1, "text": "你好", "link_preview_options": {"is_disabled": True}}
        )
    assert answer["message_id"] == 7
    assert recorder.seen == [
        ("sendMessage", {"chat_id": 1, "text": "你好", "link_preview_options": {"is_disabled": True}})
    ]


async def test_a_token_telegram_no_longer_knows_is_invalid_token_as_from_ptbs_own_methods(
    api: tuple[str, Recorder],
) -> None:
    base_url, recorder = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        recorder.not_found = True
        with pytest.raises(InvalidToken):
            await call(bot, "sendMessage", {"chat_id": 1, "text": "x"})


def _refused(status: int, description: str, **parameters: int) -> tuple[int, bytes]:
    answer: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return status, json.dumps(answer).encode()


REFUSALS = [
    _refused(400, "Bad Request: message text is empty"),
    _refused(403, "Forbidden: bot was blocked by the user"),
    _refused(401, "Unauthorized"),
    _refused(409, "Conflict: terminated by other getUpdates request"),
    _refused(429, "Too Many Requests: retry after 7", retry_after=7),
    _refused(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-1009),
    _refused(500, "Internal Server Error"),
    (502, b"<html>Bad Gateway</html>"),
]


@pytest.mark.parametrize("answer", REFUSALS, ids=lambda answer: str(answer[0]))
async def test_a_refusal_to_a_raw_call_raises_what_ptbs_own_methods_raise(
    api: tuple[str, Recorder], answer: tuple[int, bytes]
) -> None:
    base_url, recorder = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        recorder.refusal = answer
        with pytest.raises(TelegramError) as by_ptb:
            await bot.send_message(1, "x")
        with pytest.raises(TelegramError) as raw:
            await call(bot, "sendMessage", {"chat_id": 1, "text": "x"})
    assert type(raw.value) is type(by_ptb.value)
    if isinstance(by_ptb.value, RetryAfter):
        assert isinstance(raw.value, RetryAfter)
        assert raw.value.retry_after == by_ptb.value.retry_after
    elif isinstance(by_ptb.value, ChatMigrated):
        assert isinstance(raw.value, ChatMigrated)
        assert raw.value.new_chat_id == by_ptb.value.new_chat_id
    elif answer[0] != 502:  # Telegram's own words; PTB's text for a page not from the Bot API differs
        assert raw.value.message == by_ptb.value.message
    assert "SECRET" not in raw.value.message
