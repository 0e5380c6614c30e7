"""The managers' figures: the daily digest of yesterday, today so far (/digest), and /report over a span.

The daily digest is a clock of the estate (see bot/timekeeper.py): it fires at the configured local
time, queues yesterday's report and its chart for every manager, and sets the next one, all in one
transaction. A digest missed while the bot was down fires when it is back, marked late; the `digests`
table holds one row per estate and day, so no day is ever sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import outbox
from bot.chart import TrendDay, render_trend
from bot.clock import Clock
from bot.config import ServiceLevels, Targets
from bot.model import Category, Person
from bot.notify import Notifier
from bot.reports import Report, make_report
from bot.spans import Span, SpanError, local_today, read_span
from storage import clocks as clock_queries
from storage import figures
from storage import people as people_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.schema import digests, estates

log = logging.getLogger(__name__)

DIGEST_CLOCK = "digest"
TREND_DAYS = 14
# Sent this long after its time, a digest says it is late (the bot was down, or the machine asleep).
LATE_AFTER = timedelta(minutes=10)


class Digest:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        levels: ServiceLevels,
        targets: Targets,
        send_at: time,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._levels = levels
        self._targets = targets
        self._send_at = send_at

    # ---- the daily digest ----------------------------------------------------------------------

    async def schedule(self) -> None:
        """At start-up: every estate has its next digest on the clocks, at the configured time.

        A digest clock already due stays as it is: it fires now, late, rather than being skipped. If the
        configured time changed and its latest moment has passed without that day's digest, it is due now.
        """
        async with self._db.begin() as conn:
            now = self._clock.now()
            every_estate = await conn.execute(sa.select(estates.c.id, estates.c.timezone))
            for estate_id, timezone in every_estate.all():
                zone = ZoneInfo(timezone)
                pending = await clock_queries.pending_estate_clock(conn, estate_id, DIGEST_CLOCK)
                if pending is not None and pending.due_at <= now:
                    continue
                moment = self._next_moment(now, zone)
                if pending is not None:
                    if pending.due_at == moment:
                        continue
                    await clock_queries.settle(conn, pending.id, "cancelled", now=now)
                    # A new time that has already come round since the last digest (the pending one's
                    # day before) owes that day's digest now.
                    last = self._last_moment(now, zone)
                    since_last_digest = last > pending.due_at - timedelta(days=1)
                    if since_last_digest and not await _sent(conn, estate_id, _day_of(last, zone)):
                        moment = last
                await clock_queries.set_clock(
                    conn, estate_id=estate_id, ticket_id=None, kind=DIGEST_CLOCK, due_at=moment, now=now
                )

    async def send_daily(self, conn: AsyncConnection, due: DueClock) -> None:
        """The digest clock fired: the next digest on the clocks, and yesterday's figures to every manager."""
        now = self._clock.now()
        zone = await people_queries.estate_zone(conn, due.estate_id)
        await clock_queries.set_clock(
            conn,
            estate_id=due.estate_id,
            ticket_id=None,
            kind=DIGEST_CLOCK,
            due_at=self._next_moment(now, zone),
            now=now,
        )
        # The next digest is set first and outside what follows: a digest that fails to be made today (a
        # bug, bad data) is logged and rolled back, but never stops tomorrow's.
        try:
            async with conn.begin_nested():
                await self._send_day(conn, due.estate_id, zone, now)
        except OperationalError:
            raise  # the database itself: the whole firing is retried
        except Exception:
            log.exception("the daily digest of estate %s could not be made", due.estate_id)

    async def _send_day(self, conn: AsyncConnection, estate_id: int, zone: ZoneInfo, now: datetime) -> None:
        # The digest of the latest send time that has passed: however long the bot was down, one digest,
        # of the last day whose digest was due (older days are in /report).
        meant_for = self._last_moment(now, zone)
        day = _day_of(meant_for, zone)
        late = now - meant_for > LATE_AFTER
        if await _sent(conn, estate_id, day):
            return
        managers = [m for m in await people_queries.managers_of_estate(conn, estate_id) if m.telegram_id]
        if not managers:
            return  # no manager on Telegram yet: nothing is sent, so the day is not marked as sent
        await conn.execute(
            digests.insert().values(estate_id=estate_id, day=day, due_at=meant_for, sent_at=now, late=late)
        )
        report = await make_report(conn, estate_id, Span.day(day, zone), now, self._levels, self._targets)
        trend = await _trend(conn, estate_id, Span.ending(day, TREND_DAYS, zone))
        chart = await self._chart(trend, conn, day, now)
        for manager in managers:
            await self._tell_report(conn, manager, report, "daily", late=late, meant_for=meant_for)
            if chart is not None:
                await self._send_chart(conn, manager, chart, trend, now)

    async def _chart(
        self, trend: list[TrendDay], conn: AsyncConnection, day: date, now: datetime
    ) -> int | None:
        """The chart, stored once for every manager; None if it could not be drawn (the text still goes)."""
        try:
            # Drawing takes a moment of CPU: off the event loop, so other chats are not held up meanwhile.
            png = await asyncio.to_thread(render_trend, trend, self._targets.repairs_on_time)
        except Exception:
            log.exception("the digest's chart could not be drawn")
            return None
        return await outbox.attach(conn, f"digest-{day.isoformat()}.png", png, now=now)

    def _next_moment(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The next time a digest is due: today at the configured time, or tomorrow if that has passed."""
        moment = self._moment_on(local_today(now, zone), zone)
        return moment if moment > now else self._moment_on(local_today(now, zone) + timedelta(days=1), zone)

    def _last_moment(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The latest time a digest was due, at or before `now`."""
        moment = self._moment_on(local_today(now, zone), zone)
        return moment if moment <= now else self._moment_on(local_today(now, zone) - timedelta(days=1), zone)

    def _moment_on(self, day: date, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, self._send_at, tzinfo=zone)

    async def _send_chart(
        self, conn: AsyncConnection, manager: Person, attachment: int, trend: list[TrendDay], now: datetime
    ) -> None:
        if manager.telegram_id is None:
            return
        caption = self._notify.texts.render(
            manager.language,
            "digest_chart",
            first=trend[0].day,
            last=trend[-1].day,
            target=self._targets.repairs_on_time,
        )
        await outbox.send_file(
            conn, manager.telegram_id, attachment, as_photo=True, caption_html=caption, now=now
        )

    # ---- on request ------------------------------------------------------------------------------

    async def show_today(self, manager: Person) -> Report:
        """/digest: today so far."""
        async with self._db.read() as conn:
            zone = await people_queries.estate_zone(conn, manager.estate_id)
            now = self._clock.now()
            span = Span.day(local_today(now, zone), zone)
            report = await make_report(conn, manager.estate_id, span, now, self._levels, self._targets)
        await self._tell(manager, report, "today")
        return report

    async def show_report(self, manager: Person, words: list[str]) -> Report | None:
        """/report week, /report month, /report 2026-11, /report 2026-11-01 2026-11-15."""
        # Counted from a snapshot, without the write lock: a year's span must not hold up decisions.
        async with self._db.read() as conn:
            zone = await people_queries.estate_zone(conn, manager.estate_id)
            now = self._clock.now()
            try:
                span = read_span(words, local_today(now, zone), zone)
            except SpanError:
                report = None
            else:
                report = await make_report(conn, manager.estate_id, span, now, self._levels, self._targets)
        if report is None:
            async with self._db.begin() as conn:
                await self._notify.tell(conn, manager, "report_usage")
            return None
        await self._tell(manager, report, "span")
        return report

    async def _tell(self, manager: Person, report: Report, kind: str) -> None:
        async with self._db.begin() as conn:
            await self._tell_report(conn, manager, report, kind)

    async def _tell_report(
        self,
        conn: AsyncConnection,
        manager: Person,
        report: Report,
        kind: str,
        *,
        late: bool = False,
        meant_for: datetime | None = None,
    ) -> None:
        await self._notify.tell(
            conn,
            manager,
            "report",
            report=report,
            kind=kind,
            late=late,
            meant_for=meant_for,
            categories=[category.value for category in Category],
        )


def _day_of(meant_for: datetime, zone: ZoneInfo) -> date:
    """The day a digest is about: the day before the one it is sent on."""
    return meant_for.astimezone(zone).date() - timedelta(days=1)


async def _sent(conn: AsyncConnection, estate_id: int, day: date) -> bool:
    found = await conn.execute(
        sa.select(digests.c.id).where(digests.c.estate_id == estate_id, digests.c.day == day)
    )
    return found.first() is not None


async def _trend(conn: AsyncConnection, estate_id: int, span: Span) -> list[TrendDay]:
    days = []
    for day in span.days():
        counts = await figures.day_counts(conn, estate_id, day.start, day.end)
        rate = counts.repairs_on_time / counts.repairs_resolved if counts.repairs_resolved else None
        days.append(TrendDay(day.first_day, counts.new, counts.resolved, rate))
    return days
