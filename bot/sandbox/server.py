"""BotApiSandbox: an in-process HTTP server speaking the Telegram Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.sandbox import transport
from bot.sandbox.calllog import CallLog, CallRecord
from bot.sandbox.errors import NOT_FOUND, UNAUTHORIZED, ApiError
from bot.sandbox.faults import Fault, FaultKind, Faults
from bot.sandbox.limits import TelegramLimits
from bot.sandbox.methods import HANDLERS
from bot.sandbox.models import ChatMessage
from bot.sandbox.params import decode_params
from bot.sandbox.state import Chat, Watcher, World
from bot.sandbox.user import SandboxUser
from bot.sandbox.webhook import SECRET_HEADER, WebhookAttempt, WebhookDelivery, WebhookReply

log = logging.getLogger(__name__)


class BotApiSandbox:
    """Serves the Bot API for one bot token on 127.0.0.1 and lets tests act as users.

    Beyond the API itself, tests get: ``faults`` (429, 5xx, timeouts and dropped connections on
    demand, see bot.sandbox.faults), ``call_log`` (every request with its loop time and outcome,
    see bot.sandbox.calllog), ``delivered(chat_id)`` (a chat's bot messages in order), webhook
    delivery to a routed local URL (``route_webhook``, ``webhook_attempts``, ``post_to_webhook``)
    and ``push_raw_update`` for malformed updates, and ``limits``: Telegram's sending limits
    (429 for a bot sending too fast, see bot.sandbox.limits), off (None) by default. Faulted and
    rate-limited requests appear in ``calls`` and ``call_log`` like any other, but never in
    ``rejections``, which lists only what the real API would refuse as malformed.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "guanjia_bot",
        bot_name: str = "管家",
        *,
        webhook_timeout: float = 10.0,
        webhook_backoff: tuple[float, float] = (0.05, 1.0),
        limits: TelegramLimits | None = None,
    ) -> None:
        """``webhook_timeout``: how long a webhook POST may take; ``webhook_backoff``: the first
        and the longest pause before posting a refused update again (the pause doubles);
        ``limits``: enforce Telegram's sending limits (also settable later as ``self.limits``)."""
        self._token = token
        prefix = token.split(":", 1)[0]
        bot_user = {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._world = World(bot_user)
        self._users: dict[int, SandboxUser] = {}
        self._runner: web.AppRunner | None = None
        self._base = ""
        self._delivery = WebhookDelivery(self._world, webhook_timeout, webhook_backoff)
        self.faults = Faults()
        self.call_log = CallLog()
        self.limits = limits  # None: no sending limits (the default); set or clear at any time

    def __repr__(self) -> str:
        # Never show the token.
        return f"BotApiSandbox(@{self._world.bot_user['username']}, {self._base or 'stopped'})"

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # access_log=None: request paths contain the token.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        bound_port = server.sockets[0].getsockname()[1]
        self._base = f"http://{host}:{bound_port}"
        self._world.closing = False
        self._delivery.start()

    async def stop(self) -> None:
        if self._runner is None:
            return
        # Release waiting long polls and slow answers first so shutdown does not wait for them.
        self._world.closing = True
        await self._world.notify()
        await self._delivery.stop()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> BotApiSandbox:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        if not self._base:
            raise RuntimeError("sandbox not started")
        return f"{self._base}/bot"

    @property
    def file_url(self) -> str:
        if not self._base:
            raise RuntimeError("sandbox not started")
        return f"{self._base}/file/bot"

    # -- test-facing state --------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> SandboxUser:
        """The user (and their private chat); the same id always gives the same handle."""
        if user_id in self._users:
            return self._users[user_id]
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        chat = Chat(user=user)
        self._world.chats[user_id] = chat
        handle = SandboxUser(self._world, chat)
        self._users[user_id] = handle
        return handle

    @property
    def bot_user(self) -> dict[str, Any]:
        return dict(self._world.bot_user)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return self._world.calls

    @property
    def rejections(self) -> list[tuple[str, dict[str, Any], str]]:
        return self._world.rejections

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by getUpdates' offset (or, with a webhook, not yet accepted)."""
        return len(self._world.updates)

    @property
    def updates_created(self) -> int:
        """How many updates were queued so far: users' and raw ones."""
        return self._world.updates_created

    @property
    def last_update_id(self) -> int:
        """The highest integer update_id queued so far (0 before the first update)."""
        return self._world.last_update_id

    async def push_raw_update(self, payload: Any, update_id: int | None = None) -> int | None:
        """Queue ``payload`` (any JSON value, possibly malformed) as an update, handed out unchanged.

        An object without an "update_id" key gets one first: ``update_id`` if given, else the next
        id. A payload's own "update_id" is left as it is, even if wrongly typed. Raw updates are not
        filtered by allowed_updates. Returns the integer update_id it carries, else None.
        An integer id above every earlier one is a real id: later updates are numbered after it.
        Any other (missing, wrongly typed, repeated or lower) rides along with the update queued
        before it: the getUpdates offset that confirms that one confirms it too.
        """
        return await self._world.push_raw(payload, update_id)

    def delivered(self, chat_id: int) -> list[ChatMessage]:
        """Every message the bot delivered to the chat, in delivery order (deleted ones included)."""
        chat = self._world.chats.get(chat_id)
        return [] if chat is None else list(chat.delivered)

    def watch(self, watcher: Watcher) -> None:
        """Tell ``watcher`` of every update handed out and every bot message delivered, as it happens."""
        self._world.watchers.append(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        self._world.watchers.remove(watcher)

    @property
    def commands(self) -> dict[str, list[dict[str, str]]]:
        return self._world.commands

    @property
    def webhook(self) -> dict[str, Any] | None:
        return self._world.webhook

    # -- webhook mode -------------------------------------------------------------------

    def route_webhook(self, public_url: str, local_url: str) -> None:
        """Play the reverse proxy: posts to ``public_url`` (or a path below it) go to ``local_url``.

        E.g. route_webhook("https://bot.example.com/telegram", "http://127.0.0.1:8443/telegram").
        A webhook URL without a route fails delivery as an unresolvable host, retried until routed.
        """
        self._delivery.routes.add(public_url, local_url)

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """Every webhook POST so far: update_id, status received (None: no answer), error text."""
        return self._delivery.attempts

    async def post_to_webhook(
        self,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        url: str | None = None,
    ) -> WebhookReply:
        """POST ``body`` straight to the bot's webhook, e.g. as a stranger without the secret.

        ``body``: bytes or str are sent as they are, anything else JSON-encoded. ``headers`` None
        sends what Telegram would (the secret header if one was set); otherwise exactly these, plus
        Content-Type: application/json unless given. ``url``: a routed public URL; default the
        webhook the bot set.
        """
        hook = self._world.webhook
        if url is None:
            if hook is None:
                raise RuntimeError("no webhook set; pass url")
            url = str(hook["url"])
        if headers is None:
            headers = {SECRET_HEADER: hook["secret_token"]} if hook and hook.get("secret_token") else {}
        sent = dict(headers)
        if not any(name.lower() == "content-type" for name in sent):
            sent["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False).encode()
        return await self._delivery.post(url, body, sent)

    async def wait_idle(self, quiet: float = 0.05, timeout: float = 5.0) -> None:
        """Return once all updates were handed out and the bot made no request for ``quiet``s."""
        world = self._world
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with world.cond:
            while True:
                now = loop.time()
                settled = world.undelivered() == 0 and world.in_flight == 0
                silent_for = now - world.last_activity
                if settled and silent_for >= quiet:
                    return
                if now >= deadline:
                    raise AssertionError(
                        f"sandbox not idle after {timeout}s: {world.undelivered()} updates "
                        f"not handed out, {world.in_flight} requests in flight"
                    )
                wait = deadline - now
                if settled:
                    wait = min(wait, quiet - silent_for)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(world.cond.wait(), wait)

    # -- HTTP ---------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._download(path.removeprefix("/file/bot"))
        if not path.startswith("/bot"):
            return transport.reply_error(NOT_FOUND)
        token, _, name = path.removeprefix("/bot").partition("/")
        if token != self._token:
            return transport.reply_error(UNAUTHORIZED)
        method = transport.CANONICAL.get(name.lower())
        if method is None:
            at = asyncio.get_running_loop().time()
            self.call_log.append(
                CallRecord(name, at, status=404, description=NOT_FOUND.description, done_at=at)
            )
            self._world.calls.append((name, {}))
            self._world.rejections.append((name, {}, NOT_FOUND.description))
            return transport.reply_error(NOT_FOUND)
        return await self._call(method, request)

    async def _call(self, method: str, request: web.Request) -> web.StreamResponse:
        world = self._world
        polling = method == "getUpdates"
        record = CallRecord(method, asyncio.get_running_loop().time())
        self.call_log.append(record)
        if not polling:
            world.in_flight += 1
            world.touch()
        try:
            params: dict[str, Any] = {}
            try:
                # Undecodable requests are recorded with their raw parameters.
                params = await transport.read_params(request)
                params = decode_params(method, params)
            except ApiError as error:
                record.params = params
                world.calls.append((method, params))
                world.rejections.append((method, params, error.description))
                return self._error(record, error)
            record.params = params
            world.calls.append((method, params))
            limits = self.limits  # the one that counted this call, even if swapped meanwhile
            try:
                admission = None if limits is None else limits.admit(method, params.get("chat_id"), record.at)
            except ApiError as error:
                return self._error(record, error)  # too fast, not malformed: kept out of rejections
            try:
                fault = self.faults.take(method, params, record.at)
                if fault is None:
                    return await self._perform(method, params, record)
                return await self._faulted(fault, request, record)
            finally:
                if limits is not None and admission is not None and not record.performed:
                    limits.cancel(admission)  # only sends that took effect count towards the limits
        finally:
            record.done_at = asyncio.get_running_loop().time()
            if not polling:
                world.in_flight -= 1
                world.touch()
                await world.notify()

    async def _perform(self, method: str, params: dict[str, Any], record: CallRecord) -> web.Response:
        world = self._world
        try:
            result = await HANDLERS[method](world, params)
        except ApiError as error:
            world.rejections.append((method, params, error.description))
            return self._error(record, error)
        except Exception:
            log.exception("sandbox failed handling %s", method)
            world.rejections.append((method, params, "Internal Server Error"))
            return self._error(record, ApiError(500, "Internal Server Error"))
        record.performed = True
        record.status = 200
        return transport.reply_ok(result)

    async def _faulted(self, fault: Fault, request: web.Request, record: CallRecord) -> web.StreamResponse:
        """Answer with ``fault`` (after performing the call for real, if the fault says so)."""
        done = await self._perform(record.method, record.params, record) if fault.performed else None
        record.fault = fault
        if fault.kind is FaultKind.DROP:
            record.status, record.description, record.parameters = None, None, None
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never written: the connection is gone
        if fault.kind is FaultKind.TIMEOUT:
            world = self._world
            await world.wait_until(lambda: world.closing, fault.delay)
            if done is not None:
                return done
        return self._error(record, fault.error())

    @staticmethod
    def _error(record: CallRecord, error: ApiError) -> web.Response:
        record.status, record.description = error.error_code, error.description
        record.parameters = error.parameters
        return transport.reply_error(error)

    def _download(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        record = self._world.files.by_path(file_path) if token == self._token else None
        if record is None:
            return transport.reply_error(NOT_FOUND)
        return web.Response(body=record.data, content_type="application/octet-stream")
