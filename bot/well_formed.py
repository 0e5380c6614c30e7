"""Is an incoming update one the bot can trust the shape of? Checked before anything is built from it.

python-telegram-bot builds objects from whatever JSON it is given without checking types, so a message
whose id is a string would reach the tables as a string. Telegram itself never sends such updates; a
broken proxy, a forged webhook call or a future API change could. Only the fields the bot reads are
checked, against the Bot API's types and limits; unknown fields are left alone, as Telegram adds new ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

# The update kinds the bot asks Telegram for (bot/app.py ALLOWED_UPDATES) and handles.
KINDS = ("message", "edited_message", "callback_query")
MAX_UPDATE_BYTES = 128 * 1024  # a message, the one it replies to, their entities: far below this
# Telegram's own limits are 4096 and 1024 UTF-16 code units. Incoming texts get four times that: the bot
# splits long texts itself, and rejecting a request for being long would lose it.
MAX_TEXT = 4 * 4096
MAX_CAPTION = 4 * 1024
MAX_CALLBACK_DATA = 64  # bytes

Check = Callable[[Any], str | None]


def flaw(raw: Any) -> str | None:
    """Why this update cannot be handled, or None if it is well formed. Never raises: whatever the checks
    trip over is itself a flaw."""
    try:
        return _flaw(raw)
    except Exception as error:
        return f"could not be checked: {type(error).__name__}"


def _flaw(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "not an object"
    if not is_int(raw.get("update_id")):
        return "update_id is not an integer"
    try:
        size = len(json.dumps(raw, ensure_ascii=False).encode())
    except (UnicodeEncodeError, ValueError):  # a lone surrogate, a number JSON cannot hold
        return "not valid JSON text"
    if size > MAX_UPDATE_BYTES:
        return "too large"
    kinds = [key for key in raw if key != "update_id"]
    if len(kinds) != 1:
        return "not exactly one kind of update"
    kind = kinds[0]
    if kind not in KINDS:
        return f"{kind[:32]!r} was not asked for"
    problem = (_callback_query if kind == "callback_query" else _message)(raw[kind])
    return f"{kind}: {problem}" if problem else None


# -- the checks, one per Bot API type the bot reads ------------------------------------------------


def is_int(value: Any) -> bool:
    """An integer as JSON gives it: not a boolean, and within Telegram's 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _fields(value: Any, required: Mapping[str, Check], optional: Mapping[str, Check]) -> str | None:
    if not isinstance(value, dict):
        return "not an object"
    for name, check in required.items():
        if name not in value:
            return f"{name} is missing"
        if problem := check(value[name]):
            return f"{name}: {problem}"
    for name, check in optional.items():
        if name in value and (problem := check(value[name])):
            return f"{name}: {problem}"
    return None


def _integer(value: Any) -> str | None:
    return None if is_int(value) else "not an integer"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "not a boolean"


def _string(limit: int = 256) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "not a string"
        if _utf16_length(value) > limit:
            return "too long"
        if "\x00" in value:
            return "contains a NUL character"
        return None

    return check


def _degrees(limit: float) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "not a number"
        return None if math.isfinite(value) and abs(value) <= limit else "out of range"

    return check


def _list_of(item: Check, limit: int = 100) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or len(value) > limit:
            return f"not a list of at most {limit}"
        for index, element in enumerate(value):
            if problem := item(element):
                return f"[{index}] {problem}"
        return None

    return check


def _user(value: Any) -> str | None:
    return _fields(
        value,
        {"id": _integer, "is_bot": _boolean, "first_name": _string()},
        {"last_name": _string(), "username": _string(), "language_code": _string(35)},
    )


def _chat(value: Any) -> str | None:
    return _fields(value, {"id": _integer, "type": _string(16)}, {})


def _entity(value: Any) -> str | None:
    return _fields(value, {"type": _string(32), "offset": _integer, "length": _integer}, {})


def _file(value: Any) -> str | None:
    return _fields(value, {"file_id": _string(), "file_unique_id": _string()}, {"file_size": _integer})


def _location(value: Any) -> str | None:
    return _fields(value, {"latitude": _degrees(90), "longitude": _degrees(180)}, {})


_MESSAGE_CONTENT: dict[str, Check] = {
    "from": _user,
    "text": _string(MAX_TEXT),
    "caption": _string(MAX_CAPTION),
    "entities": _list_of(_entity),
    "caption_entities": _list_of(_entity),
    "photo": _list_of(_file, limit=20),
    "video": _file,
    "voice": _file,
    "audio": _file,
    "document": _file,
    "location": _location,
    "edit_date": _integer,
}


def _message(value: Any, *, nested: bool = False) -> str | None:
    optional = dict(_MESSAGE_CONTENT)
    if not nested:  # Telegram embeds the replied-to message one level deep, never further
        optional["reply_to_message"] = lambda inner: _message(inner, nested=True)
    return _fields(value, {"message_id": _integer, "date": _integer, "chat": _chat}, optional)


def _callback_data(value: Any) -> str | None:
    if not isinstance(value, str):
        return "not a string"
    return "too long" if len(value.encode()) > MAX_CALLBACK_DATA else None


def _callback_query(value: Any) -> str | None:
    return _fields(
        value,
        {"id": _string(), "from": _user, "chat_instance": _string()},
        {"data": _callback_data, "message": lambda inner: _message(inner, nested=True)},
    )
