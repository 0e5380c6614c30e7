"""Requests other clients might send: JSON bodies, raw form values, legacy fields."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.sandbox import BotApiSandbox
from tests.sandbox.conftest import TOKEN


@pytest.fixture
async def client(sandbox: BotApiSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sandbox.api_url}{TOKEN}/") as c:
        yield c


async def call(client: httpx.AsyncClient, method: str, **kwargs: Any) -> dict[str, Any]:
    reply: dict[str, Any] = (await client.post(method, **kwargs)).json()
    return reply


async def test_json_body(sandbox: BotApiSandbox, client: httpx.AsyncClient) -> None:
    alice = sandbox.user(1001, "Alice")
    body = {
        "chat_id": "1001",
        "text": "<u>hi</u>",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Site", "url": "https://example.com"}]]},
    }
    reply = await call(client, "sendMessage", json=body)
    assert reply["ok"] and reply["result"]["text"] == "hi"
    assert alice.inbox[0].buttons == [[("Site", "url:https://example.com")]]
    reply = await call(client, "sendMessage", json={"chat_id": 1001, "text": "x", "bogus": 1})
    assert reply == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: unknown parameter bogus",
    }


async def test_form_values_are_typed_by_the_spec(sandbox: BotApiSandbox, client: httpx.AsyncClient) -> None:
    sandbox.user(1001, "Alice")
    ok = await call(client, "sendMessage", data={"chat_id": "1001", "text": "123", "protect_content": "true"})
    assert ok["ok"] and ok["result"]["text"] == "123" and ok["result"]["has_protected_content"]
    assert sandbox.calls[-1] == (
        "sendMessage",
        {"chat_id": 1001, "text": "123", "protect_content": True},
    )
    bad = await call(client, "sendMessage", data={"chat_id": "1001", "text": "x", "entities": "{}"})
    assert bad["error_code"] == 400
    bad = await call(client, "sendLocation", data={"chat_id": "1001", "latitude": "north"})
    assert bad["description"] == 'Bad Request: field "latitude" must be of type Float'
    legacy = await call(
        client,
        "sendMessage",
        data={"chat_id": "1001", "text": "re", "reply_to_message_id": "1"},
    )
    assert legacy["result"]["reply_to_message"]["message_id"] == 1
    assert len(sandbox.rejections) == 2


async def test_method_names_are_case_insensitive_and_token_checked(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    assert (await call(client, "getme"))["result"]["is_bot"] is True
    async with httpx.AsyncClient() as other:
        reply = await other.post(f"{sandbox.api_url}1:WRONG/getMe")
    assert reply.status_code == 401 and reply.json()["description"] == "Unauthorized"


async def test_user_side_kinds(sandbox: BotApiSandbox, client: httpx.AsyncClient) -> None:
    alice = sandbox.user(1001, "Alice")
    assert sandbox.user(1001) is alice
    await alice.send_sticker()
    await alice.send_location(31.23, 121.47)
    await alice.send_raw_message({"contact": {"phone_number": "+86100", "first_name": "A"}})
    reply = await call(client, "getUpdates")
    kinds = [
        next(k for k in u["message"] if k in ("sticker", "location", "contact")) for u in reply["result"]
    ]
    assert kinds == ["sticker", "location", "contact"]
    assert [m.kind for m in alice.transcript] == kinds
