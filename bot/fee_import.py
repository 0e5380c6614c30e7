"""The fees owed, from the billing spreadsheet (`guanjia fees import`), and `guanjia fees paid`.

The CSV has the columns unit, period, amount_due, due_date: one row per unit and billing period, e.g.
`1-101,2026-11,1280.50,2026-11-30` (Excel's UTF-8 with BOM is fine; other columns are ignored, with a
warning, so a billing system's export can be used as it is).

All or nothing: every row is checked first (a unit with no active owner on the roster, an amount that is
not above zero with at most two decimals, a date not written YYYY-MM-DD, the same unit and period twice);
any error is reported with its spreadsheet row number and nothing is imported.

Idempotent by (estate, unit, period): importing the same file again changes nothing; a new amount or due
date updates an unpaid fee and moves its reminders; a fee already paid is left as it is. The fees and
their reminder clocks are written in one transaction.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from babel.dates import format_datetime
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import SystemClock
from bot.config import FeeTiming, load_config
from bot.fees import FeeReminders, calendar_of, schedule_next
from bot.model import Outcome, Role
from bot.money import read_amount, to_cents
from bot.notify import Notifier
from bot.roster import read_roster_file
from bot.texts import Texts
from storage import fees as fee_queries
from storage import people as people_queries
from storage.database import Database
from storage.people import UnknownEstate
from storage.schema import people

COLUMNS = ("unit", "period", "amount_due", "due_date")
PERIOD_LENGTH = 20  # 2026-11, 2026Q4, 2026年11月: a label, shown to the owner as it is written
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FeesRefused(ValueError):
    """The command cannot be carried out as asked (no such database or estate); the message says why."""


@dataclass(frozen=True)
class FeeRow:
    line: int  # the row's number as a spreadsheet shows it (the header is row 1)
    unit: str
    period: str
    amount: Decimal
    due_on: date


@dataclass
class FeeImportReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    already_paid: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_fees(text: str) -> tuple[list[FeeRow], list[str], list[str]]:
    """Read and check every row: the rows, 'row N: reason' errors, and warnings."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        return (
            [],
            [f"row 1 (header): missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"],
            [],
        )
    warnings = [f"column {name!r} is not used" for name in header if name not in COLUMNS]
    reader.fieldnames = header
    rows: list[FeeRow] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for raw in reader:
        line = reader.line_num  # not counted by enumerate: the reader skips empty lines without a word
        values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
        if not any(values.values()):
            continue  # a blank spreadsheet line
        row, reasons = _check_row(line, values)
        errors.extend(f"row {line}: {reason}" for reason in reasons)
        if row is None:
            continue
        first = seen.setdefault((row.unit, row.period), line)
        if first != line:
            errors.append(f"row {line}: unit {row.unit} period {row.period} is already on row {first}")
        rows.append(row)
    return rows, errors, warnings


def _check_row(line: int, values: dict[str, str]) -> tuple[FeeRow | None, list[str]]:
    reasons = []
    if not values["unit"]:
        reasons.append("unit is empty")
    if not values["period"]:
        reasons.append("period is empty")
    elif len(values["period"]) > PERIOD_LENGTH:
        reasons.append(f"period {values['period']!r} is longer than {PERIOD_LENGTH} characters")
    amount = read_amount(values["amount_due"])
    if amount is None:
        reasons.append(
            f"amount_due {values['amount_due']!r} is not an amount above 0 with at most two decimals"
        )
    due_on = _date(values["due_date"])
    if due_on is None:
        reasons.append(f"due_date {values['due_date']!r} is not a date written YYYY-MM-DD")
    if reasons or amount is None or due_on is None:
        return None, reasons
    return FeeRow(line, values["unit"], values["period"], amount, due_on), []


def _date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None  # 2026-02-30


