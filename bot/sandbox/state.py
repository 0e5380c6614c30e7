"""The sandbox's world: chats, messages, queued updates and the bookkeeping tests read."""

from __future__ import annotations

import asyncio
import copy
import itertools
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.sandbox.errors import bad_request
from bot.sandbox.files import FileStore
from bot.sandbox.models import ChatMessage

T = TypeVar("T")

# What getUpdates delivers when allowed_updates is unset or empty.
_NOT_DEFAULT_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


def now() -> int:
    return int(time.time())


@dataclass
class Chat:
    """A private chat between the bot and one user (chat id == user id)."""

    user: dict[str, Any]
    blocked: bool = False
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(62)))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if key in self.user:
                chat[key] = self.user[key]
        return chat

    def next_message_id(self) -> int:
        """One counter per chat shared by both directions, as in Telegram."""
        return next(self._ids)


@dataclass
class Query:
    chat_id: int
    answered: bool = False


class World:
    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.chats: dict[int, Chat] = {}
        self.files = FileStore()
        self.cond = asyncio.Condition()
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self.last_update_id = 0
        self.handed_out = 0  # highest update_id returned by getUpdates
        self.allowed_updates: list[str] | None = None
        self.queries: dict[str, Query] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rejections: list[tuple[str, dict[str, Any], str]] = []
        self.in_flight = 0  # bot requests being handled, long polls excluded
        self.last_activity = -math.inf  # loop time of the last bot request or hand-out
        self.poll_generation = 0  # a newer getUpdates releases older waiting ones
        self.closing = False

    # -- change notification ------------------------------------------------------------

    async def notify(self) -> None:
        async with self.cond:
            self.cond.notify_all()

    async def wait_until(self, probe: Callable[[], T | None], timeout: float) -> T | None:
        """The first truthy result of ``probe``, re-checked on every change; None on timeout."""
        async with self.cond:
            try:
                return await asyncio.wait_for(self.cond.wait_for(probe), timeout)
            except TimeoutError:
                return None

    def touch(self) -> None:
        self.last_activity = asyncio.get_running_loop().time()

    # -- chats and messages -------------------------------------------------------------

    def chat(self, chat_id: int | str) -> Chat:
        """The chat a bot request names, or the API's "chat not found"."""
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def add_message(self, chat: Chat, message: ChatMessage) -> None:
        chat.messages[message.message_id] = message

    def message_json(self, chat: Chat, sender: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": chat.next_message_id(),
            "from": dict(sender),
            "chat": chat.json(),
            "date": now(),
            **content,
        }

    @staticmethod
    def reply_snapshot(message: ChatMessage) -> dict[str, Any]:
        """A replied-to message as embedded in a reply (Telegram does not nest further)."""
        raw = copy.deepcopy(message.raw)
        raw.pop("reply_to_message", None)
        return raw

    # -- updates ------------------------------------------------------------------------

    async def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        # Snapshot now: later edits must not rewrite what the bot will be told happened.
        self.updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self.last_update_id = update_id
        await self.notify()
        return update_id

    def confirm(self, offset: int | None) -> None:
        """getUpdates offset semantics: positive drops older ids, negative keeps the last -n."""
        if offset is None or offset == 0:
            return
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        else:
            self.updates = self.updates[offset:]

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _NOT_DEFAULT_UPDATES

    def ready_updates(self, limit: int) -> list[dict[str, Any]]:
        # The real API never creates updates of disallowed kinds, so they are dropped.
        self.updates = [u for u in self.updates if self._allowed(u)]
        return self.updates[:limit]

    def undelivered(self) -> int:
        return sum(1 for u in self.updates if u["update_id"] > self.handed_out)
