"""The updates Telegram handed the bot: stored before they are acknowledged, handled from here, once.

"Once" rests on the claim: while an update is being handled, the first write transaction that commits
also marks the update handled (see `claim_in_hand`, called by Database.begin). If the process dies
before that commit, nothing of the update was decided and it is handled again at the next start; if it
dies after, the update is already marked and its second run stops at that same first transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.prepared import Prepared
from storage.schema import updates

RECEIVED, HANDLED, FAILED, REJECTED = "received", "handled", "failed", "rejected"


@dataclass
class InHand:
    """The update being handled in this task, and whether a committed decision has claimed it yet."""

    update_id: int
    at: datetime
    claimed: bool = False
    error: str | None = None  # set when a handler raised


class UpdateAlreadyHandled(Exception):
    """An earlier run committed this update's decision; this run must not decide it again."""


_in_hand: ContextVar[InHand | None] = ContextVar("update_in_hand", default=None)


@contextlib.contextmanager
def handling(in_hand: InHand) -> Iterator[InHand]:
    """Everything awaited inside (the handlers) runs on behalf of this update."""
    token = _in_hand.set(in_hand)
    try:
        yield in_hand
    finally:
        _in_hand.reset(token)


def in_hand() -> InHand | None:
    return _in_hand.get()


_CLAIM = Prepared(
    updates.update()
    .where(updates.c.update_id == sa.bindparam("update_id"), updates.c.status == RECEIVED)
    .values(status=HANDLED, handled_at=sa.bindparam("handled_at"), payload=None)
)


async def claim_in_hand(conn: AsyncConnection) -> bool:
    """Inside a write transaction: mark the update in hand as handled, or stop if that already happened.

    True if this transaction made the claim: should it roll back, `unclaim` says so.
    """
    current = _in_hand.get()
    if current is None or current.claimed:
        return False
    if not await _CLAIM.run(conn, update_id=current.update_id, handled_at=current.at):
        raise UpdateAlreadyHandled(current.update_id)
    current.claimed = True
    return True


def unclaim() -> None:
    """The transaction that claimed the update in hand rolled back: the next one must claim it."""
    current = _in_hand.get()
    if current is not None:
        current.claimed = False


_STORE = Prepared(
    sqlite_insert(updates)
    .values({column.name: sa.bindparam(column.name) for column in updates.c})
    .on_conflict_do_nothing(index_elements=[updates.c.update_id])
)


async def store(
    conn: AsyncConnection,
    update_id: int,
    payload: dict[str, Any] | None,
    *,
    now: datetime,
    rejected: str | None = None,
) -> bool:
    """Keep an update unless it is already kept (Telegram resends what was not acknowledged).

    A rejected update is kept without its payload: its id, so it is never taken for new, and why.
    """
    stored = await _STORE.run(
        conn,
        update_id=update_id,
        received_at=now,
        payload=None if rejected else payload,
        status=REJECTED if rejected else RECEIVED,
        error=rejected,
        handled_at=now if rejected else None,
    )
    return bool(stored)


async def start_waiting_from(conn: AsyncConnection, telegram_id: int) -> bool:
    """Whether a /start from this account is stored and not yet handled (an invite being redeemed)."""
    found = await conn.execute(
        sa.select(updates.c.update_id)
        .where(
            updates.c.status == RECEIVED,
            updates.c.payload[("message", "from", "id")].as_integer() == telegram_id,
            updates.c.payload[("message", "text")].as_string().startswith("/start "),
        )
        .limit(1)
    )
    return found.first() is not None


_OLDEST_RECEIVED = Prepared(
    sa.select(updates.c.update_id, updates.c.payload)
    .where(updates.c.status == RECEIVED)
    .order_by(updates.c.update_id)
    .limit(sa.bindparam("limit"))
)


async def oldest_received(conn: AsyncConnection, limit: int) -> list[tuple[int, Any]]:
    """Up to `limit` stored updates not yet handled, oldest first."""
    rows = await _OLDEST_RECEIVED.all(conn, limit=limit)
    return [(int(row.update_id), row.payload) for row in rows]


_SETTLE_FAILED = Prepared(
    updates.update()
    .where(updates.c.update_id == sa.bindparam("update_id"))
    .values(
        status=sa.bindparam("status"),
        handled_at=sa.bindparam("at"),
        error=sa.bindparam("error"),
        payload=sa.bindparam("payload"),
    )
)
_SETTLE = Prepared(_SETTLE_FAILED.statement.where(updates.c.status == RECEIVED))


async def settle(
    conn: AsyncConnection,
    update_id: int,
    status: str,
    *,
    now: datetime,
    error: str | None,
    payload: Any = None,
) -> None:
    """Record how handling ended, for an update no decision claimed, or one that failed.

    A handled update's content is dropped (by the claim, or here): what it said lives on in the tickets,
    and a stranger's was not ours to keep. A failed one is recorded even over a claim (its decision was
    rolled back; what committed was the apology) and keeps its content, `payload`, so that nothing a
    resident sent is lost.
    """
    if status == FAILED:
        await _SETTLE_FAILED.run(
            conn, update_id=update_id, status=status, at=now, error=error, payload=payload
        )
    else:
        await _SETTLE.run(conn, update_id=update_id, status=status, at=now, error=error, payload=None)


async def forget_before(conn: AsyncConnection, before: datetime) -> int:
    """Drop settled updates older than any redelivery could be; their content lives on in the tickets.

    Failed ones stay, with what was sent, until someone has looked at them. The newest update stays too,
    however old: it is the mark of how far Telegram's updates were taken."""
    newest = sa.select(sa.func.max(updates.c.update_id)).scalar_subquery()
    result = await conn.execute(
        updates.delete().where(
            updates.c.received_at < before,
            updates.c.status.in_((HANDLED, REJECTED)),
            updates.c.update_id < newest,
        )
    )
    return int(result.rowcount)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(sa.select(updates.c.status, sa.func.count()).group_by(updates.c.status))
    return {str(status): int(count) for status, count in rows}


async def highest_id(conn: AsyncConnection) -> int | None:
    value = (await conn.execute(sa.select(sa.func.max(updates.c.update_id)))).scalar()
    return int(value) if value is not None else None
