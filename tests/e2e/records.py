"""What the bot recorded, for end-to-end tests to check alongside what people received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot.embedded import EmbeddedEstate
from bot.intake import Intake
from bot.sandbox.models import ChatMessage
from bot.sandbox.user import SandboxUser
from storage.schema import people, ticket_events, tickets
from tests.conftest import SHANGHAI


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026, the test estate's month, in its local time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


async def ticket_row(estate: EmbeddedEstate, number: int = 1001) -> Any:
    async with estate.db.engine.connect() as conn:
        return (await conn.execute(sa.select(tickets).where(tickets.c.number == number))).one()


async def event_kinds(estate: EmbeddedEstate, number: int = 1001) -> list[str]:
    """The ticket's event log, oldest first."""
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(ticket_events.c.kind)
            .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
            .where(tickets.c.number == number)
            .order_by(ticket_events.c.id)
        )
        return [row.kind for row in rows]


async def person_id(estate: EmbeddedEstate, telegram_id: int) -> int:
    async with estate.db.engine.connect() as conn:
        found = await conn.execute(sa.select(people.c.id).where(people.c.telegram_id == telegram_id))
        return int(found.scalar_one())


def is_daily_digest(message: ChatMessage) -> bool:
    """The managers' daily digest and its chart, which arrive whenever a test's clock passes 08:00."""
    return message.kind == "photo" or message.content.startswith(("Daily digest", "服务日报"))


def alerts(user: SandboxUser) -> list[ChatMessage]:
    """What reached a manager apart from the daily digest."""
    return [message for message in user.inbox if not is_daily_digest(message)]


def refuse_first_store(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The database refuses the first batch of updates the intake stores; returns the refused sizes."""
    store = Intake.store
    refused: list[int] = []

    async def store_failing_once(self: Intake, raw_updates: list[object]) -> int | None:
        if not refused:
            refused.append(len(raw_updates))
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return await store(self, raw_updates)

    monkeypatch.setattr(Intake, "store", store_failing_once)
    return refused
