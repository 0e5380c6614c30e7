"""The corners of the service clocks: a resident writing after the fix, a serious follow-up on an overdue
ticket, requests that go stale, notes from a return-visit call."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox import SandboxUser
from bot.sandbox.models import ChatMessage
from storage.schema import clocks, postponements
from tests.conftest import Cast
from tests.e2e.records import at, event_kinds, ticket_row

MOVED_ON = "This ticket has moved on; the button no longer applies"


async def _accepted(cast: Cast) -> ChatMessage:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    return card


async def _matching(user: SandboxUser, fragment: str, count: int) -> list[ChatMessage]:
    """Wait until `count` messages containing `fragment` have arrived; return them all."""
    await user.wait_for(lambda _: sum(fragment in m.content for m in user.inbox) >= count)
    return [m for m in user.inbox if fragment in m.content]


async def _move(cast: Cast, card: ChatMessage, reply: str, asked_before: int) -> None:
    await cast.a1.press(card, "Move committed time")
    questions = await _matching(cast.a1, "Move the committed time", asked_before + 1)
    await cast.a1.send_text(reply, reply_to=questions[-1])


async def test_a_message_after_the_fix_asks_again_and_the_two_days_start_over(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted(cast)
    await cast.a1.press(card, "Resolved")
    await cast.zhang.wait_for("Is it resolved")
    clock.set(at(21, 9))
    await cast.zhang.send_text("It is still dripping, not fixed at all", reply_to=cast.zhang.inbox[-1])
    await cast.a1.wait_for("It is still dripping")
    asked = await _matching(cast.zhang, "Is it resolved", 2)
    assert asked[-1].buttons == [[("Yes, resolved", "confirm:1"), ("Not yet", "reopen:1")]]

    clock.set(at(22, 9, 30))  # two days after the resolve, one after the message: not a silent yes
    await estate.settled()
    assert (await ticket_row(estate)).state == "resolved"
    clock.set(at(23, 9))
    await cast.zhang.wait_for("closed as resolved")
    assert (await ticket_row(estate)).state == "closed"


async def test_a_serious_follow_up_on_an_overdue_ticket_does_not_report_it_overdue_again(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _accepted(cast)
    clock.set(at(22, 10))  # past the committed time
    await cast.manager.wait_for("Overdue: ticket #1001")
    await cast.zhang.send_text(
        "I want to complain, nobody has come for two days", reply_to=cast.zhang.inbox[0]
    )
    await cast.manager.wait_for("[Copy to manager] complaint ticket #1001")
    await estate.settled()
    assert (await event_kinds(estate)).count("overdue") == 1
    assert sum("is overdue" in m.content for m in cast.a1.inbox) == 1


async def test_resolving_withdraws_a_postponement_still_waiting_for_a_manager(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted(cast)
    await _move(cast, card, "11-23 18:00 waiting for the spare part", 0)
    await cast.zhang.wait_for("needs more time")
    await _move(cast, card, "11-25 18:00 the part is out of stock", 1)
    request = await cast.manager.wait_for("Approve moving the committed time?")
    await cast.a1.press(card, "Resolved")
    await cast.zhang.wait_for("Is it resolved")
    answer = await cast.manager.wait_for_answer(await cast.manager.press(request, "Approve"))
    assert answer.get("text") == MOVED_ON
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        statuses = (await conn.execute(sa.select(postponements.c.status).order_by(postponements.c.id))).all()
    assert [row.status for row in statuses] == ["approved", "withdrawn"]
    assert (await ticket_row(estate)).due_at == at(23, 18)
    assert sum("needs more time" in m.content for m in cast.zhang.inbox) == 1


async def test_a_manager_cannot_approve_a_time_that_has_already_passed(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted(cast)
    await _move(cast, card, "11-23 18:00 waiting for the spare part", 0)
    await cast.zhang.wait_for("needs more time")
    await _move(cast, card, "11-24 18:00 the part is out of stock", 1)
    request = await cast.manager.wait_for("Approve moving the committed time?")
    clock.set(at(25, 9))  # the manager looks at it too late
    answer = await cast.manager.wait_for_answer(await cast.manager.press(request, "Approve"))
    assert answer.get("text") == MOVED_ON
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(23, 18)
    assert sum("needs more time" in m.content for m in cast.zhang.inbox) == 1


async def test_a_reopened_ticket_with_a_fresh_commitment_is_off_the_overdue_list(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted(cast)
    clock.set(at(22, 10))
    await cast.manager.wait_for("Overdue: ticket #1001")
    await cast.a1.press(card, "Resolved")
    await cast.zhang.press(await cast.zhang.wait_for("Is it resolved"), "Not yet")
    notice = await cast.a1.wait_for("Second service:")
    assert "New committed time: 24 Nov 10:00" in notice.content
    await cast.manager.send_command("/overdue")
    await cast.manager.wait_for("No overdue tickets.")
    assert "overdue" in await event_kinds(estate)  # the lapse stays on the record


async def test_notes_from_a_return_visit_call_stay_on_the_ticket(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted(cast)
    await cast.a1.press(card, "Resolved")
    await cast.zhang.press(await cast.zhang.wait_for("Is it resolved"), "Yes, resolved")
    await cast.zhang.wait_for("How would you rate")
    clock.advance(timedelta(days=3))
    task = await cast.a1.wait_for("Return visit due: ticket #1001")
    await cast.a1.send_text("Owner says the plumber was late but friendly", reply_to=task)
    await cast.a1.wait_for("Notes from the call for ticket #1001 are kept on the ticket")
    await estate.settled()
    assert not any("plumber was late" in m.content for m in cast.zhang.inbox)
    row = await ticket_row(estate)
    assert row.rating_comment == "Owner says the plumber was late but friendly"
    assert (await event_kinds(estate))[-1] == "return_visit_note"
    async with estate.db.engine.connect() as conn:
        pending = (
            await conn.execute(
                sa.select(clocks.c.kind).where(clocks.c.status == "pending", clocks.c.ticket_id.is_not(None))
            )
        ).all()
    assert pending == []  # the call is still to be recorded with its stars; no clock waits on it
