"""The whole resident → butler → resident loop, over HTTP against the sandbox, as each person sees it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from storage.schema import tickets
from tests.conftest import Cast
from tests.e2e.records import alerts, event_kinds


async def test_a_request_reaches_the_owners_own_butler_and_back(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")

    ack = await cast.zhang.wait_for("#1001")
    assert ack.text == (
        "We have your repair request: ticket #1001.\n"
        "Your butler Butler A1 is taking care of it; you will hear back by 22 Nov 09:00."
    )
    card = await cast.a1.wait_for("New ticket #1001")
    assert "Unit: 1-101" in card.content and "Owner: Owner Zhang" in card.content
    assert "Phone: 139-1111-0101" in card.content and "Feedback due: 22 Nov 09:00" in card.content
    assert "The kitchen tap is broken and dripping" in card.content
    assert card.buttons == [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]

    # Accept: the resident hears who has it; the card keeps only the button that still applies.
    clock.advance(timedelta(minutes=1))
    answer = await cast.a1.wait_for_answer(await cast.a1.press(card, "Accept"))
    assert answer.get("text") == "Done"
    await cast.zhang.wait_for("accepted by your butler Butler A1")
    await estate.settled()
    assert cast.a1.inbox[0].buttons == [[("Resolved", "resolve:1"), ("Move committed time", "postpone:1")]]

    # The butler replies to the card: it reaches the resident, signed, inside the ticket.
    await cast.a1.send_text("I will come by at 10 with the plumber.", reply_to=card)
    relayed = await cast.zhang.wait_for("plumber")
    assert relayed.text == "#1001 · Butler Butler A1: I will come by at 10 with the plumber."
    await cast.a1.wait_for("Passed to Owner Zhang (#1001)")

    # The resident replies to the relayed message: it reaches the butler.
    await cast.zhang.send_text("Great, I'll be home.", reply_to=relayed)
    await cast.a1.wait_for("#1001 · 1-101 Owner Zhang: Great, I'll be home.")
    await cast.zhang.wait_for("Added to ticket #1001")

    # Resolve → "resolved?" → yes → rating → comment.
    clock.advance(timedelta(hours=1))
    await cast.a1.press(cast.a1.inbox[0], "Resolved")
    question = await cast.zhang.wait_for("Is it resolved for you?")
    assert question.buttons == [[("Yes, resolved", "confirm:1"), ("Not yet", "reopen:1")]]
    await cast.zhang.press(question, "Yes, resolved")
    stars = await cast.zhang.wait_for("How would you rate")
    assert [label for label, _ in stars.buttons[0]] == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    await cast.a1.wait_for("Owner Zhang confirmed ticket #1001 is resolved.")
    await cast.zhang.press(stars, "★★★★")
    thanks = await cast.zhang.wait_for("Thank you for your rating (★★★★)")
    assert thanks.force_reply
    await cast.a1.wait_for("Owner Zhang rated ticket #1001 4 stars.")
    await cast.zhang.send_text("Quick and tidy, thank you", reply_to=thanks)
    await cast.zhang.wait_for("we have your comment on ticket #1001")
    assert (await cast.a1.wait_for("Quick and tidy")).text == (
        "Owner Zhang commented on ticket #1001: Quick and tidy, thank you"
    )
    await estate.settled()

    # Buttons already answered are gone, so they cannot be pressed twice.
    assert question.buttons == [] and stars.buttons == []
    assert await event_kinds(estate, 1001) == [
        "created",
        "assigned",
        "accepted",
        "message_from_butler",
        "message_from_resident",
        "resolved",
        "confirmed",
        "rated",
        "commented",
    ]
    async with estate.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets).where(tickets.c.number == 1001))).one()
    assert (row.state, row.rating, row.rating_comment) == ("closed", 4, "Quick and tidy, thank you")
    # Nobody else of team A, nobody of team B and no manager heard of an ordinary repair.
    for other in (cast.a2, cast.a3, cast.b1, cast.b2, cast.manager):
        assert other.inbox == []


async def test_team_b_never_sees_team_a_tickets(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.zhang.send_text("Light in the hallway is broken")
    await cast.wu.send_text("My door lock is broken")
    await cast.a1.wait_for("#1001")
    await cast.b1.wait_for("#1002")
    await estate.settled()
    assert all("#1002" not in m.content for m in cast.a1.inbox)
    assert all("#1001" not in m.content for m in cast.b1.inbox)
    for quiet in (cast.a2, cast.a3, cast.b2):
        assert quiet.inbox == []

    # Even with forged button data, a team B butler cannot act on team A's ticket.
    card_b = await cast.b1.wait_for("#1002")
    answer = await cast.b1.wait_for_answer(await cast.b1.press_data(card_b, "accept:1"))
    assert answer.get("text") == "This is not your ticket; nothing was changed"
    # Nor reply into it: a reply to their own card goes to their own ticket's owner only.
    await cast.b1.send_text("On my way", reply_to=card_b)
    await cast.wu.wait_for("On my way")
    await estate.settled()
    assert all("On my way" not in m.content for m in cast.zhang.inbox)
    async with estate.db.engine.connect() as conn:
        state = (await conn.execute(sa.select(tickets.c.state).where(tickets.c.number == 1001))).scalar()
    assert state == "new"


async def test_not_yet_reopens_to_the_same_butler(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.wu.send_text("Window handle broken")
    card = await cast.b1.wait_for("#1001")
    await cast.b1.press(card, "Accept")
    await cast.b1.press(
        await cast.b1.wait_for(lambda m: bool(m.buttons) and m.buttons[0][0] == ("Resolved", "resolve:1")),
        "Resolved",
    )
    await cast.wu.press(await cast.wu.wait_for("Is it resolved"), "Not yet")
    await cast.wu.wait_for("ticket #1001 is open again; your butler Butler B1 will follow it through")
    notice = await cast.b1.wait_for("is not resolved yet")
    assert notice.buttons == [[("Resolved", "resolve:1"), ("Move committed time", "postpone:1")]]
    # Second service: the managers hear of it; nobody else in the team is involved.
    alert = await cast.manager.wait_for("Second service needed: ticket #1001")
    assert "Owner Wu says it is not resolved" in alert.content and "Butler: Butler B1" in alert.content
    await estate.settled()
    assert cast.b2.inbox == []
    assert (await event_kinds(estate, 1001))[-2:] == ["reopened", "second_service"]
    async with estate.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets).where(tickets.c.number == 1001))).one()
    assert (row.state, row.reopen_count, row.butler_id is not None) == ("accepted", 1, True)

    # Resolving again works, and this time the resident is satisfied.
    await cast.b1.press(notice, "Resolved")
    questions = await cast.wu.wait_for_count(5)
    await cast.wu.press(questions[-1], "Yes, resolved")
    await cast.wu.wait_for("How would you rate")


async def test_complaints_emergencies_and_vips_reach_the_managers_at_once(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.wu.send_text("I want to make a complaint about the noise at night")
    alert = await cast.manager.wait_for("[Copy to manager] complaint ticket #1001")
    assert "Butler: Butler B1" in alert.content and "Unit: 3-601" in alert.content

    await cast.zhang.send_text("FIRE in the stairwell, smoke everywhere")
    emergency = await cast.manager.wait_for("emergency ticket #1002")
    assert emergency.content.startswith("[Copy to manager]")
    ack = await cast.zhang.wait_for("#1002")
    assert "If anyone is in danger, call 119 / 110 / 120 now." in ack.content
    assert "by 20 Nov 13:00" in ack.content  # emergencies: feedback within 4 hours, not 2 days

    await cast.chen.send_text("When is the pool open?")  # a VIP's plain inquiry
    vip = await cast.manager.wait_for("#1003")
    assert "(VIP owner)" in vip.content

    await cast.sun.send_text("水龙头坏了")  # an ordinary repair of an ordinary owner
    await cast.a1.wait_for("#1004")
    await estate.settled()
    assert all("#1004" not in m.content for m in alerts(cast.manager))

    # A manager replying to the copy reaches the owner, signed as manager.
    await cast.manager.send_text("We are looking into it tonight.", reply_to=alert)
    reply = await cast.wu.wait_for("We are looking into it tonight.")
    assert reply.text is not None and reply.text.startswith("#1001 · Manager Manager Liu:")


async def test_a_team_with_nobody_on_duty_goes_to_the_managers(estate: EmbeddedEstate, cast: Cast) -> None:
    async with estate.db.begin() as conn:
        await conn.execute(sa.text("UPDATE people SET on_duty = 0 WHERE role = 'butler' AND team_id = 2"))
    await cast.wu.send_text("Door lock broken")
    ack = await cast.wu.wait_for("#1001")
    assert "We are assigning a butler now" in ack.content
    alert = await cast.manager.wait_for("#1001")
    assert "nobody on duty; please assign someone now" in alert.content
    await estate.settled()
    assert cast.b1.inbox == [] and cast.b2.inbox == []
    assert await event_kinds(estate, 1001) == ["created", "unassigned"]
