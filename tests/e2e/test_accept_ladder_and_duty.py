"""The three-minute promise and who is on duty: an unaccepted ticket climbing the ladder, as each sees it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox.models import ChatMessage
from storage.schema import clocks, people, ticket_events, tickets
from tests.conftest import Cast
from tests.e2e.records import alerts, person_id, ticket_row

CARD_BUTTONS = [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]
THREE_MINUTES = timedelta(minutes=3)


async def _hops(estate: EmbeddedEstate, number: int) -> list[tuple[str, str, str]]:
    """The ticket's escalated events as (reason, from, to), in the order they were logged."""
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(ticket_events.c.detail)
            .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
            .where(tickets.c.number == number, ticket_events.c.kind == "escalated")
            .order_by(ticket_events.c.id)
        )
        return [(row.detail["reason"], row.detail["from"], row.detail["to"]) for row in rows]


async def _accept_clocks(estate: EmbeddedEstate, number: int) -> list[str]:
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.status)
            .join(tickets, tickets.c.id == clocks.c.ticket_id)
            .where(tickets.c.number == number, clocks.c.kind == "accept")
            .order_by(clocks.c.id)
        )
        return [row.status for row in rows]


def _about(number: int, inbox: list[ChatMessage]) -> list[str]:
    return [m.content for m in inbox if f"#{number}" in m.content]


async def test_an_unaccepted_ticket_hops_every_three_minutes_through_the_team_to_the_manager(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card_a1 = await cast.a1.wait_for("New ticket #1001")
    assert card_a1.buttons == CARD_BUTTONS

    # One second short of the three minutes, nothing moves.
    clock.advance(THREE_MINUTES - timedelta(seconds=1))
    await estate.settled()
    assert cast.a2.inbox == [] and card_a1.buttons == CARD_BUTTONS

    clock.advance(timedelta(seconds=1))
    card_a2 = await cast.a2.wait_for("New ticket #1001")
    assert "Passed on to you: Butler A1 did not accept it in time." in card_a2.content
    assert "The kitchen tap is broken and dripping" in card_a2.content
    assert card_a2.buttons == CARD_BUTTONS
    notice = await cast.a1.wait_for("was not accepted within")
    assert notice.text == "Ticket #1001 was not accepted within 3 minutes; it has gone to Butler A2."
    told = await cast.zhang.wait_for("About ticket #1001")
    assert told.text == (
        "About ticket #1001: butler Butler A2 is now taking care of it. "
        "You will still hear back by 22 Nov 09:00."
    )
    assert (await ticket_row(estate, 1001)).butler_id == await person_id(estate, 102)
    # Whatever A1's card still shows, the server refuses A1 a ticket that is now A2's.
    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(card_a1, "accept:1"))
    assert answer.get("text") == "This is not your ticket; nothing was changed"

    # A2's three minutes started at the hop.
    clock.advance(THREE_MINUTES)
    card_a3 = await cast.a3.wait_for("New ticket #1001")
    assert "Passed on to you: Butler A2 did not accept it in time." in card_a3.content
    assert card_a3.buttons == CARD_BUTTONS
    await cast.a2.wait_for("Ticket #1001 was not accepted within 3 minutes; it has gone to Butler A3.")
    await cast.zhang.wait_for("butler Butler A3 is now taking care of it")

    # The whole team let it lapse: the manager, never team B.
    clock.advance(THREE_MINUTES)
    alert = await cast.manager.wait_for("Nobody in team A has taken ticket #1001")
    assert "Not accepted within 3 minutes by anyone on duty in the team." in alert.content
    assert "Unit: 1-101  Owner: Owner Zhang  Phone: 139-1111-0101" in alert.content
    assert "The kitchen tap is broken and dripping" in alert.content
    assert alert.buttons == CARD_BUTTONS
    await cast.a3.wait_for("Ticket #1001 was not accepted within 3 minutes; it has gone to the managers.")
    told = await cast.zhang.wait_for("the managers have it now and are arranging someone")
    assert told.text == (
        "About ticket #1001: the managers have it now and are arranging someone. "
        "You will still hear back by 22 Nov 09:00."
    )
    await estate.settled()
    assert cast.b1.inbox == [] and cast.b2.inbox == []
    assert (await ticket_row(estate, 1001)).butler_id is None
    assert await _hops(estate, 1001) == [
        ("not_accepted", "Butler A1", "Butler A2"),
        ("not_accepted", "Butler A2", "Butler A3"),
        ("not_accepted", "Butler A3", "managers"),
    ]

    answer = await cast.manager.wait_for_answer(await cast.manager.press(alert, "Accept"))
    assert answer.get("text") == "Done"
    await cast.zhang.wait_for(
        "Your ticket #1001 has been accepted by manager Manager Liu and is in progress."
    )
    row = await ticket_row(estate, 1001)
    assert (row.state, row.butler_id) == ("accepted", await person_id(estate, 900))


