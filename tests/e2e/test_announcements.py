"""Announcements (公告): /announce in chat, what each resident receives, who may send, and the report."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import EmbeddedEstate, load_roster
from bot.sandbox.models import ChatMessage
from bot.sandbox.user import SandboxUser
from storage.schema import announcement_deliveries, announcements, outbox
from tests.conftest import ROSTER, Cast
from tests.e2e.authorization import open_riverside

WATER = "Water will be off tomorrow 09:00–12:00. <Please> store some water & excuse the trouble."
CHOOSE = (
    "📢 New announcement\n"
    "Whom is it for? Each button shows how many owners and residents it is for; each receives it in"
    " their own language."
)
CHOICES = [
    [("Whole estate (6)", "announce_to:1:0")],
    [
        ("Building 1 (3)", "announce_to:1:1"),
        ("Building 2 (1)", "announce_to:1:2"),
        ("Building 3 (2)", "announce_to:1:3"),
    ],
    [("VIP owners (1)", "announce_to:1:4")],
]
WRITE_TO_BUILDING_1 = (
    "📢 Announcement for building 1: 3 recipients.\n"
    "Please write the announcement as a reply to this message. Text only; it is sent exactly as you write it,"
    ' under the heading "Announcement" and signed with your name. You will see a preview before anything is'
    " sent."
)
TO_BUILDING_1_EN = f"📢 Announcement for building 1\n\n{WATER}\n\nManager Liu, property service centre"
TO_BUILDING_1_ZH = f"📢 公告（1 号楼）\n\n{WATER}\n\n物业服务中心 Manager Liu"
PREVIEW_BUILDING_1 = (
    "Preview: residents will receive exactly this, each in their own language.\n"
    f"────────────\n{TO_BUILDING_1_EN}\n────────────\n"
    "Recipients (building 1): 3\n"
    "• on Telegram: 3\n\n"
    'Press "Send" to send it, or "Cancel". To change the text, reply to this message with the new text.'
)
SENT_TO_BUILDING_1 = (
    "📢 Announcement #1 for building 1 is on its way to 3 people on Telegram. You will receive a report"
    " once every delivery has settled."
)
NOT_YOURS = "This is not yours to change; nothing was changed"
ALREADY = "This has been dealt with already; the button no longer applies"
GONE = "This button no longer works"
NOT_FOR_YOU = "That command is not for your account. Send /help to see what you can do."
GYM = "The gym is closed on Friday for cleaning."
BLOCKED = "Forbidden: bot was blocked by the user"
FOUR_ONE_ONE = "delivered 4, unreachable 1 (blocked the bot, or refused otherwise), not on Telegram 1"


async def _answer(user: SandboxUser, message: ChatMessage, data: str) -> str:
    """Press `data` on the message (shown there or forged) and return the short answer."""
    return str((await user.wait_for_answer(await user.press_data(message, data))).get("text", ""))


def _next(user: SandboxUser, words: str) -> Coroutine[Any, Any, ChatMessage]:
    """Waiting for the next message to reach `user` with `words` in it: not one already there now."""
    seen = {message.message_id for message in user.inbox}
    return user.wait_for(lambda m: m.message_id not in seen and words in m.content)


async def _choose(cast: Cast, button: str) -> ChatMessage:
    """/announce and the audience `button`: returns the prompt for the text."""
    choose = _next(cast.manager, "New announcement")
    await cast.manager.send_command("/announce")
    shown = await choose
    data = next(d for row in shown.buttons for label, d in row if label == button)
    prompt = _next(cast.manager, "Please write the announcement")
    assert await _answer(cast.manager, shown, data) == "Done"
    return await prompt


async def _preview(cast: Cast, button: str, text: str = WATER) -> ChatMessage:
    """/announce, an audience, the text: returns the preview with Send and Cancel."""
    prompt = await _choose(cast, button)
    assert prompt.force_reply
    preview = _next(cast.manager, "Preview")
    await cast.manager.send_text(text, reply_to=prompt)
    return await preview


def _take_refusals(estate: EmbeddedEstate, words: str) -> list[int]:
    """The chats the Bot API refused saying `words`, taken off its list of refusals (the estate fixture
    checks that nothing else was refused)."""
    refused = [params["chat_id"] for _, params, said in estate.sandbox.rejections if words in said]
    estate.sandbox.rejections[:] = [r for r in estate.sandbox.rejections if words not in r[2]]
    return refused


def _announcements_received(user: SandboxUser) -> list[str]:
    return [m.content for m in user.inbox if m.content.startswith(("📢 Announcement for", "📢 公告"))]


async def _report(cast: Cast, estate: EmbeddedEstate, clock: ManualClock, number: int) -> str:
    """Delivery settles, the report clock's next look finds it so: the manager's report."""
    report = _next(cast.manager, f"📢 Announcement #{number} to ")
    await estate.settled()
    clock.advance(timedelta(seconds=30))
    return (await report).content


async def test_an_announcement_to_one_building_reaches_its_residents_only_each_in_their_language(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.manager.send_command("/announce")
    choose = await cast.manager.wait_for("New announcement")
    assert choose.content == CHOOSE
    assert choose.buttons == CHOICES

    await cast.manager.press(choose, "Building 1 (3)")
    prompt = await cast.manager.wait_for("Please write the announcement")
    assert prompt.content == WRITE_TO_BUILDING_1 and prompt.force_reply
    await cast.manager.send_text(WATER, reply_to=prompt)
    preview = await cast.manager.wait_for("Preview")
    assert preview.content == PREVIEW_BUILDING_1
    assert preview.buttons == [[("Send", "announce_send:1"), ("Cancel", "announce_cancel:1")]]
    await estate.settled()
    assert _announcements_received(cast.zhang) == []  # nothing goes before Send

    assert await _answer(cast.manager, preview, "announce_send:1") == "Done"
    assert (await cast.manager.wait_for("on its way")).content == SENT_TO_BUILDING_1
    for user, text in (
        (cast.zhang, TO_BUILDING_1_EN),
        (cast.tom, TO_BUILDING_1_EN),
        (cast.sun, TO_BUILDING_1_ZH),
    ):
        assert (await user.wait_for(text)).content == text
    await estate.settled()
    assert preview.buttons == []  # sent: Send cannot be pressed again
    for user in (cast.chen, cast.wu, cast.a1, cast.b1):
        assert _announcements_received(user) == []
    # The zh resident's text is bold-headed HTML, the manager's words escaped exactly as typed.
    assert cast.sun.inbox[-1].html == (
        "📢 <b>公告</b>（1 号楼）\n\nWater will be off tomorrow 09:00–12:00. &lt;Please&gt; store some water"
        " &amp; excuse the trouble.\n\n物业服务中心 Manager Liu"
    )

    assert await _report(cast, estate, clock, 1) == (
        "📢 Announcement #1 to building 1: delivered 3, unreachable 0, not on Telegram 0"
    )
    async with estate.db.read() as conn:
        bulk = (
            (
                await conn.execute(
                    sa.select(outbox.c.chat_id)
                    .join(announcement_deliveries, announcement_deliveries.c.outbox_id == outbox.c.id)
                    .where(outbox.c.bulk)
                    .order_by(outbox.c.chat_id)
                )
            )
            .scalars()
            .all()
        )
    assert bulk == [1101, 1102, 1302]


async def test_vip_owners_only_and_the_text_can_be_corrected_before_it_is_sent(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _choose(cast, "VIP owners (1)")
    first = _next(cast.manager, "Preview")
    await cast.manager.send_text(
        "Dear VIP owners: a tea party on Saturday"
    )  # not a reply: taken all the same
    first_preview = await first
    second = _next(cast.manager, "Preview")
    await cast.manager.send_text("Dear VIP owners: a tea party on Sunday, 15:00", reply_to=first_preview)
    preview = await second
    assert "tea party on Sunday" in preview.content
    await estate.settled()
    assert first_preview.buttons == []  # the old preview cannot send anything any more
    await cast.manager.press(preview, "Send")
    text = (
        "📢 Announcement for VIP owners\n\nDear VIP owners: a tea party on Sunday, 15:00\n\n"
        "Manager Liu, property service centre"
    )
    assert (await cast.chen.wait_for("tea party")).content == text
    assert await _report(cast, estate, clock, 1) == (
        "📢 Announcement #1 to VIP owners: delivered 1, unreachable 0, not on Telegram 0"
    )
    for user in (cast.zhang, cast.tom, cast.sun, cast.wu):
        assert _announcements_received(user) == []


async def test_send_pressed_twice_sends_once_and_a_cancelled_draft_sends_nothing(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    preview = await _preview(cast, "Building 3 (2)")
    first = await cast.manager.press_data(preview, "announce_send:1")
    second = await cast.manager.press_data(preview, "announce_send:1")
    assert [(await cast.manager.wait_for_answer(q)).get("text") for q in (first, second)] == ["Done", ALREADY]
    await estate.settled()
    expected = [f"📢 Announcement for building 3\n\n{WATER}\n\nManager Liu, property service centre"]
    assert _announcements_received(cast.chen) == expected
    assert _announcements_received(cast.wu) == expected

    preview = await _preview(cast, "Whole estate (6)", "Lift maintenance on Monday")
    cancelled = _next(cast.manager, "cancelled")
    assert await _answer(cast.manager, preview, "announce_cancel:2") == "Done"
    assert (await cancelled).content == "The announcement was cancelled; nothing was sent."
    assert await _answer(cast.manager, preview, "announce_send:2") == ALREADY
    assert await _answer(cast.manager, preview, "announce_cancel:2") == ALREADY
    closed = _next(cast.manager, "not used")
    await cast.manager.send_text("Lift maintenance on Tuesday", reply_to=preview)
    assert (await closed).content == (
        "That announcement was cancelled, so this text was not used."
        " To send another announcement, use /announce."
    )
    await estate.settled()
    for user in (cast.zhang, cast.tom, cast.sun, cast.chen, cast.wu):
        assert not any("Lift maintenance" in text for text in _announcements_received(user))
    async with estate.db.read() as conn:
        statuses = (
            await conn.execute(sa.select(announcements.c.status).order_by(announcements.c.id))
        ).scalars()
        assert list(statuses) == ["sent", "cancelled"]
        deliveries = await conn.execute(sa.select(sa.func.count()).select_from(announcement_deliveries))
        assert deliveries.scalar_one() == 2


async def test_only_the_manager_who_drafted_an_announcement_can_send_it(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    for user in (cast.a1, cast.zhang, cast.tom):
        refusal = _next(user, "not for your account")
        await user.send_command("/announce")
        assert (await refusal).content == NOT_FOR_YOU
    riverside = await open_riverside(estate, clock)
    # A second manager of the same estate.
    await load_roster(estate.db, ROSTER + "manager,Manager Wang,,,901,,zh,no\n", Config(), clock)
    wang = estate.sandbox.user(901, "Wang")
    preview = await _preview(cast, "Whole estate (6)")

    others = {
        cast.a1: NOT_YOURS,
        cast.zhang: NOT_YOURS,
        riverside.manager: NOT_YOURS,
        wang: "您无权操作此项，未做任何更改",
    }
    for user, answer in others.items():
        help_text = _next(user, "")
        await user.send_command("/help")
        on = await help_text
        for data in ("announce_send:1", "announce_cancel:1", "announce_to:1:0"):
            assert await _answer(user, on, data) == answer, (user, data)
    # Forged data: a draft that does not exist, an audience never offered, garbage.
    await cast.manager.send_command("/announce")
    choose = await _next(cast.manager, "New announcement")
    for data in (
        "announce_send:99",
        "announce_to:2:99",
        "announce_to:2:x",
        "announce_send:1:2",
        "announce_to:2",
    ):
        assert await _answer(cast.manager, choose, data) == GONE, data
    await estate.settled()
    for user in (cast.zhang, cast.tom, cast.sun, cast.chen, cast.wu):
        assert _announcements_received(user) == []
    async with estate.db.read() as conn:
        statuses = (
            await conn.execute(sa.select(announcements.c.status).order_by(announcements.c.id))
        ).scalars()
        assert list(statuses) == ["ready", "choosing"]  # nothing the presses did changed a draft

    # Its author still can.
    assert await _answer(cast.manager, preview, "announce_send:1") == "Done"
    await cast.sun.wait_for("公告")
    assert _announcements_received(riverside.qian) == []


async def test_the_report_counts_who_blocked_the_bot_and_who_is_not_on_telegram(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    cast.wu.block()
    preview = await _preview(cast, "Whole estate (6)")
    assert (
        "Recipients (the whole estate): 6\n• on Telegram: 5\n"
        "• not on Telegram yet: 1 (they will not receive it)\n" in preview.content
    )
    unreachable = _next(cast.b1, "cannot be reached")
    await cast.manager.press(preview, "Send")
    assert (await unreachable).content.startswith("⚠️ Owner Wu cannot be reached on Telegram (owner, 3-601)")
    assert await _report(cast, estate, clock, 1) == (
        f"📢 Announcement #1 to the whole estate: {FOUR_ONE_ONE}"
    )

    # Known to refuse the bot now: the next announcement tries Wu once more, once.
    preview = await _preview(cast, "Whole estate (6)", "The pool opens on Saturday.")
    assert (
        "• on Telegram: 4\n• blocked the bot: 1 (tried once; probably not received)\n"
        "• not on Telegram yet: 1 (they will not receive it)\n"
    ) in preview.content
    await cast.manager.press(preview, "Send")
    assert await _report(cast, estate, clock, 2) == (
        f"📢 Announcement #2 to the whole estate: {FOUR_ONE_ONE}"
    )
    assert len(estate.sandbox.call_log.sends(chat_id=3601)) == 2
    assert _take_refusals(estate, BLOCKED) == [3601, 3601]
    assert (
        sum("cannot be reached" in m.content for m in cast.b1.inbox) == 1
    )  # told once, not per announcement
    # Shown the next time a manager announces.
    await cast.manager.send_command("/announce")
    choose = await _next(cast.manager, "New announcement")
    assert choose.content.endswith(
        "\n\nRecent announcements\n"
        "#2 · 20 Nov 09:00 · the whole estate: delivered 4, unreachable 1, not on Telegram 1\n"
        "#1 · 20 Nov 09:00 · the whole estate: delivered 4, unreachable 1, not on Telegram 1"
    )


async def test_guanjia_announce_yes_is_delivered_by_the_running_bot_and_reported_to_the_managers(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "note.txt"
    note.write_text(f"\ufeff{GYM}\n", encoding="utf-8")  # with a BOM, as Windows Notepad saves it
    monkeypatch.setattr("bot.cli.SystemClock", lambda: clock)  # the estate's time, not the wall clock's
    command = ["announce", "--db", str(estate.db_path), "--file", str(note), "--to", "building:3", "--yes"]
    assert await asyncio.to_thread(main, command) == 0
    text = "\n\n".join(("📢 Announcement for building 3", GYM, "Property service centre"))
    for user in (cast.chen, cast.wu):  # the running bot's sender finds the rows within a second
        assert (await user.wait_for(GYM)).content == text
    assert await _report(cast, estate, clock, 1) == (
        "📢 Announcement #1 to building 3: delivered 2, unreachable 0, not on Telegram 0"
    )
    for user in (cast.zhang, cast.tom, cast.sun):
        assert _announcements_received(user) == []
