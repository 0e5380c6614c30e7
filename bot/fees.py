"""Fee reminders (物业费催缴): staged, polite reminders of an unpaid property fee, stopped once it is paid.

Stages. Each unpaid fee (bot/fee_import.py) gets up to three messages to its unit's owner, each on its day
at `[fees] send_at` (10:00) in the estate's time, so none ever arrives at night:
- the notice, `notice_before` (7 days) before the due date;
- the reminder, `remind_after` (3 days) after it;
- the final reminder, `final_after` (15 days) after it; the managers hear of it too, with *Mark paid*.

One clock at a time. A fee has at most one pending clock, its next stage's, whose id the fee row keeps.
Firing it sends that stage and sets the next one, in the timekeeper's one transaction. A payment cancels
it in the transaction that records the payment, and a clock sends nothing unless its fee is unpaid and it
is still the fee's clock: whichever commits first, a reminder never follows a payment.

Late. A fee imported late, or a bot that was down at send_at, does not pour out every stage it missed:
only the latest stage whose day has come goes, at the next send_at, then the later ones on their days. A
stage is only ever sent after the one recorded before it, so none goes out of order or twice.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards, outbox
from bot.clock import Clock
from bot.config import FeeTiming
from bot.model import Outcome, Person, PressedOn, Role
from bot.notify import Notifier
from bot.outbox import Button, Keyboard
from bot.spans import local_today
from storage import clocks as clock_queries
from storage import fees as fee_queries
from storage import people as people_queries
from storage.clocks import DueClock
from storage.database import Database
from storage.fees import Fee

STAGES = ("notice", "reminder", "final")
CLOCK_OF = {stage: f"fee_{stage}" for stage in STAGES}  # fee_notice, fee_reminder, fee_final
FEE_CLOCKS = tuple(CLOCK_OF.values())
# A stage whose clock fires this long after send_at (the bot was down) waits for the next day's send_at.
SENDING_HOURS = timedelta(hours=4)
PAGE = 20  # fees per /fees message: 20 lines and 20 buttons stay well inside Telegram's limits
PAID_VERB = "fee_paid"


@dataclass(frozen=True)
class FeeCalendar:
    """When each stage of a fee goes, in one estate's time."""

    timing: FeeTiming
    zone: ZoneInfo

    def moment(self, stage: str, due_on: date) -> datetime:
        offset = {
            "notice": -self.timing.notice_before,
            "reminder": self.timing.remind_after,
            "final": self.timing.final_after,
        }[stage]
        return self._send_at_on(due_on + offset)

    def next_send_at(self, now: datetime) -> datetime:
        today = self._send_at_on(local_today(now, self.zone))
        return today if today >= now else self._send_at_on(local_today(now, self.zone) + timedelta(days=1))

    def in_sending_hours(self, now: datetime) -> bool:
        start = self._send_at_on(local_today(now, self.zone))
        return start <= now < start + SENDING_HOURS

    def due_stage(self, due_on: date, last: str | None, now: datetime) -> str | None:
        """The latest stage after `last` whose time has come, if any: the one that goes now."""
        come = [stage for stage in _after(last) if self.moment(stage, due_on) <= now]
        return come[-1] if come else None

    def next_stage(self, due_on: date, last: str | None, now: datetime) -> tuple[str, datetime] | None:
        """The next stage to send after `last`, and when; None once the final reminder has gone."""
        late = self.due_stage(due_on, last, now)
        if late is not None:
            return late, self.next_send_at(now)
        rest = _after(last)
        return (rest[0], self.moment(rest[0], due_on)) if rest else None

    def _send_at_on(self, day: date) -> datetime:
        return datetime.combine(day, self.timing.send_at, tzinfo=self.zone)


def _after(stage: str | None) -> tuple[str, ...]:
    return STAGES if stage is None else STAGES[STAGES.index(stage) + 1 :]


async def calendar_of(conn: AsyncConnection, estate_id: int, timing: FeeTiming) -> FeeCalendar:
    return FeeCalendar(timing, await people_queries.estate_zone(conn, estate_id))


