"""Flood control: a household that writes a flood is slowed down politely, and nothing it sent is lost.

What counts. A *request* is a household member's message that reaches the staff: one that opens a ticket
and one relayed into an open ticket as a follow-up (each pings the butler, so a flood of follow-ups costs
them as much as a flood of tickets). Requests are counted from the event log (`created` and
`message_from_resident` by that person), so each counts from the moment it went through. A comment on a
rating, an edit, a button press and a command are not requests and are never held.

The limit. At most `[limits] requests_per_hour` (20) requests of one person go through in any rolling hour.
A message over the limit is not dropped: it is stored in `held_messages`, in the transaction that would
otherwise have opened or continued the ticket, and nothing is relayed. While any message of theirs is held,
later ones wait behind it, so they are passed on in the order they were sent. Editing a message that is
still held corrects what will be passed on.

Emergencies first. Every message is classified before it is held; an emergency (gas, fire, a serious leak,
someone trapped) goes straight through whatever the count and whatever is waiting: a resident who flooded
and then smells gas must not wait an hour. It counts towards the hour like any other request.

Release. A clock of the estate (`release_held`, detail `{"person_id": ...}`) comes due when the oldest
request in the window turns an hour old. It passes on as many waiting messages as the hour has room for,
oldest first, each through the ticket desk's normal path (TicketDesk.pass_on_held), so each becomes the new
ticket or follow-up it would have been. A reply still goes to the ticket it replied to; a message with no
reply context joins the open ticket that was active within the follow-up window before it *arrived*, not
before its release (an hour later every ticket would look quiet). The ticket and its events carry the
release time, which is when the staff heard of it and the resident is told where it went, so it is the
ticket's latest activity; the event's detail keeps the arrival (`held_since`). If messages still wait, the
clock is set again for the next free moment. Held rows and the clock are in the
database, so a restart loses neither; a release that fails is rolled back, logged, and tried again a few
minutes later, with the messages still waiting in order.

Who hears what. The person hears once per flood (when the first message is held, not for each one) that
their messages have arrived and will be passed on from a given time, and that an emergency still gets
through at once. The butler the flood was landing on (the butler of the ticket they were writing into, else
the one their team's new tickets go to; the managers when they hold that ticket or nobody can take it)
gets one quiet note at the same moment, so they know why the requests arrive spaced out and can call.
Nothing is said per held message: the messages themselves reach the staff as they are released.

Known limits: a held message is matched to its ticket when it is released, against the tickets as they are
then. So a message that came more than the follow-up window after the one before it may still join that
one's ticket if it was released in between (a merge, never a split: one ticket too few is better than the
same matter twice), and if an emergency overtakes the queue with a ticket of its own, released messages
without a reply may join it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import routing
from bot.classify import Classifier
from bot.clock import Clock
from bot.config import Limits
from bot.model import Category, Incoming, Person, Role
from bot.notify import Notifier
from storage import clocks as clock_queries
from storage import held_messages as held_queries
from storage import people as people_queries
from storage import tickets as ticket_queries
from storage.clocks import DueClock

log = logging.getLogger(__name__)

RELEASE_CLOCK = "release_held"
WINDOW = timedelta(hours=1)  # the limit is per rolling hour
RETRY_AFTER = timedelta(minutes=5)  # a release that failed (a bug, bad data) is tried again after this

# The ticket desk passing a held message on: (conn, who sent it, the message, when it arrived).
PassOn = Callable[[AsyncConnection, Person, Incoming, datetime], Awaitable[object]]


class FloodControl:
    def __init__(self, clock: Clock, notifier: Notifier, classifier: Classifier, limits: Limits) -> None:
        self._clock = clock
        self._notify = notifier
        self._classifier = classifier
        self._per_hour = limits.requests_per_hour

    async def holds(
        self, conn: AsyncConnection, requester: Person, incoming: Incoming, now: datetime
    ) -> bool:
        """Whether this request must wait. If so it is stored to be passed on later, the release clock is
        set, and at the start of a flood the person and their butler are told; nothing else happens."""
        if self._classifier.classify(incoming.text) == Category.EMERGENCY:
            return False
        waiting = await held_queries.waiting_count(conn, requester.id)
        times = await held_queries.request_times(conn, requester.id, now - WINDOW)
        if waiting == 0 and len(times) < self._per_hour:
            return False
        await held_queries.hold(conn, requester.id, incoming, now)
        release_at = self._next_room(times, now)
        estate_id = requester.estate_id
        if not await held_queries.release_clock_pending(conn, estate_id, RELEASE_CLOCK, requester.id):
            await self._set_clock(conn, requester, release_at, now)
        if waiting == 0:
            await self._tell_of_flood(conn, requester, release_at, now)
        return True

    async def correct(self, conn: AsyncConnection, person: Person, edited: Incoming) -> bool:
        """An edit of a message still held: it will be passed on as corrected. False if none is held."""
        return await held_queries.correct_waiting(conn, person.id, edited)

    async def release(self, conn: AsyncConnection, due: DueClock, pass_on: PassOn) -> None:
        """The release clock fired: pass on what the hour has room for; set it again if more wait."""
        person = await people_queries.person_by_id(conn, int(due.detail["person_id"]))
        now = self._clock.now()
        try:
            async with conn.begin_nested():
                await self._pass_on_what_fits(conn, person, now, pass_on)
        except OperationalError:
            raise  # the database itself: the clock stays pending and the whole firing is tried again
        except Exception:
            # Held, not lost: the messages stay waiting, in order, and are tried again shortly.
            log.exception("held messages of person %s could not be passed on; trying again later", person.id)
            await self._set_clock(conn, person, now + RETRY_AFTER, now)
            return
        if await held_queries.waiting_count(conn, person.id):
            times = await held_queries.request_times(conn, person.id, now - WINDOW)
            await self._set_clock(conn, person, self._next_room(times, now), now)

    async def _pass_on_what_fits(
        self, conn: AsyncConnection, person: Person, now: datetime, pass_on: PassOn
    ) -> None:
        room = self._per_hour - len(await held_queries.request_times(conn, person.id, now - WINDOW))
        if room <= 0:
            return  # an emergency took the place meanwhile: the clock is set for the next one
        for message in await held_queries.oldest_waiting(conn, person.id, room):
            await held_queries.mark_released(conn, message.id, now)
            await pass_on(conn, person, message.incoming, message.received_at)

    def _next_room(self, times: list[datetime], now: datetime) -> datetime:
        """When the hour next has room for a request, given when the requests in it went through."""
        over = len(times) - self._per_hour
        if over < 0:
            return now
        # The window is (now - 1h, now]: a request leaves it exactly an hour after it went through.
        return times[over] + WINDOW

    async def _set_clock(
        self, conn: AsyncConnection, person: Person, due_at: datetime, now: datetime
    ) -> None:
        await clock_queries.set_clock(
            conn,
            estate_id=person.estate_id,
            ticket_id=None,
            kind=RELEASE_CLOCK,
            due_at=due_at,
            now=now,
            detail={"person_id": person.id},
        )

    async def _tell_of_flood(
        self, conn: AsyncConnection, requester: Person, release_at: datetime, now: datetime
    ) -> None:
        words: dict[str, Any] = {"requester": requester, "release_at": release_at, "per_hour": self._per_hour}
        await self._notify.tell(conn, requester, "flood_held", **words)
        butler = await self._butler_of(conn, requester, now)
        if butler is not None:
            await self._notify.tell(conn, butler, "flood_to_staff", **words)
        else:
            await self._notify.tell_managers(conn, requester.estate_id, "flood_to_staff", **words)

    async def _butler_of(self, conn: AsyncConnection, requester: Person, now: datetime) -> Person | None:
        """Who the flood was landing on: the butler of the ticket they were writing into, else the one
        their new tickets go to. None: the managers (they hold that ticket, or nobody in the team can)."""
        ticket = await ticket_queries.latest_open_ticket(conn, requester.id, now - WINDOW)
        if ticket is not None:
            if ticket.butler_id is None:
                return None
            butler = await people_queries.person_by_id(conn, ticket.butler_id)
            # A butler who has left the team since is not the one to tell.
            if butler.active and butler.team_id == ticket.team_id:
                return butler
        owner = requester
        if requester.role == Role.RESIDENT and requester.unit is not None:
            owner = await people_queries.owner_of_unit(conn, requester.estate_id, requester.unit) or owner
        return await routing.butler_for_team(conn, owner.team_id) if owner.team_id is not None else None
