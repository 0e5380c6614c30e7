"""The ticket export: what a manager's spreadsheet shows, cell by cell."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import export as export_module
from bot.clock import ManualClock
from bot.export import BATCH, export_to_file, inert, tickets_csv_bytes, write_tickets_csv
from bot.spans import Span
from bot.texts import Texts
from storage import people as people_queries
from storage.database import Database
from storage.schema import people, tickets
from tests.conftest import SHANGHAI

TEXTS = Texts(SHANGHAI)
NOV_20 = Span.day(date(2026, 11, 20), SHANGHAI)

ZH_HEADER = [
    "工单号",
    "创建时间",
    "类别",
    "状态",
    "团队",
    "房号",
    "提交人",
    "管家",
    "接单时间",
    "承诺时限",
    "处理完毕时间",
    "完成时间",
    "超时时间",
    "重开次数",
    "评分",
    "评价留言",
    "回访时间",
    "回访方式",
    "内容",
]
EN_HEADER = [
    "Ticket",
    "Created",
    "Category",
    "State",
    "Team",
    "Unit",
    "Requested by",
    "Butler",
    "Accepted",
    "Committed time",
    "Resolved",
    "Closed",
    "Went overdue",
    "Reopened",
    "Rating",
    "Rating comment",
    "Return visit",
    "Return visit by",
    "Request",
]


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


async def _ids(db: Database, telegram_id: int) -> tuple[int, int, int]:
    """The person's id, their estate and their team (the owner's team for a resident)."""
    async with db.read() as conn:
        person = await people_queries.person_by_telegram_id(conn, telegram_id)
        assert person is not None
        team = person.team_id
        if team is None:
            owner = await people_queries.owner_of_unit(conn, person.estate_id, person.unit or "")
            assert owner is not None
            team = owner.team_id
    assert team is not None
    return person.id, person.estate_id, team


async def add_ticket(
    db: Database,
    number: int,
    created_at: datetime,
    *,
    owner: int = 1101,
    requester: int | None = None,
    butler: int | None = 101,
    **values: Any,
) -> None:
    """A ticket row written directly, so each test says exactly what is in it."""
    owner_id, estate_id, team_id = await _ids(db, owner)
    requester_id = (await _ids(db, requester))[0] if requester is not None else owner_id
    butler_id = (await _ids(db, butler))[0] if butler is not None else None
    row: dict[str, Any] = {
        "estate_id": estate_id,
        "number": number,
        "requester_id": requester_id,
        "owner_id": owner_id,
        "team_id": team_id,
        "butler_id": butler_id,
        "category": "repair",
        "state": "new",
        "summary": f"request {number}",
        "created_at": created_at,
        "due_at": created_at + timedelta(days=2),
        "last_activity_at": created_at,
    }
    async with db.begin() as conn:
        await conn.execute(tickets.insert().values(**{**row, **values}))


async def export(db: Database, span: Span = NOV_20, language: str = "zh") -> tuple[bytes, list[list[str]]]:
    async with db.read() as conn:
        estate_id = (await conn.execute(sa.select(people.c.estate_id).limit(1))).scalar_one()
        data, _ = await tickets_csv_bytes(conn, estate_id, span, language, TEXTS)
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_an_empty_span_is_the_bom_and_the_header(rostered_db: Database) -> None:
    data, rows = await export(rostered_db)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as UTF-8 only with this
    assert data.decode("utf-8").count("\ufeff") == 1
    assert data.endswith("内容\r\n".encode())  # the CRLF Excel expects
    assert rows == [ZH_HEADER]


async def test_headers_and_words_follow_the_language(rostered_db: Database) -> None:
    await add_ticket(rostered_db, 1001, shanghai(20, 9), category="complaint", state="resolved")
    _, zh = await export(rostered_db, language="zh")
    _, en = await export(rostered_db, language="en")
    assert zh[0] == ZH_HEADER and en[0] == EN_HEADER
    assert zh[1][2:4] == ["投诉", "待业主确认"]
    assert en[1][2:4] == ["complaint", "awaiting the resident's confirmation"]


async def test_every_cell_of_a_whole_ticket_in_local_time(rostered_db: Database) -> None:
    # Owner Sun's ticket, raised by nobody else, opened late on the 20th in Shanghai (15:30 UTC).
    await add_ticket(
        rostered_db,
        1024,
        shanghai(20, 23, 30),
        owner=1302,
        butler=102,
        category="emergency",
        state="closed",
        summary="厨房水管爆了，水漫到客厅",
        due_at=shanghai(21, 3, 30),
        accepted_at=shanghai(20, 23, 32),
        overdue_at=shanghai(21, 3, 30),
        resolved_at=shanghai(21, 8, 5),
        closed_at=shanghai(21, 9, 0),
        reopen_count=1,
        rating=4,
        rating_comment="来得快，态度好",
        return_visit_at=shanghai(22, 10, 15),
        return_visit_by="phone",
    )
    _, rows = await export(rostered_db)
    assert rows[1] == [
        "1024",
        "2026-11-20 23:30",
        "紧急",
        "已完成",
        "A",
        "1-302",
        "Owner Sun",
        "Butler A2",
        "2026-11-20 23:32",
        "2026-11-21 03:30",
        "2026-11-21 08:05",
        "2026-11-21 09:00",
        "2026-11-21 03:30",
        "1",
        "4",
        "来得快，态度好",
        "2026-11-22 10:15",
        "电话",
        "厨房水管爆了，水漫到客厅",
    ]
    _, en = await export(rostered_db, language="en")
    assert en[1][2:4] == ["emergency", "closed"] and en[1][17] == "phone"


async def test_what_a_ticket_does_not_have_yet_is_left_empty(rostered_db: Database) -> None:
    # A resident's request nobody has taken: the unit is the owner's, the name the resident's.
    await add_ticket(rostered_db, 1001, shanghai(20, 9), requester=1102, butler=None)
    _, rows = await export(rostered_db)
    assert rows[1][:8] == ["1001", "2026-11-20 09:00", "报修", "待接单", "A", "1-101", "Resident Tom", ""]
    assert rows[1][8:] == ["", "2026-11-22 09:00", "", "", "", "0", "", "", "", "", "request 1001"]


async def test_a_span_is_whole_local_days(rostered_db: Database) -> None:
    for number, created in (
        (1001, shanghai(19, 23, 59)),
        (1002, shanghai(20, 0, 0)),  # 16:00 UTC on the 19th, yet the 20th in Shanghai
        (1003, shanghai(20, 23, 30)),  # 15:30 UTC on the 20th
        (1004, shanghai(21, 0, 0)),
        (1005, shanghai(21, 0, 10)),  # 16:10 UTC, still the 20th in UTC
    ):
        await add_ticket(rostered_db, number, created)
    _, rows = await export(rostered_db)
    assert [row[0] for row in rows[1:]] == ["1002", "1003"]
    _, rows = await export(rostered_db, Span(date(2026, 11, 19), date(2026, 11, 21), SHANGHAI))
    assert [row[0] for row in rows[1:]] == ["1001", "1002", "1003", "1004", "1005"]


async def test_rows_come_in_ticket_number_order_across_batches(rostered_db: Database) -> None:
    count = BATCH * 2 + 7
    owner_id, estate_id, team_id = await _ids(rostered_db, 1101)
    base = shanghai(20, 8)
    async with rostered_db.begin() as conn:
        await conn.execute(
            tickets.insert(),
            [
                {
                    "estate_id": estate_id,
                    "number": 5000 - n,  # created in the opposite order to their numbers
                    "requester_id": owner_id,
                    "owner_id": owner_id,
                    "team_id": team_id,
                    "category": "inquiry",
                    "state": "new",
                    "summary": "?",
                    "created_at": base + timedelta(seconds=n),
                    "due_at": base + timedelta(days=2),
                    "last_activity_at": base,
                }
                for n in range(count)
            ],
        )
    sink = io.StringIO(newline="")
    async with rostered_db.read() as conn:
        written = await write_tickets_csv(conn, estate_id, NOV_20, "en", TEXTS, sink)
    assert written == count
    numbers = [int(row[0]) for row in list(csv.reader(io.StringIO(sink.getvalue()[1:], newline="")))[1:]]
    assert numbers == list(range(5000 - count + 1, 5001))


async def test_another_estates_tickets_stay_out(rostered_db: Database, clock: ManualClock) -> None:
    await add_ticket(rostered_db, 1001, shanghai(20, 9))
    async with rostered_db.begin() as conn:
        other = await people_queries.ensure_estate(conn, "Other Gardens", "Asia/Shanghai")
        team = await people_queries.ensure_team(conn, other, "X")
        person = await conn.execute(
            people.insert().values(
                estate_id=other,
                role="owner",
                name="Someone Else",
                roster_key="9-909",
                team_id=team,
                unit="9-909",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        someone = person.inserted_primary_key[0]  # type: ignore[index]
        await conn.execute(
            tickets.insert().values(
                estate_id=other,
                number=1001,
                requester_id=someone,
                owner_id=someone,
                team_id=team,
                category="repair",
                state="new",
                summary="not yours to see",
                created_at=shanghai(20, 10),
                due_at=shanghai(22, 10),
                last_activity_at=shanghai(20, 10),
            )
        )
    _, rows = await export(rostered_db)
    assert [row[-1] for row in rows[1:]] == ["request 1001"]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ('=HYPERLINK("http://evil","点这里")', '\'=HYPERLINK("http://evil","点这里")'),
        ("+86 138 0000 0000", "'+86 138 0000 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("水温 = 40 度", "水温 = 40 度"),
        ("", ""),
    ],
)
def test_a_cell_is_never_a_formula(typed: str, shown: str) -> None:
    assert inert(typed) == shown


async def test_what_residents_type_reaches_the_sheet_as_text(rostered_db: Database) -> None:
    await add_ticket(rostered_db, 1001, shanghai(20, 9), summary='=cmd|" /C calc"!A0', rating_comment="@me")
    await add_ticket(rostered_db, 1002, shanghai(20, 10), summary="-1 度，暖气不热")
    _, rows = await export(rostered_db)
    assert [(row[15], row[18]) for row in rows[1:]] == [
        ("'@me", '\'=cmd|" /C calc"!A0'),
        ("", "'-1 度，暖气不热"),
    ]


async def test_commas_quotes_and_line_breaks_survive(rostered_db: Database) -> None:
    summary = '客厅灯不亮, 开关"咔哒"响\n第二行：卫生间也是\r\n第三行'
    await add_ticket(rostered_db, 1001, shanghai(20, 9), summary=summary)
    data, rows = await export(rostered_db)
    assert len(rows) == 2 and rows[1][18] == summary
    assert data.decode("utf-8-sig").count("\r\n") == 3  # header, the row's end, and the one typed


async def test_written_to_a_file_it_opens_with_one_bom(rostered_db: Database, tmp_path: Path) -> None:
    await add_ticket(rostered_db, 1001, shanghai(20, 9), summary="门铃坏了")
    path = tmp_path / "tickets.csv"
    _, estate_id, _ = await _ids(rostered_db, 1101)
    with path.open("w", encoding="utf-8", newline="") as sink:
        async with rostered_db.read() as conn:
            assert await write_tickets_csv(conn, estate_id, NOV_20, "zh", TEXTS, sink) == 1
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and not data[3:].startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as back:
        assert list(csv.reader(back))[1][18] == "门铃坏了"


async def test_a_failed_export_leaves_the_old_file_and_no_scraps(
    rostered_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_ticket(rostered_db, 1001, shanghai(20, 9))
    out = tmp_path / "tickets.csv"
    out.write_text("last month's export", encoding="utf-8")

    async def disk_full(*args: Any, **kwargs: Any) -> int:
        args[5].write("1001,2026-11-20 09:")
        raise OSError("No space left on device")

    monkeypatch.setattr(export_module, "write_tickets_csv", disk_full)
    with pytest.raises(OSError, match="No space left"):
        await export_to_file(tmp_path / "test.db", date(2026, 11, 20), date(2026, 11, 20), out)
    assert out.read_text(encoding="utf-8") == "last month's export"
    assert [name for name in os.listdir(tmp_path) if name.endswith(".part")] == []
