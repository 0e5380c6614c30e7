"""What is kept of an update from someone the roster does not know: who, when, and which command.

The intake stores every update before handling it. A stranger's words are not the estate's to keep, so
their update is stored without them: the handlers need only the sender (to answer in their language), the
command word (to count the attempt as a command) and the code of /start CODE (to redeem an invite).
"""

from __future__ import annotations

from typing import Any

from bot import well_formed

MESSAGE_KEEPS = ("message_id", "date", "chat", "from", "edit_date")
QUERY_KEEPS = ("id", "from", "chat_instance", "data")


def sender_id(update: dict[str, Any]) -> int | None:
    """The account an update (already checked well formed) comes from."""
    for kind in well_formed.KINDS:
        content = update.get(kind)
        if isinstance(content, dict) and isinstance(content.get("from"), dict):
            return int(content["from"]["id"])
    return None


def without_their_words(update: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"update_id": update["update_id"]}
    for kind, content in update.items():
        if kind == "update_id":
            continue
        if kind == "callback_query":
            query = {key: content[key] for key in QUERY_KEEPS if key in content}
            if isinstance(content.get("message"), dict):
                query["message"] = _bare_message(content["message"], keep_command=False)
            kept[kind] = query
        else:
            kept[kind] = _bare_message(content, keep_command=True)
    return kept


def _bare_message(message: dict[str, Any], *, keep_command: bool) -> dict[str, Any]:
    bare = {key: message[key] for key in MESSAGE_KEEPS if key in message}
    text = message.get("text")
    if keep_command and isinstance(text, str) and text.startswith("/"):
        words = text.split()
        command = " ".join(words[:2]) if words[0].split("@")[0] == "/start" else words[0]
        bare["text"] = command
        bare["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(words[0].encode("utf-16-le")) // 2}
        ]
    return bare