async def test_a_lapsed_butlers_card_loses_its_buttons(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card_a1 = await cast.a1.wait_for("New ticket #1001")
    clock.advance(THREE_MINUTES)
    card_a2 = await cast.a2.wait_for("New ticket #1001")
    await cast.a1.wait_for("was not accepted within")
    await estate.settled()
    assert card_a1.buttons == [] and card_a1.edited  # A1 is not tempted to accept what is now A2's
    clock.advance(THREE_MINUTES)
    await cast.a3.wait_for("New ticket #1001")
    await estate.settled()
    assert card_a2.buttons == []


async def test_accepting_within_three_minutes_stops_the_clock(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card = await cast.a1.wait_for("New ticket #1001")
    clock.advance(timedelta(minutes=2))
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler Butler A1")

    clock.advance(timedelta(minutes=10))
    await estate.settled()
    for quiet in (cast.a2, cast.a3, cast.b1, cast.b2, cast.manager):
        assert quiet.inbox == []
    assert not any("About ticket #1001" in m.content for m in cast.zhang.inbox)
    assert await _accept_clocks(estate, 1001) == ["cancelled"]
    assert await _hops(estate, 1001) == []


async def test_an_off_duty_butler_is_skipped_on_the_ladder(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.a2.send_command("/duty", "off")
    status = await cast.a2.wait_for("Done: you are now off duty")
    assert status.text == (
        "Done: you are now off duty.\n"
        "New requests of your team go to the others on duty; "
        "your tickets not yet accepted have been handed on."
    )
    assert status.buttons == [[("Go on duty", "duty:on")]]
    # A1 and A3 still cover team A: no gap to report.
    await estate.settled()
    assert alerts(cast.manager) == []

    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    await cast.a1.wait_for("New ticket #1001")
    clock.advance(THREE_MINUTES)
    card_a3 = await cast.a3.wait_for("New ticket #1001")
    assert "Passed on to you: Butler A1 did not accept it in time." in card_a3.content
    await cast.a1.wait_for("it has gone to Butler A3.")
    await cast.zhang.wait_for("butler Butler A3 is now taking care of it")
    await estate.settled()
    assert cast.a2.inbox == [status]
    assert await _hops(estate, 1001) == [("not_accepted", "Butler A1", "Butler A3")]


async def test_duty_alone_shows_the_status_with_a_button_that_switches_it(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.a1.send_command("/duty")
    status = await cast.a1.wait_for("You are on duty")
    assert status.text == "You are on duty.\nNew requests of your team come to you."
    assert status.buttons == [[("Go off duty", "duty:off")]]

    answer = await cast.a1.wait_for_answer(await cast.a1.press(status, "Go off duty"))
    assert answer.get("text") == "Done"
    switched = await cast.a1.wait_for("Done: you are now off duty")
    assert switched.buttons == [[("Go on duty", "duty:on")]]
    await estate.settled()
    assert status.buttons == []  # the pressed button is spent
    async with estate.db.engine.connect() as conn:
        on_duty = (
            await conn.execute(sa.select(people.c.on_duty).where(people.c.telegram_id == 101))
        ).scalar()
    assert on_duty is False

    await cast.a1.press(switched, "Go on duty")
    back = await cast.a1.wait_for("Done: you are now on duty")
    assert back.text == "Done: you are now on duty.\nNew requests of your team come to you."


async def test_going_off_duty_hands_unaccepted_tickets_on_at_once(estate: EmbeddedEstate, cast: Cast) -> None:
    # Ticket #1001 is accepted by A1; Tom's #1002 is still waiting on A1 when A1 goes off duty.
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    await cast.a1.press(await cast.a1.wait_for("New ticket #1001"), "Accept")
    await cast.zhang.wait_for("accepted by your butler Butler A1")
    await cast.tom.send_text("The hallway light is broken")
    card = await cast.a1.wait_for("New ticket #1002")

    await cast.a1.send_command("/duty", "off")  # no time moves: the hand-over is immediate
    card_a2 = await cast.a2.wait_for("New ticket #1002")
    assert "The hallway light is broken" in card_a2.content
    assert card_a2.buttons == [[("Accept", "accept:2"), ("Resolved", "resolve:2")]]
    notice = await cast.a1.wait_for("was handed on")
    assert notice.text == "Ticket #1002 was handed on because you went off duty; it has gone to Butler A2."
    await cast.a1.wait_for("Done: you are now off duty")
    await cast.tom.wait_for("About ticket #1002: butler Butler A2 is now taking care of it")
    await estate.settled()
    assert card.buttons == []
    assert _about(1001, cast.a2.inbox) == []
    assert await _hops(estate, 1002) == [("off_duty", "Butler A1", "Butler A2")]
    assert (await ticket_row(estate, 1002)).butler_id == await person_id(estate, 102)
    kept = await ticket_row(estate, 1001)
    assert (kept.state, kept.butler_id) == ("accepted", await person_id(estate, 101))


async def test_a_team_with_nobody_on_duty_sends_requests_to_the_manager(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.b1.send_command("/duty", "off")
    await cast.b1.wait_for("Done: you are now off duty")
    await estate.settled()
    assert alerts(cast.manager) == []  # B2 still covers team B

    await cast.b2.send_command("/duty", "off")
    gap = await cast.manager.wait_for("has nobody on duty")
    assert gap.text == (
        "⚠️ Team B has nobody on duty since Butler B2 went off duty. "
        "Its new requests come straight to you until someone is back."
    )

    await cast.wu.send_text("My door lock is broken")
    alert = await cast.manager.wait_for("[Copy to manager] repair ticket #1001")
    assert "Butler: nobody on duty; please assign someone now" in alert.content
    assert alert.buttons == CARD_BUTTONS
    await cast.wu.wait_for("We are assigning a butler now")

    await cast.b2.send_command("/duty", "on")
    covered = await cast.manager.wait_for("covered again")
    assert covered.text == "✅ Team B is covered again: Butler B2 is on duty."

    # Past the follow-up window, Wu's next message is a new ticket, and B2 has it.
    clock.advance(timedelta(minutes=31))
    await cast.wu.send_text("The balcony door is stuck")
    card = await cast.b2.wait_for("New ticket #1002")
    assert card.buttons == [[("Accept", "accept:2"), ("Resolved", "resolve:2")]]
    await cast.wu.wait_for("Your butler Butler B2 is taking care of it")
    await estate.settled()
    assert _about(1002, cast.b1.inbox) == [] and _about(1002, alerts(cast.manager)) == []
    assert sum("has nobody on duty" in m.content for m in alerts(cast.manager)) == 1


async def test_duty_is_for_butlers_and_a_manager_cannot_accept_a_butlers_ticket(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.zhang.send_command("/duty")
    refusal = await cast.zhang.wait_for("not for your account")
    assert refusal.text == "That command is not for your account. Send /help to see what you can do."

    await cast.tom.send_text("The hallway light is broken")
    await cast.a1.wait_for("New ticket #1001")
    # The manager has no card for it; the press carries A1's card's data on a message of their own.
    await cast.manager.send_command("/help")
    own = await cast.manager.wait_for("How this works")
    answer = await cast.manager.wait_for_answer(await cast.manager.press_data(own, "accept:1"))
    assert answer.get("text") == "This is not your ticket; nothing was changed"
    await estate.settled()
    row = await ticket_row(estate, 1001)
    assert (row.state, row.butler_id) == ("new", await person_id(estate, 101))
    assert not any("accepted" in m.content for m in cast.tom.inbox)
