"""The timekeeper: fires service clocks when they come due, each exactly once.

The clocks themselves are rows in the database (bot/sla.py); this only decides *when* to look. APScheduler
holds one alarm, set for the earliest pending clock, and a heartbeat that looks once a minute in case the
wall clock jumped. Each due clock is fired in its own transaction: marking it fired and everything its
firing decides commit together, so a crash (even `kill -9`) loses no clock and fires none twice. Clocks
that came due while the bot was down fire at start-up, in the order they came due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.model import Ticket
from storage import clocks as clock_queries
from storage import tickets as ticket_queries
from storage.clocks import DueClock
from storage.database import Database

log = logging.getLogger(__name__)

OnDue = Callable[[AsyncConnection, Ticket, DueClock], Awaitable[None]]
# A clock of the whole estate rather than of a ticket (the managers' daily digest).
OnEstateDue = Callable[[AsyncConnection, DueClock], Awaitable[None]]
HEARTBEAT = timedelta(minutes=1)
LOOK_SOON = timedelta(milliseconds=50)
ALARM = "next-clock"


class Timekeeper:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        on_due: Mapping[str, OnDue],
        after_firing: Callable[[], None] = lambda: None,
        on_estate_due: Mapping[str, OnEstateDue] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._on_due = on_due
        self._on_estate_due = on_estate_due or {}
        self._after_firing = after_firing
        self._scheduler: AsyncIOScheduler | None = None
        self._wakeup = asyncio.Event()
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._alarm_for: datetime | None = None  # the due time the alarm is set for
        self._soon: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(self._alarm, "interval", seconds=HEARTBEAT.total_seconds(), id="heartbeat")
        self._scheduler.start()
        self._clock.watch(self.wake)
        self._task = asyncio.create_task(self._run(), name="timekeeper")
        self.wake()  # whatever came due while the bot was down fires now

    async def stop(self) -> None:
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look for due clocks now: time moved, or a clock was set that may be due at once."""
        self._wakeup.set()

    def look_soon(self) -> None:
        """A decision may have set a clock earlier than the alarm: look within LOOK_SOON. Updates coming
        in quick succession share one look, instead of two reads each (`guanjia bench`)."""
        if not self._wakeup.is_set() and self._soon is None:
            self._soon = asyncio.get_running_loop().call_later(LOOK_SOON.total_seconds(), self._look_now)

    def _look_now(self) -> None:
        self._soon = None
        self.wake()

    @property
    def idle(self) -> bool:
        return not self._wakeup.is_set() and not self._busy and self._soon is None

    async def _alarm(self) -> None:
        self._alarm_for = None  # a date alarm runs once: the next look sets it again
        self.wake()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._busy = True
            try:
                # Most wake-ups (one after every update) find nothing due: one look, without a lock, tells
                # both that and when the next clock comes due.
                async with self._db.read() as conn:
                    due = await clock_queries.next_due(conn, self._clock.now())
                    earliest = None if due else await clock_queries.earliest_pending(conn)
                if due is not None:
                    if await self.fire_due():
                        self._after_firing()
                    async with self._db.read() as conn:
                        earliest = await clock_queries.earliest_pending(conn)
                self._set_alarm(earliest)
            except Exception:  # e.g. the database was locked for too long: the heartbeat tries again
                log.exception("firing service clocks failed")
            finally:
                self._busy = False

    async def fire_due(self) -> int:
        """Fire every clock due by now, oldest first; returns how many fired."""
        # Most wake-ups (one after every update) find nothing due: looking takes no lock; only firing does.
        async with self._db.read() as conn:
            if await clock_queries.next_due(conn, self._clock.now()) is None:
                return 0
        fired = 0
        while True:
            async with self._db.begin() as conn:
                due = await clock_queries.next_due(conn, self._clock.now())
                if due is None:
                    return fired
                try:
                    async with conn.begin_nested():
                        await self._fire(conn, due)
                except OperationalError:
                    raise  # the database, not the clock: it stays pending and is tried again
                except Exception:
                    log.exception("service clock %s (%s) failed; marked failed", due.id, due.kind)
                    await clock_queries.settle(conn, due.id, "failed", now=self._clock.now())
                else:
                    fired += 1

    async def _fire(self, conn: AsyncConnection, due: DueClock) -> None:
        if not await clock_queries.settle(conn, due.id, "fired", now=self._clock.now()):
            return  # another process fired it a moment ago
        if due.ticket_id is None:
            on_estate_due = self._on_estate_due.get(due.kind)
            if on_estate_due is None:
                raise LookupError(f"no way to fire a {due.kind!r} clock of estate {due.estate_id}")
            await on_estate_due(conn, due)
            return
        on_due = self._on_due.get(due.kind)
        ticket = await ticket_queries.ticket_by_id(conn, due.ticket_id)
        if on_due is None or ticket is None:
            raise LookupError(f"no way to fire a {due.kind!r} clock for ticket {due.ticket_id}")
        await on_due(conn, ticket, due)

    def _set_alarm(self, earliest: datetime | None) -> None:
        """One alarm, for the earliest pending clock; left as it is when that has not changed."""
        if self._scheduler is None or earliest == self._alarm_for:
            return
        self._alarm_for = earliest
        if earliest is None:
            if self._scheduler.get_job(ALARM) is not None:
                self._scheduler.remove_job(ALARM)
            return
        # The injected clock may not be the wall clock (the demo's, the tests'): wait the difference.
        wait = max(timedelta(0), earliest - self._clock.now())
        self._scheduler.add_job(
            self._alarm,
            "date",
            run_date=datetime.now(UTC) + wait,
            id=ALARM,
            replace_existing=True,
            misfire_grace_time=None,  # an alarm that runs late still runs
        )
