"""BotApiSandbox: an in-process HTTP server speaking the Telegram Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.sandbox import transport
from bot.sandbox.errors import NOT_FOUND, UNAUTHORIZED, ApiError
from bot.sandbox.methods import HANDLERS
from bot.sandbox.params import decode_params
from bot.sandbox.state import Chat, World
from bot.sandbox.user import SandboxUser

log = logging.getLogger(__name__)


class BotApiSandbox:
    """Serves the Bot API for one bot token on 127.0.0.1 and lets tests act as users."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "guanjia_bot",
        bot_name: str = "管家",
    ) -> None:
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

    async def stop(self) -> None:
        if self._runner is None:
            return
        # Release waiting long polls first so shutdown does not wait for their timeouts.
        self._world.closing = True
        await self._world.notify()
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
        return len(self._world.updates)

    @property
    def updates_created(self) -> int:
        """How many updates users have produced so far (update ids start at 1)."""
        return self._world.last_update_id

    @property
    def commands(self) -> dict[str, list[dict[str, str]]]:
        return self._world.commands

    @property
    def webhook(self) -> dict[str, Any] | None:
        return self._world.webhook

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
            self._world.calls.append((name, {}))
            self._world.rejections.append((name, {}, NOT_FOUND.description))
            return transport.reply_error(NOT_FOUND)
        return await self._call(method, request)

    async def _call(self, method: str, request: web.Request) -> web.Response:
        world = self._world
        polling = method == "getUpdates"
        if not polling:
            world.in_flight += 1
            world.touch()
        params: dict[str, Any] = {}
        recorded = False
        try:
            # Undecodable requests are recorded with their raw parameters.
            params = await transport.read_params(request)
            params = decode_params(method, params)
            world.calls.append((method, params))
            recorded = True
            result = await HANDLERS[method](world, params)
            return transport.reply_ok(result)
        except ApiError as error:
            if not recorded:
                world.calls.append((method, params))
            world.rejections.append((method, params, error.description))
            return transport.reply_error(error)
        except Exception:
            log.exception("sandbox failed handling %s", method)
            world.rejections.append((method, params, "Internal Server Error"))
            return transport.reply_error(ApiError(500, "Internal Server Error"))
        finally:
            if not polling:
                world.in_flight -= 1
                world.touch()
                await world.notify()

    def _download(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        record = self._world.files.by_path(file_path) if token == self._token else None
        if record is None:
            return transport.reply_error(NOT_FOUND)
        return web.Response(body=record.data, content_type="application/octet-stream")
