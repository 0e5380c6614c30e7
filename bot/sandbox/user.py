"""SandboxUser: a Telegram user driving their private chat with the bot from a test."""

from __future__ import annotations

import copy
import itertools
import re
import secrets
from collections.abc import Callable
from typing import Any

from bot.sandbox.models import ChatMessage
from bot.sandbox.state import Chat, Query, World, now

Match = str | Callable[[ChatMessage], bool]

# Telegram marks a leading "/command" typed by a user as a bot_command entity.
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_query_ids = itertools.count(1)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class SandboxUser:
    """Acts as one person: sends messages and presses buttons, and reads what arrived."""

    def __init__(self, world: World, chat: Chat) -> None:
        self._world = world
        self._chat = chat

    def __repr__(self) -> str:
        return f"SandboxUser({self.id}, {self.first_name!r})"

    @property
    def id(self) -> int:
        return self._chat.id

    @property
    def first_name(self) -> str:
        return str(self._chat.user["first_name"])

    @property
    def user_json(self) -> dict[str, Any]:
        return dict(self._chat.user)

    # -- sending ------------------------------------------------------------------------

    async def _send(self, content: dict[str, Any], reply_to: int | ChatMessage | None) -> int:
        world, chat = self._world, self._chat
        raw = world.message_json(chat, chat.user, content)
        if reply_to is not None:
            target_id = reply_to.message_id if isinstance(reply_to, ChatMessage) else reply_to
            target = chat.messages.get(target_id)
            if target is None:
                raise AssertionError(f"no message {target_id} in chat {chat.id} to reply to")
            raw["reply_to_message"] = world.reply_snapshot(target)
        world.add_message(chat, ChatMessage.build(raw, from_bot=False))
        await world.push_update("message", raw)
        return int(raw["message_id"])

    async def send_text(self, text: str, reply_to: int | ChatMessage | None = None) -> int:
        content: dict[str, Any] = {"text": text}
        command = _LEADING_COMMAND.match(text)
        if command:
            length = _utf16_len(command.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._send(content, reply_to)

    async def edit_text(self, message: int | ChatMessage, new_text: str) -> None:
        """Edit a text this user sent earlier: the bot receives an `edited_message` update."""
        message_id = message.message_id if isinstance(message, ChatMessage) else message
        current = self._chat.messages.get(message_id)
        if current is None or current.from_bot:
            raise AssertionError(f"user {self.id} has no message {message_id} of their own to edit")
        raw = copy.deepcopy(current.raw)
        raw.update({"text": new_text, "edit_date": now()})
        current.update(raw)
        await self._world.push_update("edited_message", raw)

    async def send_command(self, command: str, args: str | None = None) -> int:
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}" if args else command
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
        return await self._send({"text": text, "entities": [entity]}, None)

    def _with_caption(self, content: dict[str, Any], caption: str | None) -> dict[str, Any]:
        if caption:
            content["caption"] = caption
        return content

    async def send_photo(self, caption: str | None = None, reply_to: int | ChatMessage | None = None) -> int:
        photo = self._world.files.photo()
        return await self._send(self._with_caption({"photo": photo}, caption), reply_to)

    async def send_voice(
        self,
        duration: int = 3,
        caption: str | None = None,
        reply_to: int | ChatMessage | None = None,
    ) -> int:
        voice = self._world.files.voice(duration)
        return await self._send(self._with_caption({"voice": voice}, caption), reply_to)

    async def send_document(
        self,
        file_name: str = "document.pdf",
        caption: str | None = None,
        mime_type: str = "application/pdf",
        reply_to: int | ChatMessage | None = None,
    ) -> int:
        document = self._world.files.document(file_name, mime_type)
        return await self._send(self._with_caption({"document": document}, caption), reply_to)

    async def send_location(
        self, latitude: float, longitude: float, reply_to: int | ChatMessage | None = None
    ) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._send({"location": location}, reply_to)

    async def send_sticker(self, reply_to: int | ChatMessage | None = None) -> int:
        return await self._send({"sticker": self._world.files.sticker()}, reply_to)

    async def send_raw_message(self, fields: dict[str, Any]) -> int:
        """Any Message fields on top of the standard ones, for kinds without a helper."""
        return await self._send(dict(fields), None)

    # -- buttons ------------------------------------------------------------------------

    def _current(self, message: ChatMessage | int) -> ChatMessage:
        message_id = message.message_id if isinstance(message, ChatMessage) else message
        current = self._chat.messages.get(message_id)
        if current is None:
            raise AssertionError(f"message {message_id} is not (or no longer) in chat {self.id}")
        return current

    async def press(self, message: ChatMessage | int, button_text: str) -> str:
        """Press the inline button labelled ``button_text`` in the message's current markup."""
        current = self._current(message)
        labels = [text for row in current.buttons for text, _ in row]
        for row in current.buttons:
            for text, data in row:
                if text != button_text:
                    continue
                if not _has_callback(current, text):
                    raise AssertionError(f"button {text!r} has no callback_data ({data})")
                return await self.press_data(current, data)
        raise AssertionError(f"no button {button_text!r} in message {current.message_id}; buttons: {labels}")

    async def press_data(self, message: ChatMessage | int, data: str) -> str:
        """Send a callback query with arbitrary (possibly forged) data for a message."""
        current = self._current(message)
        query_id = f"{next(_query_ids)}{secrets.randbelow(10**9):09d}"
        self._world.queries[query_id] = Query(chat_id=self.id)
        query = {
            "id": query_id,
            "from": dict(self._chat.user),
            "message": current.raw,
            "chat_instance": self._chat.chat_instance,
            "data": data,
        }
        await self._world.push_update("callback_query", query)
        return query_id

    # -- reading ------------------------------------------------------------------------

    @property
    def inbox(self) -> list[ChatMessage]:
        return [m for m in self._chat.messages.values() if m.from_bot]

    @property
    def delivered(self) -> list[ChatMessage]:
        """Every message the bot delivered here, in delivery order, deleted ones included."""
        return list(self._chat.delivered)

    @property
    def transcript(self) -> list[ChatMessage]:
        return list(self._chat.messages.values())

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        return list(self._chat.callback_answers)

    async def wait_for(self, match: Match, timeout: float = 15.0) -> ChatMessage:
        """The first inbox message containing ``match`` (or satisfying it, if callable)."""

        def matches(message: ChatMessage) -> bool:
            if isinstance(match, str):
                return match in message.content
            return match(message)

        def probe() -> ChatMessage | None:
            return next((m for m in self.inbox if matches(m)), None)

        found = await self._world.wait_until(probe, timeout)
        if found is None:
            raise AssertionError(
                f"no message matching {match!r} reached {self!r} within {timeout}s; "
                f"inbox: {[m.content for m in self.inbox]}"
            )
        return found

    async def wait_for_count(self, count: int, timeout: float = 15.0) -> list[ChatMessage]:
        def probe() -> list[ChatMessage] | None:
            inbox = self.inbox
            return inbox if len(inbox) >= count else None

        found = probe() if count <= 0 else await self._world.wait_until(probe, timeout)
        if found is None:
            raise AssertionError(
                f"{self!r} has {len(self.inbox)} messages, expected {count} within {timeout}s; "
                f"inbox: {[m.content for m in self.inbox]}"
            )
        return found

    async def wait_for_answer(self, query_id: str, timeout: float = 15.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            return next(
                (a for a in self._chat.callback_answers if a["callback_query_id"] == query_id),
                None,
            )

        found = await self._world.wait_until(probe, timeout)
        if found is None:
            raise AssertionError(f"callback query {query_id} was not answered within {timeout}s")
        return found

    # -- blocking -----------------------------------------------------------------------

    def block(self) -> None:
        """From now on every bot send to this chat gets 403, as if the user blocked the bot."""
        self._chat.blocked = True

    def unblock(self) -> None:
        self._chat.blocked = False


def _has_callback(message: ChatMessage, text: str) -> bool:
    rows = message.raw.get("reply_markup", {}).get("inline_keyboard", [])
    return any(b.get("text") == text and "callback_data" in b for row in rows for b in row)
