"""Fee reminders as each person receives them: the stages on their days, stopped the moment a fee is paid.

The test estate's clock starts on Fri 20 Nov 2026 at 09:00 in Shanghai. Owner Zhang (1-101) reads English,
Owner Sun (1-302) Chinese; Owner Zhou (2-201) is not on Telegram yet. A fee due on 1 Dec has its notice on
24 Nov, its reminder on 4 Dec and its final reminder on 16 Dec, each at 10:00 local time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import fee_import
from bot.cli import main
from bot.clock import ManualClock
from bot.config import FeeTiming
from bot.embedded import SANDBOX_TOKEN, EmbeddedEstate, embedded_estate
from bot.fee_import import FeeImportReport, import_fees
from bot.sandbox import BotApiSandbox
from bot.sandbox.user import SandboxUser
from storage import fees as fee_queries
from storage.schema import clocks, fees, outbox
from tests.conftest import ROSTER, SHANGHAI, Cast
from tests.e2e.authorization import open_riverside, press_answer
from tests.e2e.records import alerts, at

FEES = "unit,period,amount_due,due_date\n1-101,2026-11,1280.50,2026-12-01\n1-302,2026-11,1280.50,2026-12-01\n"
DONE = "Done"
ALREADY_PAID = "Already marked paid; nothing was changed"
NOT_YOURS = "This is not yours to change; nothing was changed"
GONE = "This button no longer works"

ZHANG_NOTICE = (
    "Property fee: a friendly reminder\n"
    "Dear Owner Zhang, the property fee of 1-101 for 2026-11 is CN¥1,280.50, due by 01 Dec.\n"
    "We would be grateful if you could pay it by then. If you have already paid, please disregard this"
    " message. Thank you for your support!"
)
ZHANG_REMINDER = (
    "Property fee: a reminder\n"
    "Dear Owner Zhang, the property fee of 1-101 for 2026-11, CN¥1,280.50, was due on 01 Dec, and we have"
    " not received it yet.\n"
    "Please pay it at your earliest convenience; if you have any questions, your butler will be glad to"
    " help. If you have already paid, please disregard this message. Thank you!"
)
ZHANG_FINAL = (
    "Property fee: a final reminder\n"
    "Dear Owner Zhang, the property fee of 1-101 for 2026-11, CN¥1,280.50, has been outstanding since"
    " 01 Dec (15 days).\n"
    "We kindly ask you to pay it within the next few days. If something stands in the way, or the amount"
    " does not look right to you, please tell your butler or the service centre: we will gladly help. If"
    " you have already paid, please disregard this message."
)
SUN_NOTICE = (
    "温馨提示：物业费缴费通知\n"
    "尊敬的Owner Sun业主，您好！您的房屋 1-302 2026-11 物业费为 ¥1,280.50，缴费截止日期为 12月01日。\n"
    "烦请您在截止日期前缴纳。如您已缴费，请忽略本消息。感谢您的支持与配合！"
)
SUN_REMINDER = (
    "温馨提示：物业费缴费提醒\n"
    "尊敬的Owner Sun业主，您好！您的房屋 1-302 2026-11 物业费 ¥1,280.50 已于 12月01日 到期，"
    "我们暂未收到您的缴费。\n"
    "请您方便时尽快缴纳；如有疑问，欢迎随时联系您的管家。如您已缴费，请忽略本消息。谢谢！"
)
SUN_FINAL = (
    "物业费缴费最后提醒\n"
    "尊敬的Owner Sun业主，您好！您的房屋 1-302 2026-11 物业费 ¥1,280.50 已于 12月01日 到期，"
    "已逾期 15 天，至今仍未收到您的缴费。\n"
    "恳请您近日内缴纳。如有困难或对金额有疑问，请联系您的管家或物业服务中心，我们将竭诚为您协助。"
    "如您已缴费，请忽略本消息。"
)
ZHANG_THANKS = (
    "Thank you! We have received the property fee of 1-101 for 2026-11 (CN¥1,280.50); no more reminders"
    " will come for it."
)
SUN_THANKS = (
    "感谢您！已收到您的房屋 1-302 2026-11 物业费 ¥1,280.50，该笔费用不会再有缴费提醒。"
    "感谢您对我们工作的支持！"
)


def dec(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


async def _import(estate: EmbeddedEstate, text: str, clock: ManualClock) -> FeeImportReport:
    """What `guanjia fees import` does, at the test's time."""
    async with estate.db.begin() as conn:
        report = await import_fees(conn, text, 1, FeeTiming(), clock.now())
    assert report.ok, report.errors
    return report


