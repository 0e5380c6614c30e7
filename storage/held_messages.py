"""Queries for flood control (bot/flood.py): the requests a person got through lately, and the messages
held back from a flood until the hour allows them through."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import Incoming
from storage.clocks import PENDING
from storage.prepared import Prepared
from storage.schema import clocks, held_messages, ticket_events

# The events that are a household member's request reaching the staff: a new ticket, or a message into one.
# (A comment on a rating is logged as "commented" and an edit as "message_edited": neither counts.)
REQUEST_EVENTS = ("created", "message_from_resident")


@dataclass(frozen=True)
class HeldMessage:
    id: int
    person_id: int
    received_at: datetime
    incoming: Incoming


async def request_times(conn: AsyncConnection, person_id: int, since: datetime) -> list[datetime]:
    """When each of the person's requests after `since` went through to the staff, oldest first.

    Read by the (actor_id, kind, at) index: only this person's requests are looked at.
    """
    return [row.at for row in await _REQUEST_TIMES.all(conn, person_id=person_id, since=since)]


_REQUEST_TIMES = Prepared(
    sa.select(ticket_events.c.at)
    .where(
        ticket_events.c.kind.in_(REQUEST_EVENTS),
        ticket_events.c.at > sa.bindparam("since"),
        ticket_events.c.actor_id == sa.bindparam("person_id"),
    )
    .order_by(ticket_events.c.at)
)


async def hold(conn: AsyncConnection, person_id: int, incoming: Incoming, received_at: datetime) -> int:
    result = await conn.execute(
        held_messages.insert().values(
            person_id=person_id, received_at=received_at, incoming=dataclasses.asdict(incoming)
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def waiting_count(conn: AsyncConnection, person_id: int) -> int:
    """How many of the person's messages are held and not yet passed on."""
    return int(await _WAITING_COUNT.scalar(conn, person_id=person_id))


_WAITING_COUNT = Prepared(
    sa.select(sa.func.count()).where(
        held_messages.c.person_id == sa.bindparam("person_id"), held_messages.c.released_at.is_(None)
    )
)


async def oldest_waiting(conn: AsyncConnection, person_id: int, limit: int) -> list[HeldMessage]:
    """The person's held messages still waiting, in the order they came."""
    rows = await conn.execute(
        sa.select(held_messages)
        .where(held_messages.c.person_id == person_id, held_messages.c.released_at.is_(None))
        .order_by(held_messages.c.id)
        .limit(limit)
    )
    return [HeldMessage(row.id, row.person_id, row.received_at, _incoming(row.incoming)) for row in rows]


async def mark_released(conn: AsyncConnection, held_id: int, now: datetime) -> None:
    await conn.execute(held_messages.update().where(held_messages.c.id == held_id).values(released_at=now))


async def correct_waiting(conn: AsyncConnection, person_id: int, edited: Incoming) -> bool:
    """The person edited a message that is still held: it will be passed on as corrected.

    False if no waiting message of theirs is that message (it was passed on already, or never held).
    """
    rows = await conn.execute(
        sa.select(held_messages.c.id, held_messages.c.incoming).where(
            held_messages.c.person_id == person_id, held_messages.c.released_at.is_(None)
        )
    )
    for held_id, stored in rows.all():
        if (stored.get("chat_id"), stored.get("message_id")) == (edited.chat_id, edited.message_id):
            corrected = {**stored, "text": edited.text}
            await conn.execute(
                held_messages.update().where(held_messages.c.id == held_id).values(incoming=corrected)
            )
            return True
    return False


async def release_clock_pending(conn: AsyncConnection, estate_id: int, kind: str, person_id: int) -> bool:
    """Whether a clock of `kind` is waiting to release this person's held messages."""
    details = await conn.execute(
        sa.select(clocks.c.detail).where(
            clocks.c.estate_id == estate_id,
            clocks.c.ticket_id.is_(None),
            clocks.c.kind == kind,
            clocks.c.status == PENDING,
        )
    )
    return any(detail.get("person_id") == person_id for detail in details.scalars())


def _incoming(stored: dict[str, Any]) -> Incoming:
    fields = {name: stored[name] for name in Incoming.__dataclass_fields__ if name in stored}
    if fields.get("location") is not None:
        fields["location"] = tuple(fields["location"])  # JSON has no tuples
    return Incoming(**fields)
