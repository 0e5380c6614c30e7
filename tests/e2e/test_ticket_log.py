"""/ticket N: a ticket's whole history, as the staff who may see it read it, and nothing for anyone else.

Zhang's repair is opened at 20 Nov 09:00 and due by 22 Nov 09:00; times below are wall times in Shanghai.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config
from bot.embedded import EmbeddedEstate
from bot.model import Incoming, Person, PressedOn
from bot.sandbox.user import SandboxUser
from bot.services import Services
from bot.ticket_log import ticket_number
from storage import follow_ups as follow_up_queries
from storage import people as people_queries
from storage.database import Database
from storage.schema import outbox
from tests.conftest import Cast
from tests.e2e.records import at

NOT_FOUND = (
    "I cannot show ticket #{}: there is no such ticket among those you may see. Managers see every ticket "
    "of the estate; a butler sees the tickets they have or have handled."
)
USAGE = "Send /ticket and the ticket's number, e.g. /ticket 1024, to see its whole history."
NOT_FOR_YOU = "That command is not for your account. Send /help to see what you can do."

THE_WHOLE_LIFE = """\
Ticket #1001 · repair · closed
Unit 1-101 · Owner Zhang (owner)
Butler: Butler A1
Opened 20 Nov 09:00 · committed time 24 Nov 18:00

20 Nov 09:00 · Owner Zhang (owner) · opened the ticket
  The kitchen tap is broken and dripping
20 Nov 09:00 · system · assigned to Butler A1
20 Nov 09:02 · Butler A1 (butler) · accepted
20 Nov 09:05 · Owner Zhang (owner) · wrote
  [photo] Here is the tap
20 Nov 09:15 · Butler A1 (butler) · wrote to the resident
  I will come at 2 pm & bring <parts>
21 Nov 15:00 · Butler A1 (butler) · moved the committed time: 22 Nov 09:00 → 24 Nov 18:00
  Reason: waiting for the spare part
24 Nov 10:00 · Butler A1 (butler) · resolved
24 Nov 11:00 · Owner Zhang (owner) · confirmed it is resolved
24 Nov 11:00 · Owner Zhang (owner) · rated: ★★★★
24 Nov 11:00 · Owner Zhang (owner) · commented on the rating
  Quick & tidy, thank you"""


async def _ask(user: SandboxUser, command: str, expected_start: str) -> str:
    """Send a command and return the text of the answer that starts as expected (after those before)."""
    seen = {m.message_id for m in user.inbox}
    name, _, args = command.partition(" ")
    await user.send_command(name, args or None)
    answer = await user.wait_for(lambda m: m.message_id not in seen and m.content.startswith(expected_start))
    return answer.content


async def _a_whole_life(cast: Cast, clock: ManualClock) -> None:
    """Zhang's repair from the request to the rating's comment, with a photo, a reply and a move."""
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card = await cast.a1.wait_for("New ticket #1001 · repair")
    clock.set(at(20, 9, 2))
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler Butler A1")
    clock.set(at(20, 9, 5))
    await cast.zhang.send_photo(caption="Here is the tap")
    await cast.a1.wait_for(lambda m: m.kind == "photo")
    clock.set(at(20, 9, 15))
    await cast.a1.send_text("I will come at 2 pm & bring <parts>", reply_to=card)
    await cast.zhang.wait_for("I will come at 2 pm")

    clock.set(at(21, 15))
    await cast.a1.press(card, "Move committed time")
    question = await cast.a1.wait_for("Move the committed time of ticket #1001")
    await cast.a1.send_text("11-24 18:00 waiting for the spare part", reply_to=question)
    await cast.zhang.wait_for("You will now hear back by 24 Nov 18:00.")

    clock.set(at(24, 10))
    await cast.a1.press(card, "Resolved")
    question = await cast.zhang.wait_for("Is it resolved for you?")
    clock.set(at(24, 11))
    await cast.zhang.press(question, "Yes, resolved")
    await cast.zhang.press(await cast.zhang.wait_for("How would you rate"), "★★★★")
    thanks = await cast.zhang.wait_for("Thank you for your rating")
    await cast.zhang.send_text("Quick & tidy, thank you", reply_to=thanks)
    await cast.zhang.wait_for("we have your comment on ticket #1001")


async def test_a_manager_reads_a_tickets_whole_life(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _a_whole_life(cast, clock)

    clock.set(at(25, 9))
    assert await _ask(cast.manager, "/ticket 1001", "Ticket #1001") == THE_WHOLE_LIFE
    # Its butler reads the same; "#1001" is read like "1001".
    assert await _ask(cast.a1, "/ticket #1001", "Ticket #1001") == THE_WHOLE_LIFE

    # Another team's butler, and a butler of the same team who never had it, learn nothing: the answer
    # is the one a number that does not exist gets.
    assert await _ask(cast.b1, "/ticket 1001", "I cannot show") == NOT_FOUND.format(1001)
    assert await _ask(cast.a2, "/ticket 1001", "I cannot show") == NOT_FOUND.format(1001)
    assert await _ask(cast.manager, "/ticket 1099", "I cannot show") == NOT_FOUND.format(1099)
    # Residents and owners are told the command is not theirs, even for their own ticket.
    assert await _ask(cast.zhang, "/ticket 1001", "That command") == NOT_FOR_YOU
    assert await _ask(cast.tom, "/ticket 1001", "That command") == NOT_FOR_YOU
    await estate.settled()
    for user in (cast.b1, cast.a2, cast.zhang, cast.tom):
        assert all("opened the ticket" not in m.content for m in user.inbox)


@pytest.mark.parametrize("command", ["/ticket", "/ticket abc", "/ticket #", "/ticket 12345678901234567890"])
async def test_without_a_number_the_answer_says_how(estate: EmbeddedEstate, cast: Cast, command: str) -> None:
    assert await _ask(cast.manager, command, "Send /ticket") == USAGE


async def test_a_butler_who_had_a_hand_in_it_before_it_moved_on_still_reads_it(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("Hallway light broken")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.a1.send_text("Checking who is free to come", reply_to=card)
    await cast.zhang.wait_for("Checking who is free")
    clock.advance(timedelta(minutes=3))  # A1 never accepts: the ticket goes on to A2
    await cast.a2.wait_for("Passed on to you")

    expected = """\
