"""The ticket export: every ticket opened in a span of days, one CSV row each, for a manager's spreadsheet.

Excel reads a CSV as UTF-8 (and so shows Chinese correctly) only when it begins with a byte-order mark,
and it expects CRLF line ends. Whatever a resident or the roster typed stays data, never a formula: a
cell Excel would evaluate is prefixed with an apostrophe. Rows are read from the database in batches and
written as they come, so a year of tickets never sits in memory at once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import outbox
from bot.clock import Clock
from bot.model import Category, Person, TicketState
from bot.notify import Notifier
from bot.spans import Span, SpanError, between, local_today, read_span
from bot.texts import Texts
from storage import people as people_queries
from storage import tickets as ticket_queries
from storage.database import Database

# The columns in order; their headers are `export_columns` in templates/<language>/labels.j2.
COLUMNS = (
    "number",
    "created",
    "category",
    "state",
    "team",
    "unit",
    "requester",
    "butler",
    "accepted",
    "due",
    "resolved",
    "closed",
    "overdue",
    "reopens",
    "rating",
    "comment",
    "visited",
    "visit_by",
    "summary",
)
VISIT_WAYS = ("survey", "phone")
BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M"  # a form every spreadsheet reads as a date and time
BATCH = 500  # rows fetched from the database at a time
DOCUMENT_LIMIT_BYTES = 50 * 1024 * 1024  # the most a bot may upload to Telegram
# A cell starting with one of these is a formula (or can be made one) to Excel and its kin.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

Cell = str | int


class ExportRefused(ValueError):
    """The export cannot be made as asked (no such database or estate ...); the message says why."""


def inert(text: str) -> str:
    """The text as a spreadsheet shows it, never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_filename(span: Span) -> str:
    return f"tickets_{span.first_day.isoformat()}_{span.last_day.isoformat()}.csv"


@dataclass(frozen=True)
class _Words:
    """The export's words in one language, looked up once rather than per row."""

    header: list[str]
    category: dict[str, str]
    state: dict[str, str]
    visit_by: dict[str, str]

    @classmethod
    def of(cls, texts: Texts, language: str) -> _Words:
        return cls(
            header=[texts.label(language, "export_column", key=column) for column in COLUMNS],
            category={c.value: texts.label(language, "export_category", key=c.value) for c in Category},
            state={s.value: texts.label(language, "export_state", key=s.value) for s in TicketState},
            visit_by={way: texts.label(language, "export_visit", key=way) for way in VISIT_WAYS},
        )


def _cells(row: sa.Row[tuple[object, ...]], words: _Words, zone: ZoneInfo) -> list[Cell]:
    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime(TIME_FORMAT) if moment is not None else ""

    def text(value: str | None) -> str:
        return inert(value) if value else ""

    m = row._mapping
    return [
        m["number"],
        when(m["created_at"]),
        words.category.get(m["category"], m["category"]),
        words.state.get(m["state"], m["state"]),
        text(m["team"]),
        text(m["unit"]),
        text(m["requester"]),
        text(m["butler"]),
        when(m["accepted_at"]),
        when(m["due_at"]),
        when(m["resolved_at"]),
        when(m["closed_at"]),
        when(m["overdue_at"]),
        m["reopen_count"],
        m["rating"] if m["rating"] is not None else "",
        text(m["rating_comment"]),
        when(m["return_visit_at"]),
        words.visit_by.get(m["return_visit_by"], m["return_visit_by"]) if m["return_visit_by"] else "",
        text(m["summary"]),
    ]


async def write_tickets_csv(
    conn: AsyncConnection,
    estate_id: int,
    span: Span,
    language: str,
    texts: Texts,
    sink: TextIO,
) -> int:
    """Write the tickets created in `span` as CSV to `sink`; returns how many rows (without the header).

    Times are shown in `span.zone`, the estate's. `sink` should be opened with newline="" and a plain
    UTF-8 encoding: the BOM is written here (not with "utf-8-sig", which would add a second one). Give it
    a `db.read()` connection: a long export then holds up no decision being written.
    """
    words = _Words.of(texts, language)
    writer = csv.writer(sink, lineterminator="\r\n")
    sink.write(BOM)
    writer.writerow(words.header)
    written = 0
    result = await conn.stream(ticket_queries.export_rows(estate_id, span.start, span.end))
    async for batch in result.partitions(BATCH):
        writer.writerows(_cells(row, words, span.zone) for row in batch)
        written += len(batch)
    return written


