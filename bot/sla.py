"""The service clocks (服务时限): which promise each clock keeps, and when each is set and stopped.

A clock is a row in the database, started or stopped inside the same transaction as the decision it
belongs to (bot/timekeeper.py fires them). The ladder of a ticket's life:

    opened ─ accept (3 min) ─▶ next butler of the team … ─▶ the managers
           ─ remind (before the committed time) ─ lapse (the committed time: overdue)
    resolved ─ confirm (2 days): closed as confirmed by timeout
    closed ─ survey_reminder (1 day) ─ survey_give_up (3 days): a return visit by phone
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import ServiceLevels
from bot.model import Category, Ticket
from storage import clocks as clock_queries
from storage.clocks import DueClock


class ClockKind(StrEnum):
    ACCEPT = "accept"  # 三分钟服务承诺: the assigned butler must accept
    REMIND = "remind"  # the butler hears of the committed time before it lapses
    LAPSE = "lapse"  # the committed time itself: the ticket is overdue
    CONFIRM = "confirm"  # resolved, waiting for the resident to confirm or reopen
    SURVEY_REMINDER = "survey_reminder"  # 回访: ask for the rating once more
    SURVEY_GIVE_UP = "survey_give_up"  # 回访: the butler calls instead


WORK_CLOCKS = (ClockKind.ACCEPT, ClockKind.REMIND, ClockKind.LAPSE)
COMMITMENT_CLOCKS = (ClockKind.REMIND, ClockKind.LAPSE)
SURVEY_CLOCKS = (ClockKind.SURVEY_REMINDER, ClockKind.SURVEY_GIVE_UP)


def feedback_window(sla: ServiceLevels, category: Category) -> timedelta:
    """How long until the resident hears back: two days, four hours for an emergency."""
    return sla.emergency_feedback_within if category == Category.EMERGENCY else sla.feedback_within


def reminder_moment(now: datetime, due_at: datetime, remind_before: timedelta) -> datetime:
    """`remind_before` ahead of the committed time; for a commitment shorter than that (an emergency's
    four hours), half-way to it, so the reminder still comes while there is time to act."""
    return max(due_at - remind_before, now + (due_at - now) / 2)


def still_applies(clock: DueClock, ticket: Ticket) -> bool:
    """A reminder or lapse belongs to one committed time; once that time moved, it is not this one's."""
    return clock.detail.get("commitment") == ticket.due_at.isoformat()


async def start(
    conn: AsyncConnection,
    ticket: Ticket,
    kind: ClockKind,
    due_at: datetime,
    now: datetime,
    opened: bool = False,
    **detail: object,
) -> None:
    """Start the ticket's clock of `kind`, replacing one already running; a ticket `opened` in this
    same decision has none yet to look for."""
    await clock_queries.set_clock(
        conn,
        estate_id=ticket.estate_id,
        ticket_id=ticket.id,
        kind=kind.value,
        due_at=due_at,
        now=now,
        detail=dict(detail),
        replacing=not opened,
    )


async def stop(conn: AsyncConnection, ticket: Ticket, kinds: tuple[ClockKind, ...], now: datetime) -> None:
    await clock_queries.cancel_clocks(conn, ticket.id, tuple(kind.value for kind in kinds), now=now)


async def start_acceptance(
    conn: AsyncConnection,
    ticket: Ticket,
    sla: ServiceLevels,
    now: datetime,
    card_row: int | None,
    opened: bool = False,
) -> None:
    """The three minutes start when a butler is handed the ticket; the card's row lets a hop retire it."""
    assert ticket.butler_id is not None
    await start(
        conn,
        ticket,
        ClockKind.ACCEPT,
        now + sla.accept_within,
        now,
        opened,
        butler_id=ticket.butler_id,
        card_row=card_row,
    )


async def start_commitment(
    conn: AsyncConnection, ticket: Ticket, sla: ServiceLevels, now: datetime, opened: bool = False
) -> None:
    """(Re)start the clocks of the committed time: a reminder before it, and its lapse."""
    due = ticket.due_at.isoformat()
    remind_at = reminder_moment(now, ticket.due_at, sla.remind_before)
    if remind_at > now:
        await start(conn, ticket, ClockKind.REMIND, remind_at, now, opened, commitment=due)
    elif not opened:
        await stop(conn, ticket, (ClockKind.REMIND,), now)
    await start(conn, ticket, ClockKind.LAPSE, ticket.due_at, now, opened, commitment=due)


async def start_confirmation(
    conn: AsyncConnection, ticket: Ticket, sla: ServiceLevels, now: datetime, question_row: int | None
) -> None:
    """Resolved: the work clocks stop, and the resident's time to confirm starts."""
    await stop(conn, ticket, WORK_CLOCKS, now)
    await start(conn, ticket, ClockKind.CONFIRM, now + sla.confirm_within, now, question_row=question_row)


async def start_survey(conn: AsyncConnection, ticket: Ticket, sla: ServiceLevels, now: datetime) -> None:
    """Closed: the confirmation clock stops, and the return visit's two clocks start."""
    await stop(conn, ticket, (ClockKind.CONFIRM,), now)
    await start(conn, ticket, ClockKind.SURVEY_REMINDER, now + sla.survey_reminder_after, now)
    await start(conn, ticket, ClockKind.SURVEY_GIVE_UP, now + sla.survey_give_up_after, now)
