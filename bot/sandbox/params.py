"""Decoding request parameters and checking them against the METHODS table.

python-telegram-bot sends strings raw and every other value JSON-encoded, so a form value is
decoded according to the type the spec declares for that field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.markup import validate_reply_markup
from bot.sandbox.models import Upload
from bot.sandbox.spec import METHODS, FieldSpec

_INT_RE = re.compile(r"\s*-?\d+\s*")
_MARKUP_TYPES = {"InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply"}
SCOPE_TYPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
# Deprecated but still honoured by the real API; python-telegram-bot never sends it.
LEGACY_FIELDS = {"reply_to_message_id": FieldSpec(("Integer",))}


def decode_params(method: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed parameters for ``method``; raises the API's 400 on any violation."""
    spec = METHODS[method]
    out: dict[str, Any] = {}
    for name, value in raw.items():
        field = spec.get(name)
        if field is None and "reply_parameters" in spec:
            field = LEGACY_FIELDS.get(name)
        if field is None:
            raise bad_request(f"unknown parameter {name}")
        out[name] = decode_value(name, field.types, value)
    for name, field in spec.items():
        if field.required and name not in out:
            raise bad_request(f"{name} is required")
    return out


def _type_error(name: str, types: tuple[str, ...]) -> Exception:
    return bad_request(f'field "{name}" must be of type {" or ".join(types)}')


def decode_value(name: str, types: tuple[str, ...], value: Any) -> Any:
    if isinstance(value, Upload):
        if "InputFile" in types:
            return value
        raise _type_error(name, types)
    if "Integer" in types:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value):
            return int(value)
    if "Float" in types:
        number = _as_float(value)
        if number is not None:
            return number
    if "Boolean" in types:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    if "String" in types:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # the real API stringifies numbers given for strings
    compound = [t for t in types if t not in ("Integer", "Float", "Boolean", "String", "InputFile")]
    if not compound:
        raise _type_error(name, types)
    decoded = _json(name, value)
    if compound[0].startswith("Array of "):
        return _decode_array(name, compound[0].removeprefix("Array of "), decoded)
    if not isinstance(decoded, dict):
        raise bad_request(f"can't parse {name} JSON object")
    if _MARKUP_TYPES.intersection(compound):
        validate_reply_markup(decoded, tuple(compound))
    else:
        _validate_object(name, compound[0], decoded)
    return decoded


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _json(name: str, value: Any) -> Any:
    """Objects come JSON-encoded in forms and natively in JSON bodies."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def _decode_array(name: str, item_type: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f'field "{name}" must be an Array')
    for item in value:
        if item_type == "String":
            if not isinstance(item, str):
                raise bad_request(f'field "{name}" must be an Array of String')
        elif not isinstance(item, dict):
            raise bad_request(f"can't parse {item_type} JSON object")
        else:
            _validate_object(name, item_type, item)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_object(name: str, type_name: str, obj: dict[str, Any]) -> None:
    if type_name == "MessageEntity":
        if (
            not isinstance(obj.get("type"), str)
            or not _is_int(obj.get("offset"))
            or not _is_int(obj.get("length"))
            or obj["offset"] < 0
            or obj["length"] < 1
        ):
            raise bad_request(f"can't parse {name}: invalid MessageEntity")
    elif type_name == "ReplyParameters":
        if not _is_int(obj.get("message_id")):
            raise bad_request("can't parse reply parameters JSON object")
    elif type_name == "BotCommand":
        if not isinstance(obj.get("command"), str) or not isinstance(obj.get("description"), str):
            raise bad_request("can't parse BotCommand JSON object")
    elif type_name == "BotCommandScope":
        scope_type = obj.get("type")
        if scope_type not in SCOPE_TYPES:
            raise bad_request("unsupported bot command scope type")
        if scope_type in ("chat", "chat_administrators", "chat_member") and "chat_id" not in obj:
            raise bad_request("chat_id is required in the bot command scope")
        if scope_type == "chat_member" and not _is_int(obj.get("user_id")):
            raise bad_request("user_id is required in the bot command scope")
