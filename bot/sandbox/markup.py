"""Validation of reply_markup objects (inline keyboards, reply keyboards, force reply)."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import bad_request

# Exactly one of these makes an inline button do something.
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_INLINE_COSMETIC = ("text", "icon_custom_emoji_id", "style")
_MARKUP_KEYS = {
    "inline_keyboard": "InlineKeyboardMarkup",
    "keyboard": "ReplyKeyboardMarkup",
    "remove_keyboard": "ReplyKeyboardRemove",
    "force_reply": "ForceReply",
}
MAX_CALLBACK_DATA_BYTES = 64


def markup_type(markup: dict[str, Any]) -> str | None:
    """Which of the four reply_markup types this object is, judged by its defining key."""
    for key, name in _MARKUP_KEYS.items():
        if key in markup:
            return name
    return None


def validate_reply_markup(markup: dict[str, Any], allowed: tuple[str, ...]) -> None:
    kind = markup_type(markup)
    if kind is None:
        raise bad_request("can't parse reply keyboard markup JSON object")
    if kind not in allowed:
        raise bad_request("inline keyboard expected")
    if kind == "InlineKeyboardMarkup":
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif kind == "ReplyKeyboardMarkup":
        _validate_reply_keyboard(markup["keyboard"])
    elif markup[next(k for k, v in _MARKUP_KEYS.items() if v == kind)] is not True:
        raise bad_request(f"can't parse {kind} JSON object")


def _rows(value: Any, what: str) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(f'field "{what}" of the keyboard must be an Array of Arrays')
    return value


def _validate_inline_keyboard(value: Any) -> None:
    for row in _rows(value, "inline_keyboard"):
        for button in row:
            _validate_inline_button(button)


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse inline keyboard button: Text must be a non-empty String")
    unknown = [k for k in button if k not in INLINE_ACTIONS and k not in _INLINE_COSMETIC]
    if unknown:
        raise bad_request(f"can't parse inline keyboard button: unknown field {unknown[0]}")
    actions = [k for k in button if k in INLINE_ACTIONS]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and (not isinstance(button["url"], str) or not button["url"].strip()):
        raise bad_request("BUTTON_URL_INVALID")


def _validate_reply_keyboard(value: Any) -> None:
    for row in _rows(value, "keyboard"):
        for button in row:
            if isinstance(button, str):
                continue
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse keyboard button: Text must be a String")
