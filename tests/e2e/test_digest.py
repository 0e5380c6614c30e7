"""The managers' daily digest, /report and /export, as the managers receive them."""

from __future__ import annotations

import csv
import io
from datetime import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import SANDBOX_TOKEN, EmbeddedEstate, embedded_estate
from bot.sandbox import BotApiSandbox, SandboxUser
from storage.schema import attachments, clocks, digests
from tests.conftest import ROSTER, Cast
from tests.e2e.records import at, is_daily_digest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A second manager, who reads Chinese: every manager of the estate gets the digest in their language.
TWO_MANAGERS = ROSTER.replace(
    "manager,Manager Liu,,,900,138-0000-0900,en,no\n",
    "manager,Manager Liu,,,900,138-0000-0900,en,no\nmanager,经理 王芳,,,901,,zh,no\n",
)


def _uploads(sandbox: BotApiSandbox, method: str, chat_id: int) -> list[Any]:
    """The files the bot uploaded to a chat with `method` (sendPhoto, sendDocument)."""
    field = "photo" if method == "sendPhoto" else "document"
    return [
        params[field] for name, params in sandbox.calls if name == method and params["chat_id"] == chat_id
    ]


def _digests(user: SandboxUser) -> list[str]:
    return [m.content for m in user.inbox if is_daily_digest(m) and m.kind == "text"]


async def _an_accepted_repair(cast: Cast) -> None:
    await cast.zhang.send_text("Tap broken in the kitchen")
    await cast.a1.press(await cast.a1.wait_for("New ticket #1001"), "Accept")
    await cast.zhang.wait_for("accepted")


