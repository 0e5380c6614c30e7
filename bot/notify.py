"""Telling people things: a template rendered in the person's language, queued in the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import outbox
from bot.clock import Clock
from bot.model import CAPTIONED_KINDS, Incoming, Person
from bot.outbox import Button, Keyboard
from bot.texts import Texts
from storage import people as people_queries


class Notifier:
    def __init__(self, texts: Texts, clock: Clock) -> None:
        self.texts = texts
        self._clock = clock

    async def tell(
        self,
        conn: AsyncConnection,
        person: Person,
        template: str,
        *,
        ticket_id: int | None = None,
        buttons: Keyboard | None = None,
        force_reply: bool = False,
        reply_to: int | None = None,
        expects: str | None = None,
        bulk: bool = False,
        **context: Any,
    ) -> int | None:
        """Queue a message to `person`; returns its outbox row (None if they are not on Telegram yet).

        `bulk`: one of many alike (an announcement), sent after the service's own messages."""
        if person.telegram_id is None:
            return None
        html = self.texts.render(person.language, template, me=person, **context)
        return await outbox.send_text(
            conn,
            person.telegram_id,
            html,
            now=self._clock.now(),
            ticket_id=ticket_id,
            buttons=buttons,
            force_reply=force_reply,
            reply_to=reply_to,
            expects=expects,
            bulk=bulk,
        )

    async def show_media(
        self,
        conn: AsyncConnection,
        person: Person,
        incoming: Incoming,
        header_template: str,
        *,
        ticket_id: int,
        reply_to: int | None = None,
        **context: Any,
    ) -> int | None:
        """Copy someone's photo, voice, file or location to `person`, headed by whose and which ticket.

        Kinds that can carry a caption get the header as their caption; the others (a location) get the
        header as a message of its own with the copy as a reply to it.
        """
        if person.telegram_id is None:
            return None
        header = self.texts.render(person.language, header_template, me=person, incoming=incoming, **context)
        now = self._clock.now()
        caption: str | None = header
        if incoming.kind not in CAPTIONED_KINDS:
            reply_to = await outbox.send_text(
                conn, person.telegram_id, header, now=now, ticket_id=ticket_id, reply_to=reply_to
            )
            caption = None
        return await outbox.copy_media(
            conn,
            person.telegram_id,
            from_chat_id=incoming.chat_id,
            message_id=incoming.message_id,
            caption_html=caption,
            ticket_id=ticket_id,
            reply_to=reply_to,
            now=now,
        )

    async def tell_managers(
        self,
        conn: AsyncConnection,
        estate_id: int,
        template: str,
        *,
        ticket_id: int | None = None,
        **context: Any,
    ) -> None:
        """Tell every manager of the estate, each in their own language."""
        for manager in await people_queries.managers_of_estate(conn, estate_id):
            await self.tell(conn, manager, template, ticket_id=ticket_id, **context)

    def button(self, person: Person, label: str, action: str, **context: Any) -> Button:
        return Button(self.texts.label(person.language, label, **context), action)
