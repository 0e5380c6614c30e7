"""Queries about announcements (公告): drafts, who receives one, and how its deliveries went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import Person, Role
from storage.people import PERSON_COLUMNS, to_person
from storage.schema import announcement_deliveries, announcements, outbox, people

# A draft's way: the audience is chosen, then the text written, then it is sent or cancelled.
CHOOSING, WRITING, READY, SENT, CANCELLED = "choosing", "writing", "ready", "sent", "cancelled"


@dataclass(frozen=True)
class Announcement:
    id: int
    estate_id: int
    author_id: int | None
    status: str
    choices: list[str]
    audience: str | None
    text: str | None
    preview_row: int | None
    created_at: datetime
    sent_at: datetime | None
    reported_at: datetime | None


@dataclass(frozen=True)
class Tally:
    """How the deliveries of a sent announcement went so far."""

    delivered: int = 0
    unreachable: int = 0  # Telegram refused it: blocked the bot, or never opened it
    not_on_telegram: int = 0  # no Telegram account known yet: nothing was queued for them
    pending: int = 0  # still in the outbox

    @property
    def settled(self) -> bool:
        return self.pending == 0


def _announcement(row: Row[Any]) -> Announcement:
    return Announcement(
        id=row.id,
        estate_id=row.estate_id,
        author_id=row.author_id,
        status=row.status,
        choices=list(row.choices),
        audience=row.audience,
        text=row.text,
        preview_row=row.preview_row,
        created_at=row.created_at,
        sent_at=row.sent_at,
        reported_at=row.reported_at,
    )


async def insert(
    conn: AsyncConnection,
    *,
    estate_id: int,
    author_id: int | None,
    status: str,
    choices: Sequence[str],
    now: datetime,
    audience: str | None = None,
    text: str | None = None,
) -> int:
    result = await conn.execute(
        announcements.insert().values(
            estate_id=estate_id,
            author_id=author_id,
            status=status,
            choices=list(choices),
            audience=audience,
            text=text,
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def by_id(conn: AsyncConnection, announcement_id: int) -> Announcement | None:
    row = (await conn.execute(sa.select(announcements).where(announcements.c.id == announcement_id))).first()
    return _announcement(row) if row is not None else None


async def move(
    conn: AsyncConnection, announcement_id: int, from_statuses: Sequence[str], **values: Any
) -> bool:
    """Change an announcement only if it is still in one of `from_statuses`: a second press of Send, or a
    Send after Cancel, finds it moved on and changes nothing. True if it changed."""
    result = await conn.execute(
        announcements.update()
        .where(announcements.c.id == announcement_id, announcements.c.status.in_(from_statuses))
        .values(**values)
    )
    return result.rowcount == 1


async def awaiting_text(conn: AsyncConnection, author_id: int, since: datetime) -> Announcement | None:
    """The author's latest draft waiting for its text, begun since `since`."""
    row = (
        await conn.execute(
            sa.select(announcements)
            .where(
                announcements.c.author_id == author_id,
                announcements.c.status == WRITING,
                announcements.c.created_at >= since,
            )
            .order_by(announcements.c.id.desc())
            .limit(1)
        )
    ).first()
    return _announcement(row) if row is not None else None


async def household(conn: AsyncConnection, estate_id: int) -> list[Person]:
    """Every active owner and resident of the estate, unit by unit."""
    rows = await conn.execute(
        sa.select(*PERSON_COLUMNS)
        .where(
            people.c.estate_id == estate_id,
            people.c.role.in_((Role.OWNER.value, Role.RESIDENT.value)),
            people.c.active,
        )
        .order_by(people.c.unit, people.c.role, people.c.name, people.c.id)
    )
    return [to_person(row) for row in rows]


async def add_deliveries(
    conn: AsyncConnection, announcement_id: int, deliveries: Sequence[tuple[int, int | None]]
) -> None:
    """One row per recipient: (person, their outbox row, or None when they are not on Telegram)."""
    if deliveries:
        await conn.execute(
            announcement_deliveries.insert(),
            [
                {"announcement_id": announcement_id, "person_id": person_id, "outbox_id": outbox_id}
                for person_id, outbox_id in deliveries
            ],
        )


async def tally(conn: AsyncConnection, announcement_id: int) -> Tally:
    """The deliveries by how they went: the outbox row's status (sent, failed, pending), or none queued."""
    rows = await conn.execute(
        sa.select(outbox.c.status, sa.func.count())
        .select_from(
            announcement_deliveries.outerjoin(outbox, outbox.c.id == announcement_deliveries.c.outbox_id)
        )
        .where(announcement_deliveries.c.announcement_id == announcement_id)
        .group_by(outbox.c.status)
    )
    counts: dict[str | None, int] = {status: count for status, count in rows}
    return Tally(
        delivered=counts.get("sent", 0),
        unreachable=counts.get("failed", 0),
        not_on_telegram=counts.get(None, 0),
        pending=counts.get("pending", 0),
    )


async def recently_sent(conn: AsyncConnection, estate_id: int, limit: int) -> list[Announcement]:
    rows = await conn.execute(
        sa.select(announcements)
        .where(announcements.c.estate_id == estate_id, announcements.c.sent_at.is_not(None))
        .order_by(announcements.c.sent_at.desc(), announcements.c.id.desc())
        .limit(limit)
    )
    return [_announcement(row) for row in rows]
