"""Bot API method implementations over the sandbox world.

Each handler receives already type-checked parameters and returns the ``result`` value or
raises ApiError with the description the real API would give.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.errors import ApiError, bad_request, forbidden
from bot.sandbox.models import MESSAGE_KINDS, ChatMessage
from bot.sandbox.state import Chat, World, now
from bot.sandbox.textfmt import FormattedText, format_text, utf16_len

Handler = Callable[[World, dict[str, Any]], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# Content keys a copy or forward carries over from the source message: its kind's own key, and the
# text's or caption's formatting.
_CONTENT_KEYS = (*MESSAGE_KINDS, "entities", "caption", "caption_entities")
_CAPTIONED_KINDS = {"photo", "voice", "document", "video", "audio", "animation"}
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")

HANDLERS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


# -- shared pieces -----------------------------------------------------------------------


def _reachable_chat(world: World, chat_id: Any) -> Chat:
    chat = world.chat(chat_id)
    if chat.blocked:
        raise forbidden("bot was blocked by the user")
    return chat


def _text(p: dict[str, Any]) -> FormattedText:
    formatted = format_text(p["text"], p.get("parse_mode"), p.get("entities"))
    size = utf16_len(formatted.text)
    if size == 0:
        raise bad_request("message text is empty")
    if size > MAX_TEXT:
        raise bad_request("message is too long")
    return formatted


def _caption(p: dict[str, Any]) -> FormattedText | None:
    if "caption" not in p:
        return None
    formatted = format_text(p["caption"], p.get("parse_mode"), p.get("caption_entities"))
    if utf16_len(formatted.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return formatted


def _text_content(formatted: FormattedText, key: str = "text") -> dict[str, Any]:
    content: dict[str, Any] = {}
    if formatted.text:
        content[key] = formatted.text
        if formatted.entities:
            content["entities" if key == "text" else "caption_entities"] = formatted.entities
    return content


def _reply_target(world: World, chat: Chat, p: dict[str, Any]) -> ChatMessage | None:
    params = p.get("reply_parameters")
    if params is None and "reply_to_message_id" in p:
        params = {"message_id": p["reply_to_message_id"]}
    if params is None:
        return None
    source = world.chat(params["chat_id"]) if "chat_id" in params else chat
    target = source.messages.get(params["message_id"])
    if target is None and not params.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return target


async def _bot_send(
    world: World,
    p: dict[str, Any],
    content: dict[str, Any],
    *,
    html: str | None = None,
    caption_html: str | None = None,
    copied_from: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Deliver a bot message into the chat named by chat_id and return its Message object."""
    chat = _reachable_chat(world, p["chat_id"])
    reply = _reply_target(world, chat, p)
    raw = world.message_json(chat, world.bot_user, content)
    if reply is not None:
        raw["reply_to_message"] = world.reply_snapshot(reply)
    markup = p.get("reply_markup") or {}
    if "inline_keyboard" in markup:
        # Only inline keyboards are part of a Message object; reply keyboards are not echoed.
        raw["reply_markup"] = markup
    if p.get("protect_content"):
        raw["has_protected_content"] = True
    message = ChatMessage.build(
        raw,
        from_bot=True,
        html=html,
        caption_html=caption_html,
        force_reply="force_reply" in markup,
        copied_from=copied_from,
    )
    world.add_message(chat, message)
    await world.notify()
    return raw


def _source_message(world: World, p: dict[str, Any], missing: str) -> ChatMessage:
    source_chat = world.chat(p["from_chat_id"])
    message = source_chat.messages.get(p["message_id"])
    if message is None:
        raise bad_request(missing)
    return message


