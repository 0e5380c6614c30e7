"""Webhook mode: Telegram POSTs each update to us; we answer 200 only once it is stored.

Telegram keeps retrying an update until it gets a 2xx, so storing before answering is all durability
needs. Every request must carry the secret token set with setWebhook (the header
X-Telegram-Bot-Api-Secret-Token); anything else gets 403 and is not looked at further. The public URL
is usually a reverse proxy's (Telegram wants HTTPS on port 443, 80, 88 or 8443), which forwards to the
local address this server listens on.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot

from bot.intake import Intake

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kilobytes; a megabyte is something else


class Webhook:
    def __init__(
        self, bot: Bot, intake: Intake, url: str, listen: tuple[str, int], allowed_updates: list[str]
    ):
        self._bot = bot
        self._intake = intake
        self._url = url
        self._host, self._port = listen
        self._allowed_updates = allowed_updates
        # A fresh secret at every start: setWebhook tells Telegram, so no one needs to configure one.
        self._secret = secrets.token_urlsafe(32)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the port actually listened on (the one given, or the free one chosen)

    @property
    def path(self) -> str:
        return urlsplit(self._url).path or "/"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self.path, self._receive)
        # No access log: it is noise, and a misconfigured proxy could put secrets in paths.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = _bound_port(site, self._port)
        # Listening before telling Telegram, so the first delivery finds us. One connection at a time keeps
        # each chat's updates in order; storing takes milliseconds, so it costs nothing.
        await self._bot.set_webhook(
            self._url,
            secret_token=self._secret,
            allowed_updates=self._allowed_updates,
            max_connections=1,
        )
        log.info("webhook set; listening on %s:%s%s", self._host, self.port, self.path)

    async def stop(self) -> None:
        """Stop taking updates. The webhook stays set: Telegram queues updates until we are back."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # aiohttp decodes header bytes with surrogateescape: encode them back the same way, never fail.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret.encode()):
            return web.Response(status=403)
        try:
            update = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        # A database failure raises here and aiohttp answers 500: Telegram will send the update again.
        await self._intake.store([update])
        return web.Response(status=200)


def _bound_port(site: web.TCPSite, asked: int) -> int:
    server = site._server
    sockets = getattr(server, "sockets", None)
    return int(sockets[0].getsockname()[1]) if sockets else asked