async def import_fees(
    conn: AsyncConnection, text: str, estate_id: int, timing: FeeTiming, now: datetime
) -> FeeImportReport:
    """Check the whole file, then write all of it with each unpaid fee's next reminder, or nothing."""
    rows, errors, warnings = parse_fees(text)
    report = FeeImportReport(errors=errors, warnings=warnings)
    owned = await _units_with_an_owner(conn, estate_id)
    report.errors.extend(
        f"row {row.line}: unit {row.unit!r} has no owner on the roster"
        for row in rows
        if row.unit not in owned
    )
    report.errors.sort(key=_row_number)
    if report.errors:
        return report
    calendar = await calendar_of(conn, estate_id, timing)
    for row in rows:
        cents = to_cents(row.amount)
        fee = await fee_queries.fee_of(conn, estate_id, row.unit, row.period)
        if fee is None:
            fee = await fee_queries.add_fee(conn, estate_id, row.unit, row.period, cents, row.due_on, now)
            report.added += 1
        elif fee.paid:
            report.already_paid += 1
            continue
        elif (fee.amount_cents, fee.due_on) != (cents, row.due_on):
            fee = await fee_queries.change_terms(conn, fee.id, cents, row.due_on, now)
            report.updated += 1
        else:
            report.unchanged += 1
        await schedule_next(conn, fee, calendar, now)
    return report


def _row_number(error: str) -> int:
    match = re.match(r"row (\d+)", error)
    return int(match.group(1)) if match else 0


async def _units_with_an_owner(conn: AsyncConnection, estate_id: int) -> set[str]:
    """The units a fee can be billed to: those with an active owner on the roster."""
    rows = await conn.execute(
        sa.select(people.c.unit).where(
            people.c.estate_id == estate_id, people.c.role == Role.OWNER, people.c.active
        )
    )
    return {row.unit for row in rows if row.unit}


# ---- the `guanjia fees` commands ------------------------------------------------------------------------


async def fees_command(args: argparse.Namespace) -> int:
    """`guanjia fees import|paid`: 0 done, 1 the file or the fee is wrong, 2 the command is."""
    config = load_config(args.config)
    if not args.db.is_file():  # opening would create an empty database: never for a mistyped path
        print(f"guanjia fees: {args.db}: no such database; import the roster first", file=sys.stderr)
        return 2
    text = ""
    if args.fees_command == "import":
        try:
            text = read_roster_file(args.file)
        except (OSError, UnicodeDecodeError) as error:
            print(f"guanjia fees import: cannot read {args.file}: {error}", file=sys.stderr)
            return 1
    db = await Database.open(args.db)
    try:
        async with db.read() as conn:
            # The config names the estate the roster was imported into, as `guanjia roster import` uses it.
            chosen = await people_queries.estate_named(
                conn, args.estate or (config.estate_name if args.config else None)
            )
            estate_id, zone = chosen.id, chosen.zone
        if args.fees_command == "import":
            return await _import(db, args, text, estate_id, config.fees)
        clock = SystemClock()
        reminders = FeeReminders(
            db, clock, Notifier(Texts(zone, currency=config.currency), clock), config.fees
        )
        outcome, fee = await reminders.mark_paid(estate_id, args.unit.strip(), args.period.strip())
    except (FeesRefused, UnknownEstate) as error:
        print(f"guanjia fees: {error}", file=sys.stderr)
        return 2
    finally:
        await db.close()
    if outcome == Outcome.UNKNOWN or fee is None or fee.paid_at is None:
        print(f"guanjia fees paid: no fee of unit {args.unit} for period {args.period}", file=sys.stderr)
        return 1
    if outcome == Outcome.ALREADY_PAID:
        when = format_datetime(fee.paid_at, "yyyy-MM-dd HH:mm", tzinfo=zone, locale="en")
        print(f"{fee.unit} {fee.period}: already marked paid on {when}; nothing changed")
    else:
        print(f"{fee.unit} {fee.period}: marked paid; its reminders have stopped")
    return 0


async def _import(
    db: Database, args: argparse.Namespace, text: str, estate_id: int, timing: FeeTiming
) -> int:
    async with db.begin() as conn:
        report = await import_fees(conn, text, estate_id, timing, SystemClock().now())
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not report.ok:
        for problem in report.errors:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{args.file}: {len(report.errors)} error(s); nothing was imported", file=sys.stderr)
        return 1
    print(
        f"{args.file}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged,"
        f" {report.already_paid} already paid (left as they are)"
    )
    return 0