def _editable(world: World, p: dict[str, Any]) -> ChatMessage:
    if "inline_message_id" in p:
        raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline messages
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    message = world.chat(p["chat_id"]).messages.get(p["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


async def _apply_edit(
    world: World,
    message: ChatMessage,
    p: dict[str, Any],
    content: dict[str, Any],
    drop: tuple[str, ...],
    *,
    html: str | None,
    caption_html: str | None,
) -> dict[str, Any]:
    raw = {k: v for k, v in message.raw.items() if k not in drop and k != "reply_markup"}
    raw.update(content)
    if p.get("reply_markup"):
        raw["reply_markup"] = p["reply_markup"]
    before = {k: v for k, v in message.raw.items() if k != "edit_date"}
    after = {k: v for k, v in raw.items() if k != "edit_date"}
    if before == after:
        raise bad_request(NOT_MODIFIED)
    raw["edit_date"] = now()
    message.update(raw, html=html, caption_html=caption_html)
    await world.notify()
    return raw


# -- updates and webhook -----------------------------------------------------------------


@method("getUpdates")
async def get_updates(world: World, p: dict[str, Any]) -> list[Any]:
    if world.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    limit = min(max(p.get("limit", 100), 1), 100)
    timeout = max(p.get("timeout", 0), 0)
    if "allowed_updates" in p:
        world.allowed_updates = p["allowed_updates"] or None
    world.confirm(p.get("offset"))
    world.poll_generation += 1
    generation = world.poll_generation
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with world.cond:
        while True:
            if generation != world.poll_generation or world.closing:
                # Superseded by a newer poll (e.g. a cancelled client) or shutting down.
                return []
            ready = world.ready_updates(limit)
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or world.webhook is not None:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(world.cond.wait(), remaining)
        if ready:
            world.handed_out = max(world.handed_out, ready[-1].slot)
            for watcher in world.watchers:
                watcher.handed_out([entry.payload for entry in ready])
            world.touch()
            world.cond.notify_all()
    return [entry.payload for entry in ready]


_WEBHOOK_PORTS = {80, 88, 443, 8443}
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _check_webhook_url(url: str) -> None:
    if not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = urlsplit(url).port or 443
    except ValueError:
        port = None
    if port not in _WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


@method("setWebhook")
async def set_webhook(world: World, p: dict[str, Any]) -> bool:
    url = p["url"]
    if not url:
        world.webhook = None
        world.webhook_error = None
        return True
    _check_webhook_url(url)
    secret = p.get("secret_token")
    if secret and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if p.get("drop_pending_updates"):
        world.updates.clear()
    world.webhook = {k: v for k, v in p.items() if k not in ("certificate", "drop_pending_updates")}
    world.webhook_error = None
    if "allowed_updates" in p:
        world.allowed_updates = p["allowed_updates"] or None
    await world.notify()
    return True


@method("deleteWebhook")
async def delete_webhook(world: World, p: dict[str, Any]) -> bool:
    world.webhook = None
    world.webhook_error = None
    if p.get("drop_pending_updates"):
        world.updates.clear()
    await world.notify()
    return True


@method("getWebhookInfo")
async def get_webhook_info(world: World, p: dict[str, Any]) -> dict[str, Any]:
    hook = world.webhook or {}
    info: dict[str, Any] = {
        "url": hook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if hook:
        info["max_connections"] = 40  # the API's default, reported even when not given
    for key in ("ip_address", "max_connections", "allowed_updates"):
        if key in hook:
            info[key] = hook[key]
    if world.webhook_error is not None:
        info["last_error_date"], info["last_error_message"] = world.webhook_error
    return info


@method("getMe")
async def get_me(world: World, p: dict[str, Any]) -> dict[str, Any]:
    return dict(world.bot_user)


@method("logOut")
async def log_out(world: World, p: dict[str, Any]) -> bool:
    return True


@method("close")
async def close(world: World, p: dict[str, Any]) -> bool:
    return True


# -- sending -----------------------------------------------------------------------------


@method("sendMessage")
async def send_message(world: World, p: dict[str, Any]) -> dict[str, Any]:
    formatted = _text(p)
    return await _bot_send(world, p, _text_content(formatted), html=p["text"])


def _media_caption(p: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    caption = _caption(p)
    if caption is None:
        return {}, None
    return _text_content(caption, "caption"), p["caption"]


@method("sendPhoto")
async def send_photo(world: World, p: dict[str, Any]) -> dict[str, Any]:
    content, caption_html = _media_caption(p)
    _reachable_chat(world, p["chat_id"])  # fail before storing the upload
    content["photo"] = world.files.for_bot_send("photo", p["photo"])
    return await _bot_send(world, p, content, caption_html=caption_html)


@method("sendDocument")
async def send_document(world: World, p: dict[str, Any]) -> dict[str, Any]:
    content, caption_html = _media_caption(p)
    _reachable_chat(world, p["chat_id"])
    content["document"] = world.files.for_bot_send("document", p["document"])
    return await _bot_send(world, p, content, caption_html=caption_html)


@method("sendVoice")
async def send_voice(world: World, p: dict[str, Any]) -> dict[str, Any]:
    content, caption_html = _media_caption(p)
    _reachable_chat(world, p["chat_id"])
    content["voice"] = world.files.for_bot_send("voice", p["voice"], duration=p.get("duration"))
    return await _bot_send(world, p, content, caption_html=caption_html)


@method("sendLocation")
async def send_location(world: World, p: dict[str, Any]) -> dict[str, Any]:
    lat, lon = p["latitude"], p["longitude"]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("wrong latitude or longitude specified")
    location: dict[str, Any] = {"latitude": lat, "longitude": lon}
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if key in p:
            location[key] = p[key]
    return await _bot_send(world, p, {"location": location})


@method("sendChatAction")
async def send_chat_action(world: World, p: dict[str, Any]) -> bool:
    _reachable_chat(world, p["chat_id"])
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@method("copyMessage")
async def copy_message(world: World, p: dict[str, Any]) -> dict[str, Any]:
    source = _source_message(world, p, "message to copy not found")
    content = {k: v for k, v in source.raw.items() if k in _CONTENT_KEYS}
    caption_html = source.caption_html
    if source.kind in _CAPTIONED_KINDS and "caption" in p:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        new_caption, caption_html = _media_caption(p)
        content.update(new_caption)
    raw = await _bot_send(
        world,
        p,
        content,
        html=source.html,
        caption_html=caption_html,
        copied_from=(source.chat_id, source.message_id),
    )
    return {"message_id": raw["message_id"]}


@method("forwardMessage")
async def forward_message(world: World, p: dict[str, Any]) -> dict[str, Any]:
    source = _source_message(world, p, "message to forward not found")
    content = {k: v for k, v in source.raw.items() if k in _CONTENT_KEYS}
    content["forward_origin"] = {
        "type": "user",
        "sender_user": source.raw["from"],
        "date": source.raw["date"],
    }
    return await _bot_send(world, p, content, html=source.html, caption_html=source.caption_html)


# -- editing and deleting ----------------------------------------------------------------


@method("editMessageText")
async def edit_message_text(world: World, p: dict[str, Any]) -> dict[str, Any]:
    message = _editable(world, p)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    formatted = _text(p)
    return await _apply_edit(
        world,
        message,
        p,
        _text_content(formatted),
        ("text", "entities"),
        html=p["text"],
        caption_html=None,
    )


@method("editMessageCaption")
async def edit_message_caption(world: World, p: dict[str, Any]) -> dict[str, Any]:
    message = _editable(world, p)
    if message.kind not in _CAPTIONED_KINDS:
        raise bad_request("there is no caption in the message to edit")
    content, caption_html = _media_caption(p)
    return await _apply_edit(
        world,
        message,
        p,
        content,
        ("caption", "caption_entities"),
        html=None,
        caption_html=caption_html if "caption" in content else None,
    )


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(world: World, p: dict[str, Any]) -> dict[str, Any]:
    message = _editable(world, p)
    return await _apply_edit(world, message, p, {}, (), html=message.html, caption_html=message.caption_html)


@method("deleteMessage")
async def delete_message(world: World, p: dict[str, Any]) -> bool:
    chat = world.chat(p["chat_id"])
    message = chat.messages.pop(p["message_id"], None)
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    await world.notify()
    return True


# -- callback queries --------------------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(world: World, p: dict[str, Any]) -> bool:
    query = world.queries.get(p["callback_query_id"])
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if utf16_len(p.get("text", "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    world.chats[query.chat_id].callback_answers.append(dict(p))
    await world.notify()
    return True


# -- commands ----------------------------------------------------------------------------


def _commands_key(world: World, p: dict[str, Any]) -> str:
    """Storage key: scope ("default", "chat:1001", ...) plus "|lang" when a language is set."""
    scope = p.get("scope") or {"type": "default"}
    kind = scope["type"]
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat = world.chat(scope["chat_id"])
        key = f"{kind}:{chat.id}"
        if kind == "chat_member":
            key += f":{scope['user_id']}"
    else:
        key = kind
    language = p.get("language_code", "")
    if language and not _LANGUAGE_RE.fullmatch(language):
        raise bad_request("invalid language code specified")
    return f"{key}|{language}" if language else key


@method("setMyCommands")
async def set_my_commands(world: World, p: dict[str, Any]) -> bool:
    commands = p["commands"]
    if not commands:
        raise bad_request("commands must be non-empty")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not _COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = _commands_key(world, p)
    world.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


@method("getMyCommands")
async def get_my_commands(world: World, p: dict[str, Any]) -> list[dict[str, str]]:
    return list(world.commands.get(_commands_key(world, p), []))


@method("deleteMyCommands")
async def delete_my_commands(world: World, p: dict[str, Any]) -> bool:
    world.commands.pop(_commands_key(world, p), None)
    return True


# -- files -------------------------------------------------------------------------------


@method("getFile")
async def get_file(world: World, p: dict[str, Any]) -> dict[str, Any]:
    record = world.files.get(p["file_id"])
    if record is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": len(record.data),
        "file_path": record.file_path,
    }
