"""The sandbox's world: chats, messages, queued updates and the bookkeeping tests read."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

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
    delivered: list[ChatMessage] = field(default_factory=list)  # every bot message, in delivery order
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


Slot = tuple[int, int]


@dataclass(eq=False)
class Queued:
    """An update waiting to be confirmed.

    ``slot`` orders the queue and decides which getUpdates offset confirms it: (update_id, 0) for
    an update with a fresh integer id, (the last id before it, n) for a raw update whose own
    update_id is missing, stale or not an integer, so confirming the update before it plus one
    confirms it too.
    """

    slot: Slot
    payload: Any
    raw: bool = False  # pushed by a test as given: never filtered by allowed_updates

    @property
    def kind(self) -> str | None:
        if not isinstance(self.payload, dict):
            return None
        return next((k for k in self.payload if k != "update_id"), None)


class Watcher(Protocol):
    """Told of updates as getUpdates hands them out and of bot messages as they arrive (a benchmark
    timing the bot from one to the other)."""

    def handed_out(self, payloads: list[Any]) -> None: ...

    def delivered(self, chat_id: int, message: ChatMessage) -> None: ...


class World:
    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.chats: dict[int, Chat] = {}
        self.files = FileStore()
        self.cond = asyncio.Condition()
        self.updates: list[Queued] = []
        self.last_update_id = 0  # the highest integer update id handed to the queue so far
        self.updates_created = 0  # every update ever queued, raw ones included
        self._sub_slots = itertools.count(1)
        self.handed_out: Slot = (0, 0)  # the last slot getUpdates returned
        self.allowed_updates: list[str] | None = None
        self.queries: dict[str, Query] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_error: tuple[int, str] | None = None  # (unix time, message) of the last failure
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rejections: list[tuple[str, dict[str, Any], str]] = []
        self.in_flight = 0  # bot requests and webhook posts being handled, long polls excluded
        self.last_activity = -math.inf  # loop time of the last bot request or hand-out
        self.poll_generation = 0  # a newer getUpdates releases older waiting ones
        self.closing = False
        self.watchers: list[Watcher] = []

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
        if message.from_bot:
            chat.delivered.append(message)
            for watcher in self.watchers:
                watcher.delivered(chat.id, message)

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
        update_id = self.last_update_id + 1
        # Snapshot now: later edits must not rewrite what the bot will be told happened.
        await self._enqueue(Queued((update_id, 0), {"update_id": update_id, kind: copy.deepcopy(payload)}))
        return update_id

    async def push_raw(self, payload: Any, update_id: int | None = None) -> int | None:
        """Queue ``payload`` as it is (a JSON value); see BotApiSandbox.push_raw_update."""
        # A JSON round trip both snapshots the value and refuses what no JSON body could carry.
        payload = json.loads(json.dumps(payload, allow_nan=False))
        if isinstance(payload, dict) and "update_id" not in payload:
            payload = {"update_id": self.last_update_id + 1 if update_id is None else update_id, **payload}
        elif update_id is not None:
            raise ValueError("update_id is only for an object payload without its own update_id")
        declared = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(declared, int) or isinstance(declared, bool):
            declared = None
        # Only an id above every earlier one may be an offset of its own; the rest ride along.
        slot: Slot = (self.last_update_id, next(self._sub_slots))
        if declared is not None and declared > self.last_update_id:
            slot = (declared, 0)
        await self._enqueue(Queued(slot, payload, raw=True))
        return declared

    async def _enqueue(self, entry: Queued) -> None:
        self.updates.append(entry)
        self.updates_created += 1
        self.last_update_id = max(self.last_update_id, entry.slot[0])
        await self.notify()

    def confirm(self, offset: int | None) -> None:
        """getUpdates offset semantics: positive drops older ids, negative keeps the last -n."""
        if offset is None or offset == 0:
            return
        if offset > 0:
            self.updates = [u for u in self.updates if u.slot[0] >= offset]
        else:
            self.updates = self.updates[offset:]

    def _allowed(self, update: Queued) -> bool:
        kind = update.kind
        if update.raw or kind is None:
            return True
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _NOT_DEFAULT_UPDATES

    def ready_updates(self, limit: int) -> list[Queued]:
        # The real API never creates updates of disallowed kinds, so they are dropped.
        self.updates = [u for u in self.updates if self._allowed(u)]
        return self.updates[:limit]

    def undelivered(self) -> int:
        if self.webhook is not None:
            return len(self.updates)  # a webhook's queue empties only as posts succeed
        return sum(1 for u in self.updates if u.slot > self.handed_out)
