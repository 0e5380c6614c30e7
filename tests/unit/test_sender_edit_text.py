"""The outbox's edits: a message replaced in place (the price list paged), or given up when the message
never arrived, without holding back the chat's later messages."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import BadRequest

from bot import outbox
from bot.clock import ManualClock
from bot.outbox import Button
from storage.database import Database
from tests.unit.test_sender import FakeTime, ScriptedBot, _errors, _queue, _sender, _statuses


class EditingBot(ScriptedBot):
    def __init__(self) -> None:
        super().__init__()
        self.edits: list[tuple[int, int, str, Any]] = []

    async def edit_message_text(self, text: str, chat_id: int, message_id: int, **rest: Any) -> None:
        self.edits.append((chat_id, message_id, text, rest["reply_markup"]))


async def test_an_edit_replaces_the_text_and_buttons_of_the_message_sent(
    db: Database, clock: ManualClock
) -> None:
    bot = EditingBot()
    await _queue(db, clock, (1, "page 1"))
    async with db.begin() as conn:
        await outbox.edit_text(conn, 1, 1, "page 2", [[Button("‹ Previous", "services:1")]], now=clock.now())
    await _sender(db, bot, clock, FakeTime()).deliver_pending()
    assert bot.delivered == [(1, "page 1")]
    [(chat_id, message_id, text, markup)] = bot.edits
    assert (chat_id, message_id, text) == (1, 100, "page 2")
    assert markup.inline_keyboard[0][0].callback_data == "services:1"
    assert await _statuses(db) == [(1, "sent", 1), (1, "sent", 1)]


@pytest.mark.parametrize("kind", ["edit_text", "edit_buttons"])
async def test_an_edit_of_a_message_never_delivered_is_given_up_and_holds_nothing_back(
    db: Database, clock: ManualClock, kind: str
) -> None:
    bot = EditingBot()
    bot.fail(1, BadRequest("Chat not found"))
    await _queue(db, clock, (1, "page 1"))
    async with db.begin() as conn:
        if kind == "edit_text":
            await outbox.edit_text(conn, 1, 1, "page 2", None, now=clock.now())
        else:
            await outbox.edit_buttons(conn, 1, 1, None, now=clock.now())
    await _queue(db, clock, (1, "later"))
    await _sender(db, bot, clock, FakeTime()).deliver_pending()
    assert bot.edits == [] and bot.delivered == [(1, "later")]
    assert await _statuses(db) == [(1, "failed", 1), (1, "failed", 1), (1, "sent", 1)]
    assert (await _errors(db))[1] == "message to edit was never delivered"


async def test_an_edit_must_fit_one_message(db: Database, clock: ManualClock) -> None:
    async with db.begin() as conn:
        with pytest.raises(ValueError, match="cannot be split"):
            await outbox.edit_text(conn, 1, 1, "x\n" * 3000, None, now=clock.now())
