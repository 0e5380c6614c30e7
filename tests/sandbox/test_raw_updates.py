"""Raw (possibly malformed) updates: queued as given, handed out unchanged, counted sensibly."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import telegram

from bot.sandbox import BotApiSandbox
from tests.sandbox.conftest import TOKEN
from tests.sandbox.test_webhook_delivery import PUBLIC, Receiver, receiver

__all__ = ["receiver"]  # the fixture, shared with the webhook tests


@pytest.fixture
async def client(sandbox: BotApiSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sandbox.api_url}{TOKEN}/") as c:
        yield c


async def poll(client: httpx.AsyncClient, **params: Any) -> list[Any]:
    reply = (await client.post("getUpdates", json=params)).json()
    assert reply["ok"], reply
    result: list[Any] = reply["result"]
    return result


WEIRD: list[Any] = [
    {"update_id": "7", "message": {"text": "id is a string"}},
    {"update_id": None},
    {"update_id": 1.5, "message": None},
    {"update_id": True, "callback_query": []},
    {"update_id": -3, "message": {"text": 1}},
    ["not", "an", "object"],
    "just a string",
    None,
    42,
]


async def test_object_without_an_id_gets_the_next_one(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send_text("normal")
    assert await sandbox.push_raw_update({"message": {"text": "raw", "date": "yesterday"}}) == 2
    assert await sandbox.push_raw_update({}) == 3  # not even a kind
    await alice.send_text("normal again")
    assert await poll(client) == [
        {"update_id": 1, "message": alice.transcript[0].raw},
        {"update_id": 2, "message": {"text": "raw", "date": "yesterday"}},
        {"update_id": 3},
        {"update_id": 4, "message": alice.transcript[1].raw},
    ]
    assert (sandbox.updates_created, sandbox.last_update_id) == (4, 4)


async def test_weird_payloads_are_handed_out_unchanged(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    for payload in WEIRD:
        assert await sandbox.push_raw_update(payload) == (-3 if payload == WEIRD[4] else None)
    assert await poll(client) == WEIRD
    assert sandbox.updates_created == len(WEIRD)
    assert sandbox.last_update_id == 0  # none of them carried a usable id


async def test_weird_updates_survive_allowed_updates_filtering(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    alice = sandbox.user(1001, "Alice")
    await sandbox.push_raw_update({"update_id": 50})
    await sandbox.push_raw_update({"chat_member": {"bogus": True}})  # a kind the bot did not ask for
    await alice.send_text("filtered out")  # a real update of a disallowed kind is never created
    await sandbox.push_raw_update([1, 2])
    got = await poll(client, allowed_updates=["callback_query"])
    assert got == [{"update_id": 50}, {"update_id": 51, "chat_member": {"bogus": True}}, [1, 2]]


async def test_offsets_confirm_raw_updates_riding_along(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send_text("one")  # id 1
    await sandbox.push_raw_update({"update_id": "x"})
    await sandbox.push_raw_update({"update_id": 1, "message": {"text": "duplicate id"}})
    await alice.send_text("two")  # id 2
    await sandbox.push_raw_update(None)
    assert len(await poll(client)) == 5
    # Confirming id 1 also confirms what came between it and id 2.
    rest = await poll(client, offset=2)
    assert [u["update_id"] if isinstance(u, dict) else u for u in rest] == [2, None]
    assert sandbox.pending_updates == 2
    assert await poll(client, offset=3) == []  # the null update rode along with id 2
    assert sandbox.pending_updates == 0


async def test_a_fresh_integer_id_moves_the_counter(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send_text("one")
    assert await sandbox.push_raw_update({"update_id": 1000, "message": {"text": "far ahead"}}) == 1000
    await alice.send_text("after")
    # Later ids stay above it, so confirming it cannot swallow them.
    assert [u["update_id"] for u in await poll(client)] == [1, 1000, 1001]
    assert (sandbox.last_update_id, sandbox.updates_created) == (1001, 3)
    assert [u["update_id"] for u in await poll(client, offset=1001)] == [1001]
    assert await poll(client, offset=1002) == []


async def test_explicit_update_id(sandbox: BotApiSandbox, client: httpx.AsyncClient) -> None:
    assert await sandbox.push_raw_update({"message": {}}, update_id=5) == 5
    assert await sandbox.push_raw_update({"message": {}}, update_id=5) == 5  # a duplicate
    assert await poll(client) == [{"update_id": 5, "message": {}}, {"update_id": 5, "message": {}}]
    with pytest.raises(ValueError):
        await sandbox.push_raw_update({"update_id": 1}, update_id=2)
    with pytest.raises(ValueError):
        await sandbox.push_raw_update([], update_id=2)


async def test_only_json_values(sandbox: BotApiSandbox) -> None:
    with pytest.raises(ValueError):
        await sandbox.push_raw_update({"x": float("nan")})
    with pytest.raises(TypeError):
        await sandbox.push_raw_update({"x": {1, 2}})
    assert sandbox.updates_created == 0


async def test_later_changes_to_the_payload_do_not_leak(
    sandbox: BotApiSandbox, client: httpx.AsyncClient
) -> None:
    payload: dict[str, Any] = {"update_id": 1, "message": {"text": "as pushed"}}
    await sandbox.push_raw_update(payload)
    payload["message"]["text"] = "changed"
    assert (await poll(client))[0]["message"]["text"] == "as pushed"


async def test_raw_updates_over_the_webhook(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    await bot.set_webhook(PUBLIC, allowed_updates=["message"])
    for payload in WEIRD:
        await sandbox.push_raw_update(payload)
    assert await receiver.wait_accepted(len(WEIRD)) == WEIRD
    await sandbox.wait_idle(quiet=0.01, timeout=2)
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_wait_idle_counts_raw_updates(sandbox: BotApiSandbox, client: httpx.AsyncClient) -> None:
    await sandbox.push_raw_update("x")
    with pytest.raises(AssertionError, match="1 updates not handed out"):
        await sandbox.wait_idle(quiet=0.01, timeout=0.1)
    await poll(client)
    await sandbox.wait_idle(quiet=0.01, timeout=1)