async def tickets_csv_bytes(
    conn: AsyncConnection, estate_id: int, span: Span, language: str, texts: Texts
) -> tuple[bytes, int]:
    """The same export as UTF-8 bytes with a BOM, e.g. to send as a document; and how many tickets."""
    buffer = io.BytesIO()
    sink = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    rows = await write_tickets_csv(conn, estate_id, span, language, texts, sink)
    sink.flush()
    return buffer.getvalue(), rows


class ManagersExport:
    """/export: the same CSV, sent to a manager in Telegram as a document."""

    def __init__(self, db: Database, clock: Clock, notifier: Notifier) -> None:
        self._db = db
        self._clock = clock
        self._notify = notifier

    async def send(self, manager: Person, words: list[str]) -> None:
        async with self._db.read() as conn:
            zone = await people_queries.estate_zone(conn, manager.estate_id)
            try:
                span = read_span(words, local_today(self._clock.now(), zone), zone, default="month")
            except SpanError:
                await self._tell(manager, "export_usage")
                return
            # Made from a snapshot, without holding the write lock: a year of tickets takes seconds.
            data, rows = await tickets_csv_bytes(
                conn, manager.estate_id, span, manager.language, self._notify.texts
            )
        if len(data) > DOCUMENT_LIMIT_BYTES:
            await self._tell(manager, "export_too_large", span=span, rows=rows)
            return
        async with self._db.begin() as conn:
            if manager.telegram_id is None:
                return
            now = self._clock.now()
            attachment = await outbox.attach(conn, export_filename(span), data, now=now)
            caption = self._notify.texts.render(manager.language, "export_caption", span=span, rows=rows)
            await outbox.send_file(
                conn, manager.telegram_id, attachment, as_photo=False, caption_html=caption, now=now
            )

    async def _tell(self, manager: Person, template: str, **context: Any) -> None:
        async with self._db.begin() as conn:
            await self._notify.tell(conn, manager, template, **context)


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    span: Span
    estate: str


async def export_to_file(
    db_path: Path, first: date, last: date, out: Path, *, language: str = "zh", estate: str | None = None
) -> Exported:
    """`guanjia export`: write the CSV to `out`, whole or not at all.

    Everything the operator can get wrong is checked before anything is written (ExportRefused). The
    rows go to a temporary file beside `out`, renamed over it only once complete.
    """
    between(first, last, ZoneInfo("UTC"))  # the order and length of the days, before anything is opened
    _check_paths(db_path, out)
    db = await Database.open(db_path)
    try:
        async with db.read() as conn:
            chosen = await people_queries.estate_named(conn, estate)
            estate_id, estate_name, zone = chosen.id, chosen.name, chosen.zone
            span = between(first, last, zone)
            texts = Texts(zone)
            with _replaced_whole(out) as sink:
                rows = await write_tickets_csv(conn, estate_id, span, language, texts, sink)
    finally:
        await db.close()
    return Exported(out, rows, span, estate_name)


def _check_paths(db_path: Path, out: Path) -> None:
    # Database.open would create a missing database: an export must never do that.
    if not db_path.is_file():
        raise ExportRefused(f"{db_path}: no such database file")
    if out.is_dir():
        raise ExportRefused(f"{out} is a folder; give the file to write")
    if not out.parent.is_dir():
        raise ExportRefused(f"{out.parent}: no such folder")


@contextlib.contextmanager
def _replaced_whole(out: Path) -> Iterator[TextIO]:
    """A file to write `out` through: it takes `out`'s place only once the block has completed."""
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
