"""Webhook mode: the sandbox posts updates to a routed local URL, as Telegram does."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import telegram
from aiohttp import web
from telegram.error import BadRequest, Conflict

from bot.sandbox import SECRET_HEADER, BotApiSandbox
from tests.sandbox.conftest import TOKEN

PUBLIC = "https://bot.example.com/telegram"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A stand-in for the bot's webhook server: records posts and answers from a script."""

    def __init__(self) -> None:
        self.url = ""
        self.received: list[Received] = []
        self.answers: list[int] = []  # statuses to answer next; 200 once used up
        self.secret: str | None = None  # when set, a post without this secret gets 403
        self.delay = 0.0
        self.active = 0
        self.most_active = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            body = await request.read()
            await asyncio.sleep(self.delay)
            if self.secret is not None and request.headers.get(SECRET_HEADER) != self.secret:
                status = 403
            else:
                status = self.answers.pop(0) if self.answers else 200
            self.received.append(Received(request.path_qs, dict(request.headers), body, status))
            return web.Response(status=status)
        finally:
            self.active -= 1

    @property
    def accepted(self) -> list[Any]:
        return [r.json for r in self.received if r.status == 200]

    async def wait_accepted(self, count: int, timeout: float = 3.0) -> list[Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.accepted) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{len(self.accepted)} of {count} posts accepted: {self.received}")
            await asyncio.sleep(0.01)
        return self.accepted


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", hook.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    hook.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield hook
    await runner.cleanup()


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    # Quick retries and a short webhook timeout keep these tests fast.
    async with BotApiSandbox(token=TOKEN, webhook_backoff=(0.01, 0.05), webhook_timeout=0.5) as box:
        yield box


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_updates_are_posted_in_order_with_the_secret(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.route_webhook(PUBLIC, f"{receiver.url}/telegram")
    await alice.send_text("before the webhook")
    assert await bot.set_webhook(PUBLIC, secret_token="s3cret_-X", max_connections=1)
    await alice.send_text("one")
    await alice.send_text("two")
    posts = await receiver.wait_accepted(3)
    assert [p["message"]["text"] for p in posts] == ["before the webhook", "one", "two"]
    assert [p["update_id"] for p in posts] == [1, 2, 3]
    first = receiver.received[0]
    assert first.path == "/telegram"
    assert first.headers[SECRET_HEADER] == "s3cret_-X"
    assert first.headers["Content-Type"] == "application/json"
    await sandbox.wait_idle(quiet=0.01, timeout=2)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (PUBLIC, 0, 1)
    assert info.last_error_date is None and info.last_error_message is None
    assert sandbox.pending_updates == 0 and sandbox.updates_created == 3
    with pytest.raises(Conflict):
        await bot.get_updates()


async def test_no_secret_header_without_a_secret(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    await bot.set_webhook(PUBLIC)
    await sandbox.user(1001, "Alice").send_text("hi")
    await receiver.wait_accepted(1)
    assert SECRET_HEADER not in receiver.received[0].headers
    assert (await bot.get_webhook_info()).max_connections == 40


async def test_refused_posts_are_retried_until_accepted(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    receiver.answers = [500, 503, 404]
    await bot.set_webhook(PUBLIC, secret_token="abc")
    await alice.send_text("first")
    await alice.send_text("second")
    posts = await receiver.wait_accepted(2)
    assert [p["message"]["text"] for p in posts] == ["first", "second"]
    # The second update waited until the first was accepted.
    assert [(r.json["update_id"], r.status) for r in receiver.received] == [
        (1, 500),
        (1, 503),
        (1, 404),
        (1, 200),
        (2, 200),
    ]
    assert [(a.update_id, a.status, a.accepted) for a in sandbox.webhook_attempts] == [
        (1, 500, False),
        (1, 503, False),
        (1, 404, False),
        (1, 200, True),
        (2, 200, True),
    ]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 404 Not Found"
    assert info.last_error_date is not None
    assert info.pending_update_count == 0


async def test_one_post_at_a_time(sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    receiver.delay = 0.03
    for n in range(5):
        await alice.send_text(f"m{n}")
    await bot.set_webhook(PUBLIC, max_connections=1)
    posts = await receiver.wait_accepted(5)
    assert [p["message"]["text"] for p in posts] == [f"m{n}" for n in range(5)]
    assert receiver.most_active == 1


async def last_error(sandbox: BotApiSandbox, bot: telegram.Bot, expected: str) -> None:
    """Wait until getWebhookInfo reports ``expected`` as the last delivery error."""
    for _ in range(300):
        if (await bot.get_webhook_info()).last_error_message == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"last error never became {expected!r}: {sandbox.webhook_attempts}")


async def test_unrouted_refused_and_slow_webhooks_are_retried(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    alice = sandbox.user(1001, "Alice")
    await bot.set_webhook(PUBLIC)
    await alice.send_text("waiting")
    await last_error(sandbox, bot, "Failed to resolve host: Name or service not known")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert sandbox.webhook_attempts[0].target is None

    sandbox.route_webhook(PUBLIC, f"http://127.0.0.1:{free_port()}/telegram")
    await last_error(sandbox, bot, "Connection refused")

    receiver.delay = 0.7  # longer than the sandbox's webhook timeout
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    await last_error(sandbox, bot, "Read timeout expired")
    receiver.delay = 0
    await receiver.wait_accepted(1, timeout=3)
    await sandbox.wait_idle(quiet=0.01, timeout=3)
    assert sandbox.pending_updates == 0
    last = sandbox.webhook_attempts[-1]
    assert (last.status, last.error, last.accepted) == (200, None, True)
    assert {a.status for a in sandbox.webhook_attempts[:-1]} == {None}  # no answer before that one


async def test_routes_map_paths_below_a_public_prefix(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    sandbox.route_webhook("https://bot.example.com", receiver.url)
    sandbox.route_webhook("https://bot.example.com/other", "http://127.0.0.1:1/never")
    await bot.set_webhook("https://bot.example.com:8443/hook/abc?x=1")  # another port: not routed
    await bot.set_webhook("https://bot.example.com/hook/abc?x=1")
    await sandbox.user(1001, "Alice").send_text("hi")
    await receiver.wait_accepted(1)
    assert receiver.received[0].path == "/hook/abc?x=1"
    assert sandbox.webhook_attempts[-1].target == receiver.url + "/hook/abc?x=1"


async def test_delete_webhook_stops_delivery(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    alice = sandbox.user(1001, "Alice")
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    await bot.set_webhook(PUBLIC)
    await alice.send_text("posted")
    await receiver.wait_accepted(1)
    assert await bot.delete_webhook()
    await alice.send_text("polled")
    await asyncio.sleep(0.1)
    assert len(receiver.received) == 1
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.text == "polled"
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 1


async def test_drop_pending_updates(sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send_text("old")
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    await bot.set_webhook(PUBLIC, drop_pending_updates=True)
    await alice.send_text("new")
    posts = await receiver.wait_accepted(1)
    await asyncio.sleep(0.05)
    assert [p["message"]["text"] for p in posts] == ["new"]


async def test_allowed_updates_apply_to_the_webhook(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    alice = sandbox.user(1001, "Alice")
    sent = await bot.send_message(
        1001,
        "pick",
        reply_markup=telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Yes", callback_data="yes")]]
        ),
    )
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    await bot.set_webhook(PUBLIC, allowed_updates=["callback_query"])
    await alice.send_text("ignored")
    await alice.press(sent.message_id, "Yes")
    [post] = await receiver.wait_accepted(1)
    assert post["callback_query"]["data"] == "yes"
    assert (await bot.get_webhook_info()).allowed_updates == ("callback_query",)


async def test_set_webhook_checks(sandbox: BotApiSandbox, bot: telegram.Bot) -> None:
    refusals = [
        ("http://bot.example.com/telegram", None, "bad webhook: An HTTPS URL must be provided for webhook"),
        (
            "https://bot.example.com:8080/telegram",
            None,
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        (PUBLIC, "123456:TEST", "secret token contains unallowed characters"),
    ]
    for url, secret, description in refusals:
        with pytest.raises(BadRequest) as info:
            await bot.set_webhook(url, secret_token=secret)
        assert info.value.message.lower() == description.lower()  # PTB re-capitalises it
    assert sandbox.webhook is None
    assert await bot.set_webhook("https://bot.example.com:88/telegram", secret_token="A-z_09")


async def test_posting_to_the_webhook_directly(
    sandbox: BotApiSandbox, bot: telegram.Bot, receiver: Receiver
) -> None:
    sandbox.route_webhook(PUBLIC, receiver.url + "/telegram")
    receiver.secret = "right"
    await bot.set_webhook(PUBLIC, secret_token="right")
    update = {"update_id": 99, "message": {"text": "forged"}}
    assert (await sandbox.post_to_webhook(update, headers={})).status == 403
    assert (await sandbox.post_to_webhook(update, headers={SECRET_HEADER: "wrong"})).status == 403
    assert (await sandbox.post_to_webhook(update)).status == 200  # what Telegram would send
    reply = await sandbox.post_to_webhook(b"{not json", url=PUBLIC + "/sub", headers={SECRET_HEADER: "right"})
    assert reply.status == 200
    assert [(r.path, r.body[:9]) for r in receiver.received] == [
        ("/telegram", b'{"update_'),
        ("/telegram", b'{"update_'),
        ("/telegram", b'{"update_'),
        ("/telegram/sub", b"{not json"),
    ]
    assert receiver.received[0].headers["Content-Type"] == "application/json"
    assert sandbox.webhook_attempts == []  # direct posts are not deliveries
    with pytest.raises(LookupError):
        await sandbox.post_to_webhook(update, url="https://elsewhere.example.com/")


async def test_stop_while_retrying_is_prompt(receiver: Receiver) -> None:
    box = BotApiSandbox(token=TOKEN, webhook_backoff=(0.01, 0.05), webhook_timeout=5)
    await box.start()
    loop = asyncio.get_running_loop()
    try:
        async with telegram.Bot(TOKEN, base_url=box.api_url) as client:
            box.route_webhook(PUBLIC, receiver.url + "/telegram")
            receiver.delay = 3  # the sandbox is waiting for this answer when it stops
            await client.set_webhook(PUBLIC)
            await box.user(1001, "Alice").send_text("hi")
            await asyncio.sleep(0.1)
            assert receiver.active == 1
    finally:
        started = loop.time()
        await box.stop()
    assert loop.time() - started < 0.5
    assert box.pending_updates == 1  # never accepted, so still pending