async def schedule_next(conn: AsyncConnection, fee: Fee, calendar: FeeCalendar, now: datetime) -> None:
    """Put the fee's next stage on the clocks, replacing its pending clock unless that is the same one."""
    step = calendar.next_stage(fee.due_on, fee.stage, now)
    pending = await fee_queries.pending_clock(conn, fee.clock_id)
    if (
        pending is not None
        and step is not None
        and (pending.kind, pending.due_at) == (CLOCK_OF[step[0]], step[1])
    ):
        return  # a re-import that changes nothing keeps the clock as it is
    if pending is not None:
        await clock_queries.settle(conn, pending.id, "cancelled", now=now)
    clock_id = None
    if step is not None:
        stage, due_at = step
        clock_id = await clock_queries.set_clock(
            conn,
            estate_id=fee.estate_id,
            ticket_id=None,
            kind=CLOCK_OF[stage],
            due_at=due_at,
            now=now,
            detail={"fee_id": fee.id},
        )
    await fee_queries.set_next_clock(conn, fee.id, clock_id)


class FeeReminders:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, timing: FeeTiming) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier
        self._timing = timing

    # ---- the stages ----------------------------------------------------------------------------------

    async def send_stage(self, conn: AsyncConnection, due: DueClock) -> None:
        """A fee's clock fired: the stage whose day it is goes to the owner, and the next is set."""
        fee = await fee_queries.fee_by_id(conn, int(due.detail["fee_id"]))
        if fee is None or fee.paid or fee.clock_id != due.id:
            return  # paid meanwhile, or a clock a re-import replaced: nothing goes
        now = self._clock.now()
        calendar = await calendar_of(conn, fee.estate_id, self._timing)
        stage = calendar.due_stage(fee.due_on, fee.stage, now)
        if stage is None or not calendar.in_sending_hours(now):
            # The bot was down at send_at (or the due date moved): not now, at night, but at the next send_at.
            await schedule_next(conn, fee, calendar, now)
            return
        owner = await people_queries.owner_of_unit(conn, fee.estate_id, fee.unit)
        # Someone who blocked the bot is not reached either: the managers are to phone them.
        reached = owner is not None and owner.telegram_id is not None and not owner.unreachable
        if not await fee_queries.record_stage(conn, fee, stage, reached=reached, now=now):
            return  # paid, or sent, in the same instant by another process
        days_late = (local_today(now, calendar.zone) - fee.due_on).days
        if owner is not None:
            await self._notify.tell(conn, owner, f"fee_{stage}", fee=fee, fee_days_late=days_late)
        if stage == "final":
            await self._tell_managers_of_final(conn, fee, owner, reached, days_late)
        await schedule_next(conn, dataclasses.replace(fee, stage=stage, clock_id=None), calendar, now)

    async def _tell_managers_of_final(
        self, conn: AsyncConnection, fee: Fee, owner: Person | None, reached: bool, days_late: int
    ) -> None:
        for manager in await people_queries.managers_of_estate(conn, fee.estate_id):
            button = self._notify.button(manager, "button_fee_paid", f"{PAID_VERB}:{fee.id}")
            await self._notify.tell(
                conn,
                manager,
                "fee_final_to_managers",
                buttons=[[button]],
                fee=fee,
                fee_owner=owner,
                fee_reached=reached,
                fee_days_late=days_late,
            )

    # ---- paid ------------------------------------------------------------------------------------------

    async def mark_paid(self, estate_id: int, unit: str, period: str) -> tuple[Outcome, Fee | None]:
        """`guanjia fees paid`: DONE, ALREADY_PAID, or UNKNOWN when the estate has no such fee."""
        async with self._db.begin() as conn:
            fee = await fee_queries.fee_of(conn, estate_id, unit, period)
            if fee is None:
                return Outcome.UNKNOWN, None
            return await self._pay(conn, fee, None), await fee_queries.fee_by_id(conn, fee.id)

    async def mark_paid_by(self, manager: Person, fee_id: int, pressed: PressedOn) -> Outcome:
        """A manager's *Mark paid* button; only a manager of the fee's estate may press it."""
        async with self._db.begin() as conn:
            fee = await fee_queries.fee_by_id(conn, fee_id)
            if fee is None:
                return Outcome.UNKNOWN
            if manager.role != Role.MANAGER or not manager.active or manager.estate_id != fee.estate_id:
                return Outcome.NOT_FOR_YOU
            outcome = await self._pay(conn, fee, manager)
            await self._drop_paid_buttons(conn, pressed)
            return outcome

    async def _pay(self, conn: AsyncConnection, fee: Fee, by: Person | None) -> Outcome:
        now = self._clock.now()
        if not await fee_queries.mark_paid(conn, fee.id, by.id if by else None, now):
            return Outcome.ALREADY_PAID
        if fee.clock_id is not None:
            await clock_queries.settle(conn, fee.clock_id, "cancelled", now=now)
        owner = await people_queries.owner_of_unit(conn, fee.estate_id, fee.unit)
        if owner is not None:
            await self._notify.tell(conn, owner, "fee_paid_thanks", fee=fee)
        return Outcome.DONE

    async def _drop_paid_buttons(self, conn: AsyncConnection, pressed: PressedOn) -> None:
        """The pressed message (a /fees page, a final reminder) keeps only the buttons of unpaid fees."""
        row = await outbox.row_of_card(conn, pressed.chat_id, pressed.message_id)
        shown = await fee_queries.buttons_now(conn, pressed.chat_id, row)
        fee_ids = [_fee_id(button["action"]) for line in shown for button in line]
        paid = await fee_queries.paid_among(conn, [fee_id for fee_id in fee_ids if fee_id is not None])
        if not paid:
            return  # Telegram refuses an edit that changes nothing
        keep: Keyboard = [
            [Button(b["label"], b["action"]) for b in line if _fee_id(b["action"]) not in paid]
            for line in shown
        ]
        keep = [line for line in keep if line]
        await cards.retire_pressed(conn, pressed, keep or None, now=self._clock.now())

    # ---- /fees ---------------------------------------------------------------------------------------

    async def show_unpaid(self, manager: Person, words: list[str]) -> None:
        """/fees [page]: the estate's unpaid fees past their due date, oldest first, with *Mark paid*."""
        asked = words[0] if len(words) == 1 else ""
        page = int(asked) if re.fullmatch("[0-9]{1,6}", asked) and int(asked) > 0 else None
        async with self._db.begin() as conn:
            if page is None and words:
                await self._notify.tell(conn, manager, "fee_list_usage")
                return
            page = page or 1
            today = local_today(self._clock.now(), await people_queries.estate_zone(conn, manager.estate_id))
            total = await fee_queries.count_unpaid_past_due(conn, manager.estate_id, today)
            pages = max(1, -(-total // PAGE))
            page = min(page, pages)  # past the end (some were paid meanwhile): the last page
            shown = await fee_queries.unpaid_past_due(
                conn, manager.estate_id, today, offset=(page - 1) * PAGE, limit=PAGE
            )
            owners = {
                fee.unit: await people_queries.owner_of_unit(conn, manager.estate_id, fee.unit)
                for fee in shown
            }
            buttons = [
                self._notify.button(
                    manager, "button_fee_paid_unit", f"{PAID_VERB}:{fee.id}", unit=fee.unit, period=fee.period
                )
                for fee in shown
            ]
            await self._notify.tell(
                conn,
                manager,
                "fee_list",
                buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)] or None,
                fees=shown,
                fee_owners=owners,
                fee_total=total,
                fee_page=page,
                fee_pages=pages,
                fee_today=today,
            )


def _fee_id(action: str) -> int | None:
    verb, _, rest = action.partition(":")
    return int(rest) if verb == PAID_VERB and rest.isdigit() else None
