"""/ticket N: a ticket's whole history, for the staff who answer for it.

Every service record must be traceable (服务记录真实、完整), so a manager can read any ticket of the
estate from its opening to its return visit, event by event. A butler reads the tickets they answer
for: the one they have now, any they acted on before it moved on (accepted, wrote into, resolved ...),
and any they were given a follow-up on (a return-visit call or a second service), since they need the
history before they call. Anyone else, and any number that does not exist, gets one and the same
answer, so the command never tells whether a ticket exists, let alone whose it is.

Nothing changes here, yet the answer is queued in the outbox like every other reply, so it arrives in
order with the rest.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import Person, Role, Ticket
from bot.money import from_cents
from bot.notify import Notifier
from storage import people as people_queries
from storage import tickets as ticket_queries
from storage.database import Database

# "1024" or "#1024"; a Chinese keyboard may give the full-width "＃" and digits, which int() reads.
# Nine digits at most, like the buttons' data: the number must fit the database's integer.
NUMBER = re.compile(r"[#＃]?(\d{1,9})")

# Detail values stored as ISO times, by event kind: shown in local time like every other time.
TIMES_IN_DETAIL: dict[str, tuple[str, ...]] = {
    "overdue": ("due_at",),
    "reopened": ("due_at",),
    "category_raised": ("due_at",),
    "postponed": ("from", "to"),
    "postponement_requested": ("from", "to"),
    "postponement_refused": ("from", "to"),
    "service_ordered": ("preferred_at",),
}


@dataclass(frozen=True)
class LogEntry:
    """One line of the log: when, who (None: the bot itself, e.g. a clock that fired), what."""

    at: datetime
    actor: Person | None
    kind: str
    detail: dict[str, Any]


class TicketLog:
    def __init__(self, db: Database, notifier: Notifier) -> None:
        self._db = db
        self._notify = notifier

    async def show(self, person: Person, args: list[str]) -> None:
        """/ticket 1024: the ticket's header and every event in order, if `person` may see it."""
        number = ticket_number(args)
        async with self._db.begin() as conn:
            if number is None:
                await self._notify.tell(conn, person, "ticket_log_usage")
                return
            ticket = await ticket_queries.ticket_by_number(conn, person.estate_id, number)
            if ticket is None or not await _may_see(conn, person, ticket):
                await self._notify.tell(conn, person, "ticket_not_found", number=number)
                return
            events = await ticket_queries.events_of(conn, ticket.id)
            wanted = {ticket.requester_id, ticket.owner_id, ticket.butler_id} | {e.actor_id for e in events}
            people = {p.id: p for p in await people_queries.people_by_ids(conn, wanted)}
            entries = [
                LogEntry(
                    at=event.at,
                    actor=people.get(event.actor_id) if event.actor_id is not None else None,
                    kind=event.kind,
                    detail=_readable(event.kind, event.detail),
                )
                for event in events
            ]
            # Not tied to the ticket (no ticket_id): a reply to the log is not a message to the resident.
            await self._notify.tell(
                conn,
                person,
                "ticket_log",
                ticket=ticket,
                owner=people[ticket.owner_id],
                requester=people[ticket.requester_id],
                butler=people.get(ticket.butler_id) if ticket.butler_id is not None else None,
                entries=entries,
            )


def ticket_number(args: list[str]) -> int | None:
    """The ticket number the command names, or None if it names none."""
    if not args:
        return None
    found = NUMBER.fullmatch(args[0].strip())
    return int(found.group(1)) if found else None


def _readable(kind: str, stored: Any) -> dict[str, Any]:
    """The event's detail with its stored times turned back into times and amounts stored in cents
    (a paid service's price, an extra cost) into amounts: `price_cents` is shown as `price`; anything
    else as stored."""
    detail = dict(stored) if isinstance(stored, dict) else {}
    for key, value in list(detail.items()):
        if key.endswith("_cents") and isinstance(value, int):
            detail[key.removesuffix("_cents")] = from_cents(value)
    for key in TIMES_IN_DETAIL.get(kind, ()):
        value = detail.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # unreadable: shown as stored rather than not at all
                detail[key] = datetime.fromisoformat(value)
    return detail


async def _may_see(conn: AsyncConnection, person: Person, ticket: Ticket) -> bool:
    """A manager of the estate sees every ticket; a butler those they have, had a hand in, or follow up."""
    if person.estate_id != ticket.estate_id:
        return False
    if person.role == Role.MANAGER:
        return True
    if person.role != Role.BUTLER:
        return False
    if ticket.butler_id == person.id:
        return True
    return await ticket_queries.had_a_hand_in(conn, ticket.id, person.id)