async def test_the_digest_reaches_every_manager_at_eight_with_its_chart(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with embedded_estate(tmp_path, TWO_MANAGERS, clock) as estate:
        cast = Cast(estate)
        wang = estate.sandbox.user(901, "王芳", language_code="zh-hans")
        await _an_accepted_repair(cast)
        clock.set(at(21, 7, 59))
        await estate.settled()
        assert _digests(cast.manager) == [] and _digests(wang) == []

        clock.set(at(21, 8, 0))
        digest = await cast.manager.wait_for("Daily digest")
        chinese = await wang.wait_for("服务日报")
        assert digest.text is not None and digest.text.startswith(
            "Daily digest · 20 Nov\n\nTickets\nNew 1 · resolved 0 · closed 0 · still open 1\n"
        )
        assert "Sent late" not in digest.text
        assert "Accepted within 3 minutes: 100% (1/1)" in digest.text
        assert "Butler A1: assigned 1 · in 3 min 1/1 · on time 0/0 · rating — · open 1" in digest.text
        assert chinese.text is not None and chinese.text.startswith("服务日报 · 11月20日\n\n工单\n新增 1 ·")
        chart = await cast.manager.wait_for(lambda m: m.kind == "photo")
        assert chart.content == (
            "07 Nov – 20 Nov: 🟦 new · 🟩 resolved · 🟧 repairs on time (right, %) · dashed: target 92%"
        )
        assert (await wang.wait_for(lambda m: m.kind == "photo")).content.startswith(
            "11月07日 至 11月20日：🟦 新增"
        )
        await estate.settled()
        # One chart, stored once, uploaded to each manager; its bytes are dropped once delivered.
        [liu_chart] = _uploads(estate.sandbox, "sendPhoto", 900)
        [wang_chart] = _uploads(estate.sandbox, "sendPhoto", 901)
        assert liu_chart.data.startswith(PNG_SIGNATURE) and liu_chart.data == wang_chart.data
        assert liu_chart.filename == "digest-2026-11-20.png"
        async with estate.db.engine.connect() as conn:
            stored = (await conn.execute(sa.select(attachments.c.size, attachments.c.content))).all()
        assert stored == [(len(liu_chart.data), None)]
        # Nobody else hears of it.
        assert all(not is_daily_digest(m) for user in (cast.a1, cast.zhang) for m in user.inbox)

        # The next morning brings the next day's digest, once.
        clock.set(at(22, 8, 0))
        assert (await cast.manager.wait_for("Daily digest · 21 Nov")).text is not None
        clock.set(at(22, 12, 0))
        await estate.settled()
        assert [text.split("\n")[0] for text in _digests(cast.manager)] == [
            "Daily digest · 20 Nov",
            "Daily digest · 21 Nov",
        ]


async def test_the_digest_goes_at_the_configured_time(tmp_path: Path, clock: ManualClock) -> None:
    config = Config(digest_at=time(7, 30))
    async with embedded_estate(tmp_path, ROSTER, clock, config) as estate:
        cast = Cast(estate)
        clock.set(at(21, 7, 29))
        await estate.settled()
        assert _digests(cast.manager) == []
        clock.set(at(21, 7, 30))
        digest = await cast.manager.wait_for("Daily digest")
        # A day with no tickets at all still has its digest: nothing to judge, nothing marked short.
        assert digest.text == (
            "Daily digest · 20 Nov\n\n"
            "Tickets\n"
            "New 0 · resolved 0 · closed 0 · still open 0\n\n"
            "Against targets\n"
            "▫️ Complaints closed: — · target ≥ 98% · no complaints\n"
            "▫️ Return visits: — · target 100%\n"
            "▫️ Satisfied (4–5★): — · target ≥ 90%\n"
            "▫️ Repairs on time: — · target ≥ 92%\n"
            "▫️ Repairs right first time: — · target ≥ 98%\n\n"
            "Promises\n"
            "Accepted within 3 minutes: —\n"
            "Resolved within the commitment: —\n"
            "Reopened: 0\n\n"
            "Overdue now: 0\n\n"
            "Butlers\n"
            "Butler A1: nothing assigned · open 0\n"
            "Butler A2: nothing assigned · open 0\n"
            "Butler A3: nothing assigned · open 0\n"
            "Butler B1: nothing assigned · open 0\n"
            "Butler B2: nothing assigned · open 0"
        )


async def test_a_digest_missed_while_down_is_sent_once_when_back_marked_late(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        manager = sandbox.user(900, "Liu", language_code="en")
        async with embedded_estate(tmp_path, ROSTER, clock, sandbox=sandbox) as first_run:
            await first_run.settled()
        # Down from 09:00 on the 20th until 10:30 on the 21st: the 08:00 digest was missed.
        clock.set(at(21, 10, 30))
        assert manager.inbox == []
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            late = await manager.wait_for("Daily digest")
            await second_run.settled()
        assert late.text is not None and late.text.startswith(
            "Daily digest · 20 Nov\n⚠️ Sent late: it was due at 21 Nov 08:00, when the bot was not running.\n"
        )
        # Restarted again the same day: the digest is not sent a second time.
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as third_run:
            await third_run.settled()
            async with third_run.db.engine.connect() as conn:
                sent = (await conn.execute(sa.select(digests.c.day, digests.c.late))).all()
                pending = (
                    await conn.execute(
                        sa.select(clocks.c.due_at).where(
                            clocks.c.kind == "digest", clocks.c.status == "pending"
                        )
                    )
                ).all()
    assert len(_digests(manager)) == 1
    assert [(day.isoformat(), was_late) for day, was_late in sent] == [("2026-11-20", True)]
    assert [due for (due,) in pending] == [at(22, 8, 0)]  # and the next one is on the clocks


async def test_after_days_down_only_the_last_whole_day_is_sent(tmp_path: Path, clock: ManualClock) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        manager = sandbox.user(900, "Liu", language_code="en")
        async with embedded_estate(tmp_path, ROSTER, clock, sandbox=sandbox) as first_run:
            await first_run.settled()
        clock.set(at(24, 9, 0))  # three digests missed: the 20th's, 21st's and 22nd's
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            late = await manager.wait_for("Daily digest")
            await second_run.settled()
    assert late.text is not None and late.text.startswith(
        "Daily digest · 23 Nov\n⚠️ Sent late: it was due at 24 Nov 08:00, when the bot was not running.\n"
    )
    assert len(_digests(manager)) == 1


async def test_report_over_a_week_and_a_month(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> None:
    await _an_accepted_repair(cast)
    clock.set(at(21, 9, 0))
    await cast.a1.press(await cast.a1.wait_for("New ticket #1001"), "Resolved")
    await cast.zhang.press(await cast.zhang.wait_for("Is it resolved"), "Yes, resolved")
    await cast.zhang.press(await cast.zhang.wait_for("How would you rate"), "★★")
    await cast.zhang.wait_for("Thank you for your rating")
    clock.set(at(25, 10, 0))

    await cast.manager.send_command("/report", "week")
    week = await cast.manager.wait_for("Report · ")
    assert week.text is not None
    assert week.text.startswith(
        "Report · 18 Nov – 24 Nov (7 days)\n\nTickets\nNew 1 · resolved 1 · closed 1 · still open 0\n"
    )
    # Two stars: the rating falls short of the satisfaction target, and the low rating called for a
    # second service (a follow-up, not a reopen).
    assert "❌ Satisfied (4–5★): 0% (0/1) · target ≥ 90% · average 2.0" in week.text
    assert "✅ Return visits: 100% (1/1) · target 100%" in week.text
    assert "Against targets · 1 short" in week.text

    await cast.manager.send_command("/report", "2026-11-21 2026-11-21")
    one_day = await cast.manager.wait_for("Report · 21 Nov – 21 Nov (1 day)")
    assert one_day.text is not None and "New 0 · resolved 1 · closed 1 · still open 0" in one_day.text

    await cast.manager.send_command("/report", "month")
    month = await cast.manager.wait_for("(30 days)")
    assert month.text is not None and month.text.startswith("Report · 26 Oct – 24 Nov (30 days)")
    # Gibberish changes nothing and says how to ask.
    await cast.manager.send_command("/report", "last tuesday")
    usage = await cast.manager.wait_for("Which span?")
    assert usage.text is not None and "/report week — the 7 days up to yesterday" in usage.text
    await cast.a1.send_command("/report", "week")
    assert "not for you" in (await cast.a1.wait_for("not for")).content


async def test_export_sends_the_spreadsheet_as_a_document(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.sun.send_text('=HYPERLINK("x") 门口的灯坏了')
    await cast.a1.wait_for("#1001")
    clock.set(at(22, 9, 0))
    await cast.manager.send_command("/export", "2026-11-20 2026-11-21")
    document = await cast.manager.wait_for(lambda m: m.kind == "document")
    assert document.content == (
        "Tickets opened 20 Nov – 21 Nov: 1. Times are local; the file opens in Excel."
    )
    await estate.settled()
    [upload] = _uploads(estate.sandbox, "sendDocument", 900)
    assert upload.filename == "tickets_2026-11-20_2026-11-21.csv"
    assert upload.data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for Chinese
    rows = list(csv.reader(io.StringIO(upload.data.decode("utf-8-sig"), newline="")))
    assert rows[0][:4] == ["Ticket", "Created", "Category", "State"]
    assert rows[1][:3] == ["1001", "2026-11-20 09:00", "repair"]
    # The resident's words stay words: a formula is defused for Excel.
    assert rows[1][-1] == '\'=HYPERLINK("x") 门口的灯坏了'

    await cast.manager.send_command("/export", "someday")
    assert (await cast.manager.wait_for("Which tickets?")).text is not None
    await cast.zhang.send_command("/export")
    assert "not for you" in (await cast.zhang.wait_for("not for")).content


async def test_back_before_the_next_digest_time_sends_the_missed_day_then_the_next_on_time(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        manager = sandbox.user(900, "Liu", language_code="en")
        clock.set(at(20, 7, 0))
        async with embedded_estate(tmp_path, ROSTER, clock, sandbox=sandbox) as first_run:
            await first_run.settled()
        # Down over the 20th's 08:00, back at 07:00 on the 21st: the 19th's digest is owed, late.
        clock.set(at(21, 7, 0))
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            late = await manager.wait_for("Daily digest · 19 Nov")
            clock.set(at(21, 8, 0))
            on_time = await manager.wait_for("Daily digest · 20 Nov")
            await second_run.settled()
    assert late.text is not None and "⚠️ Sent late: it was due at 20 Nov 08:00" in late.text
    assert on_time.text is not None and "Sent late" not in on_time.text
    assert len(_digests(manager)) == 2
