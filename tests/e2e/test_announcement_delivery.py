"""An announcement to many: it never holds up the service's own messages, and a restart half-way through a
1,000-resident announcement sends each resident exactly one copy and reports all 1,000."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.announcements import Audience
from bot.clock import ManualClock
from bot.embedded import SANDBOX_TOKEN, EmbeddedEstate, embedded_estate
from bot.runtime import Runtime
from bot.sandbox import BotApiSandbox
from bot.sandbox.user import SandboxUser
from storage.schema import outbox
from tests.conftest import ROSTER

FIRST_ID = 100_000


def many_owners(count: int, *, building_from: int = 10) -> str:
    """`count` owners on Telegram, a hundred to a building, alternately reading Chinese and English."""
    rows = [
        f"owner,Owner {n},B,{building_from + n // 100}-{n % 100:02d}01,{FIRST_ID + n},,{language},no"
        for n, language in zip(range(count), itertools.cycle(("en", "zh")), strict=False)
    ]
    return "\n".join(rows) + "\n"


def users(sandbox: BotApiSandbox, count: int) -> list[SandboxUser]:
    return [sandbox.user(FIRST_ID + n, f"O{n}") for n in range(count)]


def announcement_sends(estate: EmbeddedEstate, ids: set[int]) -> list[float]:
    """When each message to one of `ids` that the sandbox took, an announcement, arrived."""
    return [
        call.at
        for call in estate.sandbox.call_log.sends()
        if call.ok and call.chat_id in ids and "📢" in str(call.params.get("text"))
    ]


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_an_announcement_does_not_hold_up_a_new_tickets_card(
    tmp_path: Path, clock: ManualClock
) -> None:
    count = 90
    async with embedded_estate(tmp_path, ROSTER + many_owners(count), clock, paced=True) as estate:
        owners = users(estate.sandbox, count)
        zhang, a1 = estate.sandbox.user(1101, "Zhang"), estate.sandbox.user(101, "A1")
        for user_id in (1102, 1302, 3502, 3601):
            estate.sandbox.user(user_id, str(user_id))
        runtime: Runtime = estate.application.bot_data["runtime"]
        async with estate.db.begin() as conn:
            _, reach = await runtime.announcements.queue_from_command_line(
                conn, 1, Audience("estate"), "The lifts are serviced on Monday.", None
            )
        runtime.sender.wake()
        recipients = {person.telegram_id for person in reach.people if person.telegram_id is not None}
        assert len(recipients) == count + 5  # Zhou is not on Telegram

        # Paced at thirty a second, the announcement takes three seconds; a request comes in early on.
        await until(lambda: len(announcement_sends(estate, recipients)) >= 10)
        await zhang.send_text("The kitchen tap is broken")
        card = await a1.wait_for("New ticket #1001")
        await until(lambda: len(announcement_sends(estate, recipients)) == len(recipients))
        card_at = next(call.at for call in estate.sandbox.call_log.sends(chat_id=101) if call.ok)
        after_card = [at for at in announcement_sends(estate, recipients) if at > card_at]
        await estate.settled()
        assert estate.sandbox.rejections == []
    assert card.buttons == [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]
    # The card went ahead of what was left of the announcement, not after it.
    assert len(after_card) >= 40, len(after_card)
    copies = [len([m for m in owner.inbox if "lifts are serviced" in m.content]) for owner in owners]
    assert copies == [1] * count


async def test_a_restart_half_way_through_a_1000_resident_announcement_sends_each_exactly_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    count = 1000
    roster = "role,name,team,unit,telegram_id,phone,language,vip\nmanager,Manager Liu,,,900,,en,no\n"
    roster += "butler,Butler B1,B,,201,,en,no\nbutler,Butler B2,B,,202,,en,no\n" + many_owners(count)
    text = "The water supply is interrupted on Saturday, 09:00–12:00. Please store some water."
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        manager = sandbox.user(900, "Liu", language_code="en")
        owners = users(sandbox, count)
        recipients = {owner.id for owner in owners}
        async with embedded_estate(tmp_path, roster, clock, sandbox=sandbox) as first_run:
            await manager.send_command("/announce")
            await manager.press(await manager.wait_for("New announcement"), "Whole estate (1000)")
            await manager.send_text(text, reply_to=await manager.wait_for("Please write"))
            await manager.press(await manager.wait_for("Preview"), "Send")
            await until(lambda: len(announcement_sends(first_run, recipients)) >= 300)
            # Telegram says "wait 30 s" from now on: what is not sent yet stays in the outbox, and the
            # graceful stop does not wait that long.
            sandbox.faults.too_many_requests(30, method="sendMessage", times=None)
        sent_before_the_restart = len(announcement_sends(first_run, recipients))
        assert 300 <= sent_before_the_restart < count

        sandbox.faults.clear()
        async with embedded_estate(tmp_path, None, clock, sandbox=sandbox) as second_run:
            await until(lambda: len(announcement_sends(second_run, recipients)) == count)
            await second_run.settled()
            clock.advance(timedelta(seconds=30))
            report = await manager.wait_for("Announcement #1 to")
            await second_run.settled()
            async with second_run.db.read() as conn:
                pending = await conn.execute(sa.select(sa.func.count()).where(outbox.c.status == "pending"))
                assert pending.scalar_one() == 0
            assert sandbox.rejections == []
    assert report.content == (
        "📢 Announcement #1 to the whole estate: delivered 1000, unreachable 0, not on Telegram 0"
    )
    copies = [[m.content for m in owner.delivered if text in m.content] for owner in owners]
    assert [len(received) for received in copies] == [1] * count
    assert copies[0] == [f"📢 Announcement\n\n{text}\n\nManager Liu, property service centre"]
    assert copies[1] == [f"📢 公告\n\n{text}\n\n物业服务中心 Manager Liu"]
