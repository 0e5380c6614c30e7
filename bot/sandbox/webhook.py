"""Webhook delivery: while a webhook is set, POST each queued update to it, as Telegram does.

Real webhooks need a public HTTPS URL while the bot listens on a local HOST:PORT behind a
reverse proxy; ``routes`` plays the proxy, mapping the public URL to the local one. Updates go out
one at a time in update_id order (so max_connections=1 is honoured; larger values are not used for
parallel posts). A non-2xx answer or a connection error is recorded and the same update is retried
after a short, growing pause until it is accepted. What the bot answers in the body is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp

from bot.sandbox.state import Queued, World, now

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNRESOLVED = "Failed to resolve host: Name or service not known"


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update to the webhook."""

    update_id: Any  # the payload's update_id as sent (None when it has none)
    url: str  # the webhook URL the bot set
    target: str | None  # the local URL it was routed to (None: not routed)
    status: int | None  # the HTTP status the bot answered; None when no answer came
    error: str | None  # the failure as getWebhookInfo's last_error_message reports it
    at: float  # loop.time() when the POST started

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status <= 299


@dataclass(frozen=True)
class WebhookReply:
    status: int
    body: bytes


class Routes:
    """Public webhook URLs and the local URLs behind them."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def add(self, public_url: str, local_url: str) -> None:
        self._map[public_url.rstrip("/")] = local_url.rstrip("/")

    def resolve(self, url: str) -> str | None:
        """The local URL for ``url``: an exact route, else the longest route prefixing its path."""
        if url.rstrip("/") in self._map:
            return self._map[url.rstrip("/")]
        for public in sorted(self._map, key=len, reverse=True):
            rest = url[len(public) :]
            if url.startswith(public) and rest[:1] in ("/", "?"):
                return self._map[public] + rest
        return None


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class WebhookDelivery:
    """The sandbox's side of webhook mode: one task posting updates while a webhook is set."""

    def __init__(self, world: World, timeout: float, backoff: tuple[float, float]) -> None:
        self._world = world
        self._timeout = timeout
        self._first_pause, self._max_pause = backoff
        self.routes = Routes()
        self.attempts: list[WebhookAttempt] = []
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        """Stop posting (an unfinished post is abandoned; its update stays queued)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookReply:
        """POST ``body`` to the local URL behind ``url`` (for tests posting directly)."""
        target = self.routes.resolve(url)
        if target is None:
            raise LookupError(f"no route for {url}; call route_webhook first")
        assert self._session is not None, "sandbox not started"
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with self._session.post(
            target, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as reply:
            return WebhookReply(reply.status, await reply.read())

    async def _run(self) -> None:
        pause = self._first_pause
        while (job := await self._next()) is not None:
            entry, hook = job
            if await self._deliver(entry, hook):
                pause = self._first_pause
                continue
            await self._world.wait_until(lambda: self._world.closing, pause)
            pause = min(pause * 2, self._max_pause)

    async def _next(self) -> tuple[Queued, dict[str, Any]] | None:
        """The first update to post and the webhook to post it to; None once the sandbox closes."""
        world = self._world

        def probe() -> bool:
            return world.closing or (world.webhook is not None and bool(world.ready_updates(1)))

        async with world.cond:
            await world.cond.wait_for(probe)
            if world.closing or world.webhook is None:
                return None
            return world.ready_updates(1)[0], world.webhook

    async def _deliver(self, entry: Queued, hook: dict[str, Any]) -> bool:
        world = self._world
        url: str = hook["url"]
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers[SECRET_HEADER] = hook["secret_token"]
        body = json.dumps(entry.payload, ensure_ascii=False).encode()
        update_id = entry.payload.get("update_id") if isinstance(entry.payload, dict) else None
        started = asyncio.get_running_loop().time()
        status: int | None = None
        world.in_flight += 1
        world.touch()
        try:
            status = (await self.post(url, body, headers)).status
            error = None if 200 <= status <= 299 else f"Wrong response from the webhook: {_reason(status)}"
        except LookupError:
            error = UNRESOLVED
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {type(exc).__name__}"
        except Exception as exc:  # keep delivering whatever went wrong with this post
            log.exception("sandbox webhook post failed")
            error = f"Internal error: {type(exc).__name__}"
        finally:
            world.in_flight -= 1
            world.touch()
        self.attempts.append(WebhookAttempt(update_id, url, self.routes.resolve(url), status, error, started))
        if error is None:
            # Accepted: the update is no longer pending (unless a drop or a new webhook got there first).
            if entry in world.updates:
                world.updates.remove(entry)
        elif world.webhook is hook:
            world.webhook_error = (now(), error)
            log.debug("webhook delivery of update %s failed: %s", update_id, error)
        await world.notify()
        return error is None
