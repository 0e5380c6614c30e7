"""Fee reminders without Telegram: when each stage goes, reading the billing file, the [fees] settings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import ConfigError, FeeTiming, config_from_dict
from bot.fee_import import import_fees, parse_fees
from bot.fees import FeeCalendar, FeeReminders
from bot.model import Outcome
from bot.notify import Notifier
from bot.texts import Texts
from storage import fees as fee_queries
from storage.database import Database
from storage.schema import clocks, estates
from tests.conftest import SHANGHAI

CALENDAR = FeeCalendar(FeeTiming(), SHANGHAI)
DUE = date(2026, 12, 1)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


# ---- when each stage goes ---------------------------------------------------------------------------


def test_each_stage_goes_on_its_day_at_ten_in_the_estates_time() -> None:
    assert [CALENDAR.moment(stage, DUE) for stage in ("notice", "reminder", "final")] == [
        at(11, 24, 10),  # 7 days before
        at(12, 4, 10),  # 3 days after
        at(12, 16, 10),  # 15 days after
    ]
    assert CALENDAR.next_stage(DUE, None, at(11, 20, 9)) == ("notice", at(11, 24, 10))
    assert CALENDAR.next_stage(DUE, "notice", at(11, 24, 10)) == ("reminder", at(12, 4, 10))
    assert CALENDAR.next_stage(DUE, "reminder", at(12, 4, 10)) == ("final", at(12, 16, 10))
    assert CALENDAR.next_stage(DUE, "final", at(12, 16, 10)) is None


def test_a_late_import_sends_only_the_latest_stage_due_at_the_next_ten_oclock() -> None:
    due = date(2026, 11, 10)  # the notice (3 Nov) and the reminder (13 Nov) have passed, the final has not
    assert CALENDAR.next_stage(due, None, at(11, 20, 9)) == ("reminder", at(11, 20, 10))
    assert CALENDAR.next_stage(due, None, at(11, 20, 10)) == ("reminder", at(11, 20, 10))
    assert CALENDAR.next_stage(due, None, at(11, 20, 10, 1)) == ("reminder", at(11, 21, 10))
    assert CALENDAR.next_stage(due, None, at(11, 20, 23)) == ("reminder", at(11, 21, 10))  # not at night
    assert CALENDAR.next_stage(due, "reminder", at(11, 20, 10)) == ("final", at(11, 25, 10))
    # Everything passed: the final reminder alone.
    assert CALENDAR.next_stage(date(2026, 10, 1), None, at(11, 20, 9)) == ("final", at(11, 20, 10))
    # Never a stage already sent, nor one before it.
    assert CALENDAR.next_stage(date(2026, 10, 1), "final", at(11, 20, 9)) is None


def test_a_stage_goes_only_in_the_hours_after_send_at() -> None:
    assert not CALENDAR.in_sending_hours(at(11, 20, 9, 59))
    assert CALENDAR.in_sending_hours(at(11, 20, 10))
    assert CALENDAR.in_sending_hours(at(11, 20, 13, 59))
    assert not CALENDAR.in_sending_hours(at(11, 20, 14))
    assert not CALENDAR.in_sending_hours(at(11, 21, 2))


def test_the_fee_settings_default_to_seven_three_and_fifteen_days_at_ten() -> None:
    assert config_from_dict({}).fees == FeeTiming(
        timedelta(days=7), timedelta(days=3), timedelta(days=15), time(10, 0)
    )
    custom = config_from_dict(
        {"fees": {"notice_before": "10d", "remind_after": "1d", "final_after": "30d", "send_at": "9:30"}}
    ).fees
    assert custom == FeeTiming(timedelta(days=10), timedelta(days=1), timedelta(days=30), time(9, 30))


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ({"notice": "7d"}, "[fees]: unknown setting(s) notice"),
        ({"notice_before": "36h"}, "[fees] notice_before: '36h' is not a whole number of days like 7d"),
        ({"remind_after": "a week"}, "[fees] remind_after: 'a week' is not a duration"),
        ({"remind_after": "0d"}, "[fees] remind_after: the reminder comes 1d or more after the due date"),
        ({"final_after": "3d"}, "[fees] final_after: the final reminder comes after the reminder"),
        ({"send_at": "10am"}, "[fees] send_at: '10am' is not a time of day like 08:00"),
    ],
)
def test_fee_settings_that_make_no_sense_are_refused(raw: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"fees": raw}, source="guanjia.toml")
    assert complaint in str(refused.value)


# ---- reading the billing file -----------------------------------------------------------------------


def test_the_billing_file_is_read_as_excel_saves_it() -> None:
    rows, errors, warnings = parse_fees(
        '\ufeffUnit,Period,Amount_Due,Due_Date,Owner\n1-101,2026-11,"1,280.50",2026-11-30,Zhang\n\n'
        "1-302, 2026-11 ,¥980,2026-11-30,Sun\n"
    )
    assert errors == [] and warnings == ["column 'owner' is not used"]
    assert [(r.line, r.unit, r.period, str(r.amount), r.due_on) for r in rows] == [
        (2, "1-101", "2026-11", "1280.50", date(2026, 11, 30)),
        (4, "1-302", "2026-11", "980", date(2026, 11, 30)),
    ]


def test_every_bad_row_is_reported_with_its_spreadsheet_row_number() -> None:
    _, errors, _ = parse_fees(
        "unit,period,amount_due,due_date\n"
        "1-101,2026-11,1280.50,2026-11-30\n"
        "1-302,2026-11,12.345,2026-11-30\n"
        "3-502,2026-11,-5,2026-11-30\n"
        "3-601,2026-11,0,2026-11-30\n"
        "2-201,2026-11,abc,2026/11/30\n"
        "1-101,2026-12,100,2026-02-30\n"
        ",,100,2026-12-31\n"
        "1-101,2026-11,1280.50,2026-11-30\n"
    )
    assert errors == [
        "row 3: amount_due '12.345' is not an amount above 0 with at most two decimals",
        "row 4: amount_due '-5' is not an amount above 0 with at most two decimals",
        "row 5: amount_due '0' is not an amount above 0 with at most two decimals",
        "row 6: amount_due 'abc' is not an amount above 0 with at most two decimals",
        "row 6: due_date '2026/11/30' is not a date written YYYY-MM-DD",
        "row 7: due_date '2026-02-30' is not a date written YYYY-MM-DD",
        "row 8: unit is empty",
        "row 8: period is empty",
        "row 9: unit 1-101 period 2026-11 is already on row 2",
    ]


def test_a_file_without_the_columns_says_which_are_missing() -> None:
    _, errors, _ = parse_fees("unit,amount\n1-101,100\n")
    assert errors == [
        "row 1 (header): missing column(s) period, amount_due, due_date;"
        " expected unit,period,amount_due,due_date"
    ]


# ---- importing ----------------------------------------------------------------------------------------

FILE = "unit,period,amount_due,due_date\n1-101,2026-11,1280.50,2026-12-01\n1-302,2026-11,980,2026-12-01\n"


async def _import(db: Database, text: str, now: datetime) -> tuple[list[str], tuple[int, int, int, int]]:
    async with db.begin() as conn:
        estate_id = (await conn.execute(sa.select(estates.c.id))).scalar_one()
        report = await import_fees(conn, text, estate_id, FeeTiming(), now)
    return report.errors, (report.added, report.updated, report.unchanged, report.already_paid)


async def _clocks(db: Database) -> list[tuple[str, datetime, str]]:
    async with db.read() as conn:
        rows = await conn.execute(sa.select(clocks).where(clocks.c.kind.like("fee_%")).order_by(clocks.c.id))
        return [(row.kind, row.due_at, row.status) for row in rows]


async def test_a_unit_without_an_owner_refuses_the_whole_file(
    rostered_db: Database, clock: ManualClock
) -> None:
    errors, counts = await _import(rostered_db, FILE + "9-999,2026-11,100,2026-12-01\n", clock.now())
    assert errors == ["row 4: unit '9-999' has no owner on the roster"]
    assert counts == (0, 0, 0, 0) and await _clocks(rostered_db) == []
    async with rostered_db.read() as conn:
        assert await fee_queries.fee_of(conn, 1, "1-101", "2026-11") is None


async def test_importing_again_updates_unpaid_fees_and_moves_their_reminders(
    rostered_db: Database, clock: ManualClock
) -> None:
    assert await _import(rostered_db, FILE, clock.now()) == ([], (2, 0, 0, 0))
    notice = at(11, 24, 10)
    assert await _clocks(rostered_db) == [
        ("fee_notice", notice, "pending"),
        ("fee_notice", notice, "pending"),
    ]

    assert await _import(rostered_db, FILE, clock.now()) == ([], (0, 0, 2, 0))
    assert len(await _clocks(rostered_db)) == 2  # nothing changed, nothing rescheduled

    reminders = FeeReminders(rostered_db, clock, Notifier(Texts(SHANGHAI), clock), FeeTiming())
    assert (await reminders.mark_paid(1, "1-302", "2026-11"))[0] == Outcome.DONE
    moved = FILE.replace("1280.50,2026-12-01", "1300,2026-12-10").replace("980,", "990,")
    assert await _import(rostered_db, moved, clock.now()) == ([], (0, 1, 0, 1))
    assert await _clocks(rostered_db) == [
        ("fee_notice", notice, "cancelled"),  # Zhang's, moved
        ("fee_notice", notice, "cancelled"),  # Sun's, paid
        ("fee_notice", at(12, 3, 10), "pending"),  # Zhang's, 7 days before the new due date
    ]
    async with rostered_db.read() as conn:
        zhang = await fee_queries.fee_of(conn, 1, "1-101", "2026-11")
        sun = await fee_queries.fee_of(conn, 1, "1-302", "2026-11")
    assert zhang is not None and (str(zhang.amount), zhang.due_on) == ("1300.00", date(2026, 12, 10))
    assert sun is not None and str(sun.amount) == "980.00"  # paid: left as it was
