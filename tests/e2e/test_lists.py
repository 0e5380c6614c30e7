"""/my, /tasks, /digest and /help: what each role sees when they ask."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from tests.conftest import Cast


async def test_my_tasks_and_digest(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> None:
    await cast.zhang.send_command("/my")
    assert (await cast.zhang.wait_for("no tickets yet")).text == (
        "You have no tickets yet. Just write to make a request."
    )
    await cast.zhang.send_text("Tap broken in the kitchen")
    await cast.zhang.wait_for("#1001")
    await cast.a1.press(await cast.a1.wait_for("New ticket #1001"), "Accept")
    await cast.zhang.wait_for("accepted")
    clock.advance(timedelta(hours=1))
    await cast.zhang.send_text("I want to complain about the rubbish room smell")
    card = await cast.a1.wait_for("#1002")
    clock.advance(timedelta(minutes=2))
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("#1002 has been accepted")

    await cast.zhang.send_command("/my")
    mine = await cast.zhang.wait_for("My tickets")
    assert mine.text == (
        "My tickets (latest 2)\n"
        "#1002 · complaint · in progress · 20 Nov 10:00\n"
        "  I want to complain about the rubbish...\n"
        "#1001 · repair · in progress · 20 Nov 09:00\n"
        "  Tap broken in the kitchen"
    )
    await cast.a1.send_command("/tasks")
    tasks = await cast.a1.wait_for("My open tasks")
    assert tasks.text is not None and tasks.text.startswith("My open tasks (2)\n#1001 · repair")
    assert "#1002 · complaint · in progress · due 22 Nov 10:00" in tasks.text
    await cast.b1.send_command("/tasks")
    assert (await cast.b1.wait_for("No open tasks")).text == "No open tasks right now."

    clock.advance(timedelta(days=3))  # both tickets are now past their committed time
    await cast.manager.send_command("/digest")
    digest = await cast.manager.wait_for("Today so far")
    assert digest.text is not None
    assert digest.text.startswith(
        "Today so far, as of 23 Nov 10:02\n\nTickets\nNew 0 · resolved 0 · closed 0"
    )
    assert (
        "Overdue now: 2\n"
        "#1001 · repair · due 22 Nov 09:00 · Butler A1 · Tap broken in the kitchen\n"
        "#1002 · complaint · due 22 Nov 10:00 · Butler A1 · I want to complain..."
    ) in digest.text


async def test_todays_digest_counts_today(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> None:
    await cast.wu.send_text("Complaint: the guard was rude")
    card = await cast.b1.wait_for("#1001")
    clock.advance(timedelta(minutes=2))
    await cast.b1.press(card, "Accept")
    await cast.wu.wait_for("accepted")
    await cast.zhang.send_text("Hallway light broken")
    await cast.a1.wait_for("#1002")
    clock.advance(timedelta(minutes=10))  # A1 lets it lapse: A2 accepts, late for the promise
    card = await cast.a2.wait_for("Passed on to you")
    await cast.a2.press(card, "Accept")
    await cast.a2.press(card, "Resolved")
    await cast.zhang.press(await cast.zhang.wait_for("Is it resolved"), "Yes, resolved")
    await cast.zhang.press(await cast.zhang.wait_for("How would you rate"), "★★★★★")
    await cast.zhang.wait_for("Thank you for your rating")
    await cast.manager.send_command("/digest")
    digest = await cast.manager.wait_for("Today so far")
    assert digest.text == (
        "Today so far, as of 20 Nov 09:12\n"
        "\n"
        "Tickets\n"
        "New 2 · resolved 1 · closed 1 · still open 1\n"
        "  repair: new 1 · resolved 1 · closed 1 · open 0\n"
        "  complaint: new 1 · resolved 0 · closed 0 · open 1\n"
        "\n"
        "Against targets\n"
        "▫️ Complaints closed: — · target ≥ 98% · 1 in progress, within time\n"
        "✅ Return visits: 100% (1/1) · target 100%\n"
        "✅ Satisfied (4–5★): 100% (1/1) · target ≥ 90% · average 5.0\n"
        "✅ Repairs on time: 100% (1/1) · target ≥ 92%\n"
        "✅ Repairs right first time: 100% (1/1) · target ≥ 98%\n"
        "\n"
        "Promises\n"
        "Accepted within 3 minutes: 50% (1/2)\n"
        "Resolved within the commitment: 100% (1/1)\n"
        "Reopened: 0\n"
        "\n"
        "Overdue now: 0\n"
        "\n"
        "Butlers\n"
        # A1 let #1002 lapse; A2 accepted it within three minutes of it reaching them.
        "Butler A1: assigned 1 · in 3 min 0/1 · on time 0/0 · rating — · open 0\n"
        "Butler A2: assigned 1 · in 3 min 1/1 · on time 1/1 · rating 5.0 · open 0\n"
        "Butler A3: nothing assigned · open 0\n"
        "Butler B1: assigned 1 · in 3 min 1/1 · on time 0/0 · rating — · open 1\n"
        "Butler B2: nothing assigned · open 0"
    )


async def test_help_speaks_to_each_role(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.zhang.send_command("/help")
    assert "/my shows your tickets" in (await cast.zhang.wait_for("How this works")).content
    await cast.a1.send_command("/help")
    assert "/tasks shows your open tasks" in (await cast.a1.wait_for("How this works")).content
    await cast.manager.send_command("/help")
    assert (
        "/digest shows today so far; /report week" in (await cast.manager.wait_for("How this works")).content
    )
    await cast.sun.send_command("/help")
    assert "/my 查看我的工单" in (await cast.sun.wait_for("使用说明")).content
