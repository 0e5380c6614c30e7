"""Plain data shared by the sandbox modules: chat messages, uploads and stored files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Order matters: the first key present in a Message object names its kind.
MESSAGE_KINDS = (
    "text",
    "photo",
    "voice",
    "document",
    "location",
    "sticker",
    "video",
    "video_note",
    "audio",
    "animation",
    "contact",
    "venue",
    "poll",
    "dice",
)


def message_kind(raw: dict[str, Any]) -> str:
    for kind in MESSAGE_KINDS:
        if kind in raw:
            return kind
    return "other"


def _buttons(raw: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Inline keyboard rows as (text, callback_data); other actions as "<action>:<value>"."""
    markup = raw.get("reply_markup") or {}
    rows: list[list[tuple[str, str]]] = []
    for row in markup.get("inline_keyboard", []):
        out: list[tuple[str, str]] = []
        for button in row:
            if "callback_data" in button:
                out.append((button["text"], button["callback_data"]))
                continue
            action = next((k for k in button if k not in ("text", "style", "icon_custom_emoji_id")), "")
            out.append((button["text"], f"{action}:{button.get(action, '')}"))
        rows.append(out)
    return rows


@dataclass(eq=False)
class ChatMessage:
    """One message of a private chat as the person sees it (edits update it in place)."""

    message_id: int
    chat_id: int
    from_bot: bool
    kind: str
    text: str | None
    html: str | None
    caption: str | None
    caption_html: str | None
    buttons: list[list[tuple[str, str]]]
    force_reply: bool
    reply_to_message_id: int | None
    copied_from: tuple[int, int] | None
    edited: bool
    date: int
    raw: dict[str, Any]
    deleted: bool = False

    @property
    def content(self) -> str:
        return self.text or self.caption or ""

    @classmethod
    def build(
        cls,
        raw: dict[str, Any],
        *,
        from_bot: bool,
        html: str | None = None,
        caption_html: str | None = None,
        force_reply: bool = False,
        copied_from: tuple[int, int] | None = None,
    ) -> ChatMessage:
        msg = cls(
            message_id=raw["message_id"],
            chat_id=raw["chat"]["id"],
            from_bot=from_bot,
            kind="",
            text=None,
            html=None,
            caption=None,
            caption_html=None,
            buttons=[],
            force_reply=force_reply,
            reply_to_message_id=None,
            copied_from=copied_from,
            edited=False,
            date=raw["date"],
            raw={},
        )
        msg.update(raw, html=html, caption_html=caption_html)
        return msg

    def update(
        self, raw: dict[str, Any], *, html: str | None = None, caption_html: str | None = None
    ) -> None:
        """Replace the content with a new Message object (after an edit)."""
        self.raw = raw
        self.kind = message_kind(raw)
        self.text = raw.get("text")
        # The "as sent" markup only exists while the message has that text at all.
        self.html = None if self.text is None else (html if html is not None else self.text)
        self.caption = raw.get("caption")
        self.caption_html = (
            None if self.caption is None else (caption_html if caption_html is not None else self.caption)
        )
        self.buttons = _buttons(raw)
        reply = raw.get("reply_to_message")
        self.reply_to_message_id = reply["message_id"] if reply else None
        self.edited = "edit_date" in raw


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass
class FileRecord:
    """A file the sandbox can serve through getFile and the download URL."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "voice", "document", "sticker", ...
    data: bytes = field(repr=False)
    file_path: str
    # The Bot API object describing it (PhotoSize list for photos, else a single object).
    meta: Any = None