Ticket #1001 · repair · not accepted yet
Unit 1-101 · Owner Zhang (owner)
Butler: Butler A2
Opened 20 Nov 09:00 · committed time 22 Nov 09:00

20 Nov 09:00 · Owner Zhang (owner) · opened the ticket
  Hallway light broken
20 Nov 09:00 · system · assigned to Butler A1
20 Nov 09:00 · Butler A1 (butler) · wrote to the resident
  Checking who is free to come
20 Nov 09:03 · system · passed on from Butler A1 to Butler A2: not accepted in time"""
    assert await _ask(cast.a2, "/ticket 1001", "Ticket #1001") == expected
    assert await _ask(cast.a1, "/ticket 1001", "Ticket #1001") == expected
    assert await _ask(cast.a3, "/ticket 1001", "I cannot show") == NOT_FOUND.format(1001)


async def test_an_overdue_ticket_nobody_has_says_so(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.tom.send_text("Complaint: the lift has been noisy all week")
    await cast.manager.wait_for("[Copy to manager] complaint ticket #1001")
    for butler in (cast.a1, cast.a2, cast.a3):  # each lets it lapse in turn: it goes to the managers
        await butler.wait_for("#1001")
        clock.advance(timedelta(minutes=3))
    await cast.manager.wait_for("Nobody in team A has taken ticket #1001")
    clock.set(at(22, 9))
    await cast.manager.wait_for("Overdue: ticket #1001")

    log = await _ask(cast.manager, "/ticket 1001", "Ticket #1001")
    assert log.startswith(
        "Ticket #1001 · complaint · not accepted yet\n"
        "Unit 1-101 · Resident Tom (resident), owner Owner Zhang\n"
        "Butler: nobody yet (with the managers)\n"
        "Opened 20 Nov 09:00 · committed time 22 Nov 09:00\n"
        "🔴 Went overdue at 22 Nov 09:00\n"
        "\n"
        "20 Nov 09:00 · Resident Tom (resident) · opened the ticket\n"
        "  Complaint: the lift has been noisy all week\n"
    )
    assert log.endswith(
        "20 Nov 09:09 · system · passed on from Butler A3 to the managers: not accepted in time\n"
        "22 Nov 09:00 · system · overdue: it was due by 22 Nov 09:00"
    )


# ---- the service itself, in Chinese (every staff member of the test estate reads English) -----------


async def _person(db: Database, telegram_id: int) -> Person:
    async with db.engine.connect() as conn:
        person = await people_queries.person_by_telegram_id(conn, telegram_id)
    assert person is not None
    return person


async def _last_text_to(db: Database, chat_id: int) -> str:
    async with db.engine.connect() as conn:
        payload = (
            await conn.execute(
                sa.select(outbox.c.payload).where(outbox.c.chat_id == chat_id).order_by(outbox.c.id.desc())
            )
        ).first()
    assert payload is not None
    return str(payload[0]["html"])


async def test_a_chinese_manager_reads_the_log_in_chinese(rostered_db: Database, clock: ManualClock) -> None:
    services = Services.assemble(rostered_db, clock, Config())
    sun = await _person(rostered_db, 1302)
    manager = dataclasses.replace(await _person(rostered_db, 900), language="zh")
    ticket = await services.desk.take_message(sun, Incoming("text", 1302, 1, text="厨房水龙头坏了 <急>"))
    assert ticket is not None
    clock.advance(timedelta(minutes=2))
    a1 = await _person(rostered_db, 101)
    await services.desk.accept(a1, ticket.id, PressedOn(101, 0, had_buttons=False))
    clock.set(at(21, 10))
    await services.desk.resolve(a1, ticket.id, PressedOn(101, 0, had_buttons=False))

    await services.ticket_log.show(manager, ["＃１００１"])  # full-width, as a Chinese keyboard may type it
    assert await _last_text_to(rostered_db, 900) == (
        "<b>工单 #1001</b> · 报修 · 待业主确认\n"
        "房号 1-302 · Owner Sun（业主）\n"
        "管家：Butler A1\n"
        "提交于 11月20日 09:00 · 承诺时限 11月22日 09:00\n"
        "\n"
        "11月20日 09:00 · Owner Sun（业主） · 提交工单\n"
        "　厨房水龙头坏了 &lt;急&gt;\n"
        "11月20日 09:00 · 系统 · 派单给 Butler A1\n"
        "11月20日 09:02 · Butler A1（管家） · 接单\n"
        "11月21日 10:00 · Butler A1（管家） · 处理完毕"
    )
    await services.ticket_log.show(manager, ["工单"])
    assert (
        await _last_text_to(rostered_db, 900)
        == "请发送 /ticket 加工单号查看工单完整记录，例如 /ticket 1024。"
    )
    # The service keeps its own counsel too: a household member asking directly is told nothing.
    await services.ticket_log.show(dataclasses.replace(sun, language="zh"), ["1001"])
    assert await _last_text_to(rostered_db, 1302) == (
        "无法显示工单 #1001：在您可查看的工单中没有这个工单。"
        "经理可查看本项目的所有工单；管家可查看自己负责或经手过的工单。"
    )


async def test_a_butler_given_a_follow_up_on_the_ticket_reads_it(
    rostered_db: Database, clock: ManualClock
) -> None:
    """Whoever makes the return-visit call or the second service reads the history before going."""
    services = Services.assemble(rostered_db, clock, Config())
    zhang = await _person(rostered_db, 1101)
    ticket = await services.desk.take_message(zhang, Incoming("text", 1101, 1, text="Door bell broken"))
    assert ticket is not None
    a3 = await _person(rostered_db, 103)
    await services.ticket_log.show(a3, ["1001"])
    assert (await _last_text_to(rostered_db, 103)).startswith("I cannot show ticket #1001")
    async with rostered_db.begin() as conn:
        await follow_up_queries.add_follow_up(conn, ticket.id, "return_visit", a3.id, clock.now())
    await services.ticket_log.show(a3, ["1001"])
    assert (await _last_text_to(rostered_db, 103)).startswith("<b>Ticket #1001</b> · repair")


def test_reading_the_number() -> None:
    assert ticket_number(["1024"]) == ticket_number(["#1024"]) == ticket_number(["＃１０２４"]) == 1024
    assert ticket_number(["1024", "please"]) == 1024
    for unreadable in ([], [""], ["abc"], ["#"], ["10 24"], ["-5"], ["1234567890"]):
        assert ticket_number(unreadable) is None
