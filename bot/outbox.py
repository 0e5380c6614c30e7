"""Writing down the messages a decision will send, in the decision's own transaction.

Nothing here talks to Telegram: a row says what to send to which chat; bot/sender.py delivers it. Kinds:
- send_text:    an HTML text, optionally with inline buttons, a forced reply, or as a reply to an earlier row
- copy_media:   a copy (never a forward) of a message someone sent, with an optional caption
- send_photo, send_document: a file the bot made (a chart, an export), stored once in `attachments`
- edit_buttons: new buttons for a message sent earlier (found by its outbox row)
- edit_text:    new text and buttons for a message sent earlier, e.g. a price list paged in place
- set_commands: the command menu shown to one chat
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.html_split import CAPTION_LIMIT, split_html, visible_length
from storage.prepared import Prepared, insert_into
from storage.schema import attachments, outbox, ticket_events


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # callback data: "<verb>:<ticket id>[:<value>]", checked again on the server when pressed


Keyboard = list[list[Button]]


def _keyboard(buttons: Keyboard | None) -> list[list[dict[str, str]]] | None:
    if not buttons:
        return None
    return [[{"label": b.label, "action": b.action} for b in row] for row in buttons]


async def _insert(
    conn: AsyncConnection,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    ticket_id: int | None,
    now: datetime,
    attachment_id: int | None = None,
    bulk: bool = False,
) -> int:
    return await _INSERT.insert(
        conn,
        chat_id=chat_id,
        kind=kind,
        payload=payload,
        ticket_id=ticket_id,
        created_at=now,
        attachment_id=attachment_id,
        bulk=bulk,
    )


_INSERT = insert_into(
    outbox, ("chat_id", "kind", "payload", "ticket_id", "created_at", "attachment_id", "bulk")
)


async def send_text(
    conn: AsyncConnection,
    chat_id: int,
    html: str,
    *,
    now: datetime,
    ticket_id: int | None = None,
    buttons: Keyboard | None = None,
    force_reply: bool = False,
    reply_to: int | None = None,
    expects: str | None = None,
    bulk: bool = False,
) -> int:
    """Queue a text; a long one becomes several messages, the buttons on the last. Returns its row id.

    `bulk` (an announcement to many) lets every other message go first (bot/sender.py).
    """
    parts = split_html(html)
    row_id = 0
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        payload = {
            "html": part,
            "buttons": _keyboard(buttons) if last else None,
            "force_reply": force_reply and last,
            "reply_to": reply_to if index == 0 else None,
            "expects": expects if last else None,
        }
        row_id = await _insert(conn, chat_id, "send_text", payload, ticket_id, now, bulk=bulk)
    return row_id


async def copy_media(
    conn: AsyncConnection,
    chat_id: int,
    *,
    from_chat_id: int,
    message_id: int,
    now: datetime,
    caption_html: str | None = None,
    ticket_id: int | None = None,
    reply_to: int | None = None,
) -> int:
    if caption_html is not None and visible_length(caption_html) > CAPTION_LIMIT:
        # A caption has a smaller limit than a message: send the words first, then the bare media.
        reply_to = await send_text(
            conn, chat_id, caption_html, now=now, ticket_id=ticket_id, reply_to=reply_to
        )
        caption_html = None
    payload = {
        "from_chat_id": from_chat_id,
        "message_id": message_id,
        "caption_html": caption_html,
        "reply_to": reply_to,
    }
    return await _insert(conn, chat_id, "copy_media", payload, ticket_id, now)


async def attach(conn: AsyncConnection, filename: str, content: bytes, *, now: datetime) -> int:
    """Store a file once, however many people it goes to; returns its id for send_file."""
    return await _ATTACH.insert(conn, filename=filename, content=content, size=len(content), created_at=now)


_ATTACH = insert_into(attachments, ("filename", "content", "size", "created_at"))


async def send_file(
    conn: AsyncConnection,
    chat_id: int,
    attachment_id: int,
    *,
    as_photo: bool,
    now: datetime,
    caption_html: str | None = None,
) -> int:
    """Queue a stored file as a photo (shown inline) or a document (kept as a file, e.g. a CSV)."""
    if caption_html is not None and visible_length(caption_html) > CAPTION_LIMIT:
        await send_text(conn, chat_id, caption_html, now=now)
        caption_html = None
    kind = "send_photo" if as_photo else "send_document"
    return await _insert(conn, chat_id, kind, {"caption_html": caption_html}, None, now, attachment_id)


async def edit_buttons(
    conn: AsyncConnection, chat_id: int, of_row: int, buttons: Keyboard | None, *, now: datetime
) -> int:
    payload = {"of": of_row, "buttons": _keyboard(buttons)}
    return await _insert(conn, chat_id, "edit_buttons", payload, None, now)


async def edit_text(
    conn: AsyncConnection,
    chat_id: int,
    of_row: int,
    html: str,
    buttons: Keyboard | None,
    *,
    now: datetime,
) -> int:
    """Replace the text and buttons of a message sent earlier; the new text must fit one message."""
    if len(split_html(html)) != 1:
        raise ValueError("an edited message cannot be split into several")
    payload = {"of": of_row, "html": html, "buttons": _keyboard(buttons)}
    return await _insert(conn, chat_id, "edit_text", payload, None, now)


async def set_commands(
    conn: AsyncConnection, chat_id: int, commands: list[tuple[str, str]], *, now: datetime
) -> int:
    payload = {"commands": [list(command) for command in commands]}
    return await _insert(conn, chat_id, "set_commands", payload, None, now)


@dataclass(frozen=True)
class MessageRef:
    """What a message in a chat belongs to: its ticket, and whether the bot asked for a particular answer."""

    ticket_id: int
    expects: str | None = None


async def find_message(conn: AsyncConnection, chat_id: int, message_id: int) -> MessageRef | None:
    """The ticket a chat message belongs to: one the bot sent, or one the person sent into a ticket."""
    sent = await _SENT.first(conn, chat_id=chat_id, message_id=message_id)
    if sent is not None and sent.ticket_id is not None:
        return MessageRef(sent.ticket_id, sent.payload.get("expects"))
    received = await _RECEIVED.first(conn, chat_id=chat_id, message_id=message_id)
    return MessageRef(received.ticket_id) if received is not None else None


# A chat's message ids are unique: at most one row each.
_SENT = Prepared(
    sa.select(outbox.c.id, outbox.c.ticket_id, outbox.c.payload).where(
        outbox.c.chat_id == sa.bindparam("chat_id"), outbox.c.sent_message_id == sa.bindparam("message_id")
    )
)
_RECEIVED = Prepared(
    sa.select(ticket_events.c.ticket_id).where(
        ticket_events.c.chat_id == sa.bindparam("chat_id"),
        ticket_events.c.message_id == sa.bindparam("message_id"),
    )
)


async def row_of_card(conn: AsyncConnection, chat_id: int, message_id: int) -> int | None:
    """The outbox row that produced a message in a chat, e.g. the card whose button was pressed."""
    sent = await _SENT.first(conn, chat_id=chat_id, message_id=message_id)
    return int(sent.id) if sent is not None else None


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent to a chat: its outbox row, its ticket if any, and what answer it asked for."""

    row: int
    ticket_id: int | None
    expects: str | None


async def sent_message(conn: AsyncConnection, chat_id: int, message_id: int) -> SentMessage | None:
    """The bot's message `message_id` in the chat, whether or not it belongs to a ticket."""
    found = await _SENT.first(conn, chat_id=chat_id, message_id=message_id)
    if found is None:
        return None
    return SentMessage(found.id, found.ticket_id, found.payload.get("expects"))