async def _at(estate: EmbeddedEstate, clock: ManualClock, moment: datetime) -> None:
    """Move the clock and wait until what came due has fired and been delivered."""
    await estate.settled()
    clock.set(moment)
    await estate.settled()


def _texts(user: SandboxUser) -> list[str]:
    """What reached a person, the managers' daily digest left out."""
    return [message.text or "" for message in alerts(user)]


async def _fee(estate: EmbeddedEstate, unit: str, period: str = "2026-11") -> fee_queries.Fee:
    async with estate.db.read() as conn:
        fee = await fee_queries.fee_of(conn, 1, unit, period)
    assert fee is not None
    return fee


async def _fee_clocks(estate: EmbeddedEstate) -> list[tuple[Any, ...]]:
    async with estate.db.read() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.kind, clocks.c.due_at, clocks.c.status, clocks.c.detail)
            .where(clocks.c.kind.like("fee_%"))
            .order_by(clocks.c.id)
        )
        return [(row.kind, row.due_at, row.status, row.detail["fee_id"]) for row in rows]


def _final_to_managers(fee_id: int) -> list[list[tuple[str, str]]]:
    return [[("Mark paid", f"fee_paid:{fee_id}")]]


# ---- the stages --------------------------------------------------------------------------------------


async def test_each_stage_arrives_on_its_day_at_ten_in_the_owners_language(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    report = await _import(estate, FEES, clock)
    assert (report.added, report.updated) == (2, 0)

    await _at(estate, clock, at(24, 9, 59))
    assert _texts(cast.zhang) == [] and _texts(cast.sun) == []
    await _at(estate, clock, at(24, 10))
    assert _texts(cast.zhang) == [ZHANG_NOTICE]
    assert _texts(cast.sun) == [SUN_NOTICE]

    await _at(estate, clock, dec(4, 9, 59))
    assert len(_texts(cast.zhang)) == 1
    await _at(estate, clock, dec(4, 10))
    assert _texts(cast.zhang) == [ZHANG_NOTICE, ZHANG_REMINDER]
    assert _texts(cast.sun) == [SUN_NOTICE, SUN_REMINDER]
    assert _texts(cast.manager) == []  # the managers hear only of the final reminder

    await _at(estate, clock, dec(16, 10))
    assert _texts(cast.zhang) == [ZHANG_NOTICE, ZHANG_REMINDER, ZHANG_FINAL]
    assert _texts(cast.sun) == [SUN_NOTICE, SUN_REMINDER, SUN_FINAL]
    zhang_fee, sun_fee = await _fee(estate, "1-101"), await _fee(estate, "1-302")
    finals = alerts(cast.manager)
    assert [message.text for message in finals] == [
        "Property fee: final reminder sent\n"
        "1-101 · 2026-11 · CN¥1,280.50 · due 01 Dec (15 days ago)\n"
        "Owner: Owner Zhang · 139-1111-0101\n"
        'Press "Mark paid" once it is paid: the reminders stop at once.',
        "Property fee: final reminder sent\n"
        "1-302 · 2026-11 · CN¥1,280.50 · due 01 Dec (15 days ago)\n"
        "Owner: Owner Sun\n"
        'Press "Mark paid" once it is paid: the reminders stop at once.',
    ]
    assert [message.buttons for message in finals] == [
        _final_to_managers(zhang_fee.id),
        _final_to_managers(sun_fee.id),
    ]

    await _at(estate, clock, dec(31, 10))  # nothing after the final reminder
    assert len(_texts(cast.zhang)) == 3 and len(_texts(cast.sun)) == 3 and len(alerts(cast.manager)) == 2
    assert {status for _, _, status, _ in await _fee_clocks(estate)} == {"fired"}


async def test_an_owner_who_blocked_the_bot_is_not_counted_as_reminded(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _import(estate, FEES, clock)
    cast.zhang.block()
    await _at(estate, clock, at(24, 10))  # the notice meets Telegram's 403: Zhang is unreachable now
    assert _texts(cast.zhang) == []
    await _at(estate, clock, dec(16, 10))
    [final] = [text for text in _texts(cast.manager) if text.startswith("Property fee") and "1-101" in text]
    assert (
        "⚠️ The owner has blocked the bot, so the reminder could not reach them: please phone them." in final
    )
    assert (await _fee(estate, "1-101")).stage_reached is False
    # The stages were tried and refused (the sandbox keeps refusals; these were meant to happen).
    refused = {(params["chat_id"], said) for _, params, said in estate.sandbox.rejections}
    assert refused == {(1101, "Forbidden: bot was blocked by the user")}
    estate.sandbox.rejections.clear()


async def test_a_late_import_sends_only_the_latest_stage_and_never_at_night(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _import(
        estate,
        "unit,period,amount_due,due_date\n"
        "1-101,2026-11,1280.50,2026-11-10\n"  # reminder (13 Nov) passed, final on 25 Nov
        "1-302,2026-11,1280.50,2026-11-19\n"  # notice (12 Nov) passed, reminder on 22 Nov
        "2-201,2026-10,99.90,2026-10-01\n",  # everything passed; Zhou is not on Telegram yet
        clock,
    )
    await _at(estate, clock, at(20, 9, 59))
    assert _texts(cast.zhang) == [] and _texts(cast.sun) == [] and _texts(cast.manager) == []

    await _at(estate, clock, at(20, 10))
    assert [text.split("\n")[0] for text in _texts(cast.zhang)] == ["Property fee: a reminder"]
    assert [text.split("\n")[0] for text in _texts(cast.sun)] == ["温馨提示：物业费缴费通知"]
    assert _texts(cast.manager) == [
        "Property fee: final reminder sent\n"
        "2-201 · 2026-10 · CN¥99.90 · due 01 Oct (50 days ago)\n"
        "Owner: Owner Zhou\n"
        "⚠️ The owner is not on Telegram yet, so the reminder could not reach them: please phone them.\n"
        'Press "Mark paid" once it is paid: the reminders stop at once.'
    ]

    # An import in the evening waits for the next morning.
    await _at(estate, clock, at(20, 20))
    await _import(estate, "unit,period,amount_due,due_date\n3-502,2026-11,500,2026-11-10\n", clock)
    await _at(estate, clock, at(21, 9, 59))
    assert _texts(cast.chen) == []
    await _at(estate, clock, at(21, 10))
    assert [text.split("\n")[0] for text in _texts(cast.chen)] == ["Property fee: a reminder"]

    await _at(estate, clock, at(25, 10))
    assert [text.split("\n")[0] for text in _texts(cast.zhang)] == [
        "Property fee: a reminder",
        "Property fee: a final reminder",
    ]
    assert [text.split("\n")[0] for text in _texts(cast.sun)] == [
        "温馨提示：物业费缴费通知",
        "温馨提示：物业费缴费提醒",
    ]
    assert (await _fee(estate, "2-201", "2026-10")).stage_reached is False


async def test_a_restart_between_stages_sends_nothing_twice_and_nothing_at_night(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        zhang = sandbox.user(1101, "Zhang")
        async with embedded_estate(tmp_path, ROSTER, clock, sandbox=sandbox) as first_run:
            await _import(first_run, FEES, clock)
            await _at(first_run, clock, at(24, 10))
            assert _texts(zhang) == [ZHANG_NOTICE]

        clock.set(dec(4, 20))  # down at 10:00 on the reminder's day; back at eight in the evening
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            await second_run.settled()
            assert _texts(zhang) == [ZHANG_NOTICE]  # not at night
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as third_run:
            await third_run.settled()
            await _at(third_run, clock, dec(5, 10))
            assert _texts(zhang) == [ZHANG_NOTICE, ZHANG_REMINDER]
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as fourth_run:
            await fourth_run.settled()
            assert _texts(zhang) == [ZHANG_NOTICE, ZHANG_REMINDER]  # restarted at once: nothing again
            await _at(fourth_run, clock, dec(16, 10))
            assert _texts(zhang) == [ZHANG_NOTICE, ZHANG_REMINDER, ZHANG_FINAL]
            kinds = [
                (kind, status) for kind, _, status, fee_id in await _fee_clocks(fourth_run) if fee_id == 1
            ]
    assert kinds == [
        ("fee_notice", "fired"),
        ("fee_reminder", "fired"),  # fired at 20:00, sent nothing, and set
        ("fee_reminder", "fired"),  # the next morning's
        ("fee_final", "fired"),
    ]


# ---- stopped when paid -------------------------------------------------------------------------------


async def _cli(*args: str) -> int:
    """`guanjia fees ...` as an operator runs it beside the running bot (its own process, in effect)."""
    return await asyncio.to_thread(main, ["fees", *args])


async def test_reminders_stop_when_paid_from_the_command_line_before_the_notice_and_between_stages(
    estate: EmbeddedEstate,
    cast: Cast,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(fee_import, "SystemClock", lambda: clock)
    db = str(estate.db_path)
    await _import(estate, FEES, clock)
    assert await _cli("paid", "--db", db, "--unit", "1-101", "--period", "2026-11") == 0
    assert capsys.readouterr().out == "1-101 2026-11: marked paid; its reminders have stopped\n"
    await estate.settled()
    assert _texts(cast.zhang) == [ZHANG_THANKS]

    await _at(estate, clock, at(24, 10))
    assert _texts(cast.sun) == [SUN_NOTICE]
    assert await _cli("paid", "--db", db, "--unit", "1-302", "--period", "2026-11") == 0
    await estate.settled()
    assert _texts(cast.sun) == [SUN_NOTICE, SUN_THANKS]

    for moment in (dec(4, 10), dec(16, 10), dec(31, 10)):
        await _at(estate, clock, moment)
    assert _texts(cast.zhang) == [ZHANG_THANKS] and _texts(cast.sun) == [SUN_NOTICE, SUN_THANKS]
    assert _texts(cast.manager) == []
    assert [status for _, _, status, _ in await _fee_clocks(estate)] == ["cancelled", "fired", "cancelled"]

    capsys.readouterr()
    assert await _cli("paid", "--db", db, "--unit", "1-101", "--period", "2026-11") == 0
    assert (
        capsys.readouterr().out == "1-101 2026-11: already marked paid on 2026-11-20 09:00; nothing changed\n"
    )
    assert await _cli("paid", "--db", db, "--unit", "1-101", "--period", "2026-12") == 1
    assert capsys.readouterr().err == "guanjia fees paid: no fee of unit 1-101 for period 2026-12\n"
    await estate.settled()
    assert _texts(cast.zhang) == [ZHANG_THANKS]  # thanked once


async def test_a_manager_marks_a_fee_paid_from_the_final_reminder_and_the_reminders_stop(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _import(estate, FEES.replace("2026-12-01", "2026-11-01"), clock)  # Zhang's final is due today
    await _import(estate, "unit,period,amount_due,due_date\n1-302,2026-12,980,2026-12-01\n", clock)
    await _at(estate, clock, at(20, 10))
    final = await cast.manager.wait_for("1-101 · 2026-11")
    zhang_fee = await _fee(estate, "1-101")
    assert final.buttons == _final_to_managers(zhang_fee.id)

    assert (await cast.manager.wait_for_answer(await cast.manager.press(final, "Mark paid")))["text"] == DONE
    await estate.settled()
    assert final.buttons == []  # the button goes with the payment
    assert _texts(cast.zhang)[-1] == ZHANG_THANKS
    assert await press_answer(estate, cast.manager, f"fee_paid:{zhang_fee.id}") == ALREADY_PAID
    paid = await _fee(estate, "1-101")
    assert paid.paid_at == clock.now()


async def test_a_manager_marks_fees_paid_from_the_list_between_stages(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _import(estate, FEES, clock)
    await _at(estate, clock, at(24, 10))
    await _at(estate, clock, dec(4, 10))
    assert len(_texts(cast.zhang)) == 2 and len(_texts(cast.sun)) == 2  # notice and reminder

    await cast.manager.send_command("/fees")
    listing = await cast.manager.wait_for("Unpaid property fees")
    zhang_fee, sun_fee = await _fee(estate, "1-101"), await _fee(estate, "1-302")
    assert listing.text == (
        "Unpaid property fees past their due date (2)\n"
        "1-101 Owner Zhang · 2026-11 · CN¥1,280.50 · due 01 Dec (3 days) · reminder sent 04 Dec 10:00\n"
        "1-302 Owner Sun · 2026-11 · CN¥1,280.50 · due 01 Dec (3 days) · reminder sent 04 Dec 10:00\n"
        "Press a fee's button once it is paid: its reminders stop at once."
    )
    assert listing.buttons == [
        [
            ("Paid: 1-101 · 2026-11", f"fee_paid:{zhang_fee.id}"),
            ("Paid: 1-302 · 2026-11", f"fee_paid:{sun_fee.id}"),
        ]
    ]
    assert (await cast.manager.wait_for_answer(await cast.manager.press(listing, "Paid: 1-101 · 2026-11")))[
        "text"
    ] == DONE
    await estate.settled()
    assert listing.buttons == [[("Paid: 1-302 · 2026-11", f"fee_paid:{sun_fee.id}")]]
    assert _texts(cast.zhang)[-1] == ZHANG_THANKS
    # A second press (a stale copy of the list) changes nothing.
    assert (
        await cast.manager.wait_for_answer(await cast.manager.press_data(listing, f"fee_paid:{zhang_fee.id}"))
    )["text"] == ALREADY_PAID

    await _at(estate, clock, dec(16, 10))
    assert _texts(cast.zhang)[-1] == ZHANG_THANKS and len(_texts(cast.zhang)) == 3  # no final after paying
    assert _texts(cast.sun)[-1] == SUN_FINAL
    finals = [text for text in _texts(cast.manager) if text.startswith("Property fee: final")]
    assert [text.split("\n")[1] for text in finals] == [
        "1-302 · 2026-11 · CN¥1,280.50 · due 01 Dec (15 days ago)"
    ]


async def test_a_clock_that_fires_for_a_paid_fee_sends_nothing(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    """Belt and braces: even if a payment had left the clock pending, the clock asks first."""
    await _import(estate, FEES, clock)
    async with estate.db.begin() as conn:
        await fee_queries.mark_paid(conn, (await _fee(estate, "1-101")).id, None, clock.now())
    await _at(estate, clock, at(24, 10))
    assert _texts(cast.zhang) == [] and _texts(cast.sun) == [SUN_NOTICE]
    assert [status for _, _, status, _ in await _fee_clocks(estate)] == ["fired", "fired", "pending"]


# ---- /fees ---------------------------------------------------------------------------------------------

MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
UNITS = ("1-101", "1-302", "2-201", "3-502", "3-601")


async def test_the_list_is_paginated_twenty_at_a_time(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    lines = [f"{unit},{month},100,{month}-28" for month in MONTHS for unit in UNITS]
    await _import(estate, "unit,period,amount_due,due_date\n" + "\n".join(lines) + "\n", clock)

    await cast.manager.send_command("/fees")
    first = await cast.manager.wait_for("Unpaid property fees")
    rows = first.text.split("\n") if first.text else []
    assert rows[0] == "Unpaid property fees past their due date (25)"
    assert rows[1] == "1-101 Owner Zhang · 2026-06 · CN¥100.00 · due 28 Jun (145 days) · nothing sent yet"
    assert len([row for row in rows if "· nothing sent yet" in row]) == 20
    assert rows[-2:] == [
        "Page 1 of 2 · /fees 2 shows the next",
        "Press a fee's button once it is paid: its reminders stop at once.",
    ]
    assert [len(row) for row in first.buttons] == [2] * 10

    await cast.manager.send_command("/fees", "2")
    second = await cast.manager.wait_for("Page 2 of 2")
    assert [row.split(" · ")[1] for row in (second.text or "").split("\n")[1:6]] == ["2026-10"] * 5
    assert [text for row in second.buttons for text, _ in row] == [
        f"Paid: {unit} · 2026-10" for unit in UNITS
    ]

    await cast.manager.press(first, "Paid: 1-302 · 2026-06")
    await cast.manager.press(first, "Paid: 2-201 · 2026-06")
    await estate.settled()
    remaining = [text for row in first.buttons for text, _ in row]
    assert (
        len(remaining) == 18
        and "Paid: 1-302 · 2026-06" not in remaining
        and "Paid: 2-201 · 2026-06" not in remaining
    )

    seen = len(cast.manager.inbox)
    for args in ("9", "abc"):
        await cast.manager.send_command("/fees", args)
    await estate.settled()
    answers = [message.text or "" for message in cast.manager.inbox[seen:]]
    assert (
        answers[0].startswith("Unpaid property fees past their due date (23)\n")
        and "Page 2 of 2" in answers[0]
    )
    assert answers[1] == (
        "Send /fees for the unpaid property fees past their due date, or /fees 2 for their second page."
    )


async def test_nothing_to_list_is_said_plainly(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _import(estate, FEES, clock)  # not yet due
    await cast.manager.send_command("/fees")
    assert (await cast.manager.wait_for("👍")).text == "No unpaid property fees past their due date. 👍"


# ---- who may mark a fee paid ---------------------------------------------------------------------------


async def _snapshot(estate: EmbeddedEstate) -> list[Any]:
    async with estate.db.read() as conn:
        return [
            (await conn.execute(sa.select(table).order_by(*table.primary_key.columns))).all()
            for table in (fees, clocks, outbox)
        ]


async def test_only_a_manager_of_the_estate_may_mark_a_fee_paid(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    riverside = await open_riverside(estate, clock)
    await _import(estate, FEES, clock)
    fee_id = (await _fee(estate, "1-101")).id
    stranger = cast.stranger
    everyone = (cast.zhang, cast.tom, cast.a1, cast.b1, riverside.manager, cast.manager, stranger)
    for user in everyone:
        await user.send_command("/help")
        await user.wait_for(lambda message: True)
    await estate.settled()
    before = await _snapshot(estate)

    answers = {
        user.first_name: await press_answer(estate, user, f"fee_paid:{fee_id}") for user in everyone[:-2]
    }
    answers["Mallory"] = await press_answer(estate, stranger, f"fee_paid:{fee_id}")
    answers["forged id"] = await press_answer(estate, cast.manager, "fee_paid:999999")
    answers["forged data"] = await press_answer(estate, cast.manager, f"fee_paid:{fee_id}:1")
    answers["not a number"] = await press_answer(estate, cast.manager, "fee_paid:1-101")
    await estate.settled()
    assert answers == {
        "Zhang": NOT_YOURS,
        "Tom": NOT_YOURS,
        "A1": NOT_YOURS,
        "B1": NOT_YOURS,
        "Ma": NOT_YOURS,  # Riverside's manager
        "Mallory": NOT_YOURS,
        "forged id": GONE,
        "forged data": GONE,
        "not a number": GONE,
    }
    assert await _snapshot(estate) == before  # nothing paid, no clock touched, nothing sent
    assert (await _fee(estate, "1-101")).paid_at is None
