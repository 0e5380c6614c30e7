"""`guanjia run`: the bot until SIGTERM or SIGINT, then a graceful stop (see bot/app.py `running`)."""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlsplit

from bot.app import ALLOWED_UPDATES, Settings, SourceFor, build_application, long_polling, running
from bot.webhook import Webhook

log = logging.getLogger(__name__)


def source_for(webhook_url: str | None, listen: str | None) -> SourceFor:
    """Long polling by default; a webhook when a public URL and a local address are given."""
    if webhook_url is None and listen is None:
        return long_polling()
    if webhook_url is None or listen is None:
        raise ValueError("--webhook and --listen go together")
    if urlsplit(webhook_url).scheme != "https":
        raise ValueError("the webhook URL must be https://, as Telegram requires")
    host, port = read_listen(listen)
    return lambda bot, intake: Webhook(bot, intake, webhook_url, (host, port), ALLOWED_UPDATES)


def read_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--listen wants HOST:PORT, e.g. 127.0.0.1:8443, not {listen!r}")
    return host.strip("[]"), int(port)


async def serve(settings: Settings, source: SourceFor) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    application = build_application(settings)
    async with running(application, source):
        await stop.wait()
        log.info("stopping: no more updates taken; finishing what is in hand")
    log.info("stopped")
