"""The committed time, as each person sees it: the reminder before it, the lapse, and moving it.

Zhang's repair opened at 20 Nov 09:00 is due by 22 Nov 09:00 (two days); the latest any commitment
may reach is 27 Nov 09:00 (seven days after opening). Times below are wall times in Shanghai.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox.models import ChatMessage
from bot.sandbox.user import SandboxUser
from storage.schema import clocks, postponements
from tests.conftest import Cast
from tests.e2e.records import alerts, at, event_kinds, person_id, ticket_row

NOT_YOURS = "This is not your ticket; nothing was changed"
ALREADY = "This ticket has moved on; the button no longer applies"
IN_PROGRESS_BUTTONS = [[("Resolved", "resolve:1"), ("Move committed time", "postpone:1")]]
FIRST_MOVE = "11-24 18:00 waiting for the spare part"


async def _clocks(estate: EmbeddedEstate, kind: str) -> list[tuple[datetime, str]]:
    """Every clock of this kind ever set on the ticket, oldest first: (due_at, status)."""
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.due_at, clocks.c.status).where(clocks.c.kind == kind).order_by(clocks.c.id)
        )
        return [(row.due_at, row.status) for row in rows]


async def _postponements(estate: EmbeddedEstate) -> list[Any]:
    async with estate.db.engine.connect() as conn:
        return list((await conn.execute(sa.select(postponements).order_by(postponements.c.id))).all())


def _count(user: SandboxUser, fragment: str) -> int:
    return sum(fragment in message.content for message in user.inbox)


async def _new_message(user: SandboxUser, fragment: str, seen: set[int]) -> ChatMessage:
    """The first message containing `fragment` that arrived after the messages in `seen`."""
    return await user.wait_for(lambda m: m.message_id not in seen and fragment in m.content)


async def _accepted_repair(cast: Cast) -> ChatMessage:
    """Zhang's repair, accepted by Butler A1 at 20 Nov 09:00; returns A1's task card."""
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card = await cast.a1.wait_for("New ticket #1001 · repair")
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler Butler A1")
    return card


async def _ask_to_move(butler: SandboxUser, card: ChatMessage) -> ChatMessage:
    """Press "Move committed time" and return the question the bot asks in answer."""
    seen = {m.message_id for m in butler.inbox}
    answer = await butler.wait_for_answer(await butler.press(card, "Move committed time"))
    assert answer.get("text") == "Done"
    question = await _new_message(butler, "Move the committed time of ticket #1001", seen)
    assert question.force_reply
    return question


async def _move(butler: SandboxUser, card: ChatMessage, reply: str) -> None:
    """Ask to move the committed time and answer the question with `reply`."""
    await butler.send_text(reply, reply_to=await _ask_to_move(butler, card))


# ---- the reminder and the lapse ---------------------------------------------------------------------


async def test_the_butler_is_reminded_then_the_lapse_reaches_the_managers_once(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await _accepted_repair(cast)
    await estate.settled()
    assert await _clocks(estate, "remind") == [(at(22, 5), "pending")]
    assert await _clocks(estate, "lapse") == [(at(22, 9), "pending")]

    # A minute early, nothing yet.
    clock.set(at(22, 4, 59))
    await estate.settled()
    assert _count(cast.a1, "Reminder") == 0

    # Four hours before the committed time: the butler, with the buttons to act on it.
    clock.set(at(22, 5))
    reminder = await cast.a1.wait_for("Reminder: ticket #1001")
    assert reminder.text == (
        "⏳ Reminder: ticket #1001 (in progress) is due by 22 Nov 09:00.\n"
        "The kitchen tap is broken and dripping\n"
        "If it cannot be done by then, move the committed time now, so the resident hears before it lapses."
    )
    assert reminder.buttons == IN_PROGRESS_BUTTONS
    await estate.settled()
    assert alerts(cast.manager) == []

    # The committed time passes with the ticket still in hand: overdue, and the managers hear of it.
    clock.set(at(22, 9))
    to_butler = await cast.a1.wait_for("is overdue")
    assert to_butler.text == (
        "🔴 Ticket #1001 is overdue: it was due by 22 Nov 09:00. The managers have been told; "
        "please resolve it or tell the resident where it stands."
    )
    to_managers = await cast.manager.wait_for("Overdue: ticket #1001")
    assert to_managers.text == (
        "🔴 Overdue: ticket #1001 (repair, in progress)\n"
        "Due by 22 Nov 09:00; butler: Butler A1.\n"
        "The kitchen tap is broken and dripping"
    )
    await estate.settled()
    assert (await ticket_row(estate)).overdue_at == at(22, 9)

    clock.set(at(22, 10))
    await cast.manager.send_command("/overdue")
    listing = await cast.manager.wait_for("Overdue tickets (1)")
    assert "#1001 · repair · in progress · due 22 Nov 09:00 · Butler A1" in listing.content
    assert "The kitchen tap is broken" in listing.content

    # Once resolved it is no longer on the list (the overdue mark stays, for the record).
    await cast.a1.press(reminder, "Resolved")
    await cast.zhang.wait_for("Is it resolved for you?")
    await cast.manager.send_command("/overdue")
    await cast.manager.wait_for("No overdue tickets.")

    # Nothing fires twice, however long we wait (within the two days the resident has to confirm).
    clock.set(at(23, 9))
    await estate.settled()
    assert _count(cast.a1, "Reminder") == 1 and _count(cast.a1, "is overdue") == 1
    assert _count(cast.manager, "Overdue: ticket #1001") == 1
    assert (await event_kinds(estate)).count("overdue") == 1
    assert await _clocks(estate, "remind") == [(at(22, 5), "fired")]
    assert await _clocks(estate, "lapse") == [(at(22, 9), "fired")]
    assert (await ticket_row(estate)).overdue_at == at(22, 9)


async def test_an_emergency_is_committed_for_four_hours_and_reminded_half_way(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("Water is leaking from the ceiling, emergency")
    card = await cast.a1.wait_for("New ticket #1001 · emergency")
    assert "Feedback due: 20 Nov 13:00" in card.content
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(20, 13)
    # "Four hours before" would be the moment it opened: half-way gives the butler time to act.
    assert await _clocks(estate, "remind") == [(at(20, 11), "pending")]

    clock.set(at(20, 10, 59))
    await estate.settled()
    assert _count(cast.a1, "Reminder") == 0
    clock.set(at(20, 11))
    reminder = await cast.a1.wait_for("Reminder: ticket #1001")
    assert "is due by 20 Nov 13:00" in reminder.content
    assert reminder.buttons == IN_PROGRESS_BUTTONS


async def test_a_resolved_ticket_is_neither_reminded_nor_overdue(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted_repair(cast)
    clock.set(at(20, 10))
    await cast.a1.press(card, "Resolved")
    await cast.zhang.wait_for("Is it resolved for you?")
    await estate.settled()
    assert await _clocks(estate, "remind") == [(at(22, 5), "cancelled")]
    assert await _clocks(estate, "lapse") == [(at(22, 9), "cancelled")]

    # Past the committed time, still within the two days the resident has to confirm.
    clock.set(at(22, 9, 30))
    await estate.settled()
    assert _count(cast.a1, "Reminder") == 0 and _count(cast.a1, "overdue") == 0
    assert alerts(cast.manager) == []
    assert (await ticket_row(estate)).overdue_at is None
    assert "overdue" not in await event_kinds(estate)


# ---- moving the committed time --------------------------------------------------------------------


async def test_the_first_move_before_the_lapse_is_the_butlers_own(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted_repair(cast)
    assert card.buttons == IN_PROGRESS_BUTTONS
    clock.set(at(21, 15))
    question = await _ask_to_move(cast.a1, card)
    assert question.text == (
        "Move the committed time of ticket #1001 (now 22 Nov 09:00): reply to this message with the new "
        "time and the reason, e.g. 11-25 18:00 waiting for the spare part or 2d parts on order. "
        "Latest possible: 27 Nov 09:00."
    )

    await cast.a1.send_text(FIRST_MOVE, reply_to=question)
    moved = await cast.zhang.wait_for("needs more time")
    assert moved.text == (
        "About ticket #1001: your butler Butler A1 needs more time. You will now hear back by 24 Nov 18:00.\n"
        "Reason: waiting for the spare part"
    )
    done = await cast.a1.wait_for("Done: ticket #1001")
    assert done.text == "Done: ticket #1001 is now due by 24 Nov 18:00. The resident has been told."
    await estate.settled()
    assert alerts(cast.manager) == []  # the first move needs nobody's approval

    a1 = await person_id(estate, 101)
    row = await ticket_row(estate)
    assert row.due_at == at(24, 18) and row.state == "accepted"
    [postponement] = await _postponements(estate)
    assert (postponement.status, postponement.requested_by, postponement.decided_by) == ("approved", a1, a1)
    assert (postponement.from_due_at, postponement.to_due_at) == (at(22, 9), at(24, 18))
    assert postponement.reason == "waiting for the spare part"
    assert (await event_kinds(estate))[-1] == "postponed"
    # The old clocks are stopped; new ones count to the new time.
    assert await _clocks(estate, "lapse") == [(at(22, 9), "cancelled"), (at(24, 18), "pending")]
    assert await _clocks(estate, "remind") == [(at(22, 5), "cancelled"), (at(24, 14), "pending")]

    # The old committed time passes quietly.
    clock.set(at(22, 10))
    await estate.settled()
    assert _count(cast.a1, "Reminder") == 0 and _count(cast.a1, "overdue") == 0
    assert alerts(cast.manager) == []
    assert (await ticket_row(estate)).overdue_at is None

    # The reminder comes before the new time instead.
    clock.set(at(24, 14))
    reminder = await cast.a1.wait_for("Reminder: ticket #1001")
    assert "is due by 24 Nov 18:00" in reminder.content


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("soon, waiting for parts", "Sorry, I could not read a time there."),
        ("11-24 18:00", "Please add the reason after the time: the resident will be told it."),
        (
            "11-21 10:00 x",
            "The new time must be later than now and than the current committed time (22 Nov 09:00).",
        ),
        ("12-30 10:00 x", "That is too late: a commitment may not be later than 27 Nov 09:00."),
    ],
    ids=["no time", "no reason", "not later than the current time", "beyond seven days"],
)
async def test_an_invalid_reply_changes_nothing_and_is_asked_again(
    estate: EmbeddedEstate, cast: Cast, reply: str, problem: str
) -> None:
    card = await _accepted_repair(cast)
    question = await _ask_to_move(cast.a1, card)
    seen = {m.message_id for m in cast.a1.inbox}
    await cast.a1.send_text(reply, reply_to=question)

    again = await _new_message(cast.a1, "Move the committed time of ticket #1001", seen)
    assert again.text is not None and again.text.startswith(problem + "\n")
    assert again.force_reply
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(22, 9)
    assert await _postponements(estate) == []
    assert _count(cast.zhang, "needs more time") == 0 and alerts(cast.manager) == []

    # The question asked again is a question like the first: a good answer to it moves the time.
    await cast.a1.send_text(FIRST_MOVE, reply_to=again)
    await cast.zhang.wait_for("You will now hear back by 24 Nov 18:00.")


async def test_the_same_matter_is_never_postponed_twice_without_a_manager(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted_repair(cast)
    await _move(cast.a1, card, FIRST_MOVE)
    await cast.zhang.wait_for("You will now hear back by 24 Nov 18:00.")

    # The second move: the question says a manager will decide, and the request goes to them.
    clock.set(at(23, 10))
    question = await _ask_to_move(cast.a1, card)
    assert question.text is not None and question.text.endswith(
        "This ticket's time was moved once already: a manager will have to approve."
    )
    await cast.a1.send_text("11-25 18:00 the part went to the wrong address", reply_to=question)
    request = await cast.manager.wait_for("Approve moving the committed time? Ticket #1001")
    assert request.text == (
        "🕓 Approve moving the committed time? Ticket #1001 (repair)\n"
        "Butler Butler A1 asks to move it from 24 Nov 18:00 to 25 Nov 18:00.\n"
        "Reason: the part went to the wrong address\n"
        "It was moved once already; the same matter is never postponed twice without a manager."
    )
    assert request.buttons == [[("Approve", "approve_postponement:2"), ("Refuse", "refuse_postponement:2")]]
    sent = await cast.a1.wait_for("gone to the managers")
    assert sent.text == (
        "Ticket #1001 was postponed once already, so your request has gone to the managers to approve. "
        "Until then the time stays 24 Nov 18:00."
    )
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(24, 18)
    assert _count(cast.zhang, "needs more time") == 1

    # Refused: the butler hears of it, the time stays.
    answer = await cast.manager.wait_for_answer(await cast.manager.press(request, "Refuse"))
    assert answer.get("text") == "Done"
    refused = await cast.a1.wait_for("did not approve")
    assert refused.text == "Manager Liu did not approve moving ticket #1001: it stays due by 24 Nov 18:00."
    await estate.settled()
    assert request.buttons == []
    assert (await ticket_row(estate)).due_at == at(24, 18)
    assert _count(cast.zhang, "needs more time") == 1
    manager = await person_id(estate, 900)
    second = (await _postponements(estate))[1]
    assert (second.status, second.decided_by, second.decided_at) == ("refused", manager, at(23, 10))

    # A third request is the manager's to decide again; this time approved.
    clock.set(at(23, 11))
    await _move(cast.a1, card, "11-26 12:00 the plumber is ill")
    seen = {request.message_id}
    third = await _new_message(cast.manager, "Approve moving the committed time? Ticket #1001", seen)
    assert "from 24 Nov 18:00 to 26 Nov 12:00" in third.content
    await cast.manager.wait_for_answer(await cast.manager.press(third, "Approve"))
    moved = await cast.zhang.wait_for("You will now hear back by 26 Nov 12:00.")
    assert moved.text == (
        "About ticket #1001: your butler Butler A1 needs more time. You will now hear back by 26 Nov 12:00.\n"
        "Reason: the plumber is ill"
    )
    done = await cast.a1.wait_for("is now due by 26 Nov 12:00")
    assert done.text == (
        "Done: ticket #1001 is now due by 26 Nov 12:00, approved by Manager Liu. The resident has been told."
    )
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(26, 12)
    rows = await _postponements(estate)
    assert [row.status for row in rows] == ["approved", "refused", "approved"]
    assert (rows[2].decided_by, rows[2].requested_by) == (manager, await person_id(estate, 101))
    assert await _clocks(estate, "lapse") == [
        (at(22, 9), "cancelled"),
        (at(24, 18), "cancelled"),
        (at(26, 12), "pending"),
    ]
    assert [kind for kind in await event_kinds(estate) if kind.startswith("postpone")] == [
        "postponed",
        "postponement_requested",
        "postponement_refused",
        "postponement_requested",
        "postponed",
    ]

    # The decision is taken: the same button, pressed again, changes nothing.
    again = await cast.manager.press_data(third, "approve_postponement:3")
    assert (await cast.manager.wait_for_answer(again)).get("text") == ALREADY
    await estate.settled()
    assert _count(cast.zhang, "needs more time") == 2


async def test_after_the_lapse_even_the_first_move_needs_a_manager(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    card = await _accepted_repair(cast)
    clock.set(at(22, 9))
    await cast.manager.wait_for("Overdue: ticket #1001")

    clock.set(at(22, 10))
    question = await _ask_to_move(cast.a1, card)
    assert question.text is not None and question.text.endswith(
        "The committed time has already lapsed: a manager will have to approve."
    )
    await cast.a1.send_text(FIRST_MOVE, reply_to=question)
    request = await cast.manager.wait_for("Approve moving the committed time? Ticket #1001")
    assert "from 22 Nov 09:00 to 24 Nov 18:00" in request.content
    assert request.content.endswith("The committed time has already lapsed.")
    sent = await cast.a1.wait_for("gone to the managers")
    assert sent.text == (
        "The committed time of ticket #1001 has already lapsed, so your request has gone to the managers "
        "to approve. Until then the time stays 22 Nov 09:00."
    )
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(22, 9)
    [pending] = await _postponements(estate)
    assert (pending.status, pending.decided_by) == ("pending", None)
    assert _count(cast.zhang, "needs more time") == 0

    # Approved: due again in the future, but once overdue it stays on the list until resolved.
    await cast.manager.press(request, "Approve")
    await cast.zhang.wait_for("You will now hear back by 24 Nov 18:00.")
    await cast.manager.send_command("/overdue")
    listed = await cast.manager.wait_for("Overdue tickets (1)")
    assert "#1001 · repair · in progress · due 24 Nov 18:00 · Butler A1" in listed.content
    row = await ticket_row(estate)
    assert (row.due_at, row.overdue_at) == (at(24, 18), at(22, 9))


async def test_only_the_tickets_butler_moves_its_time_and_only_a_manager_decides(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    card = await _accepted_repair(cast)

    # A2, of the same team but not the ticket's butler, forges the "Move committed time" press.
    await cast.a2.send_command("/tasks")
    [a2_tasks] = await cast.a2.wait_for_count(1)
    forged = await cast.a2.press_data(a2_tasks, "postpone:1")
    assert (await cast.a2.wait_for_answer(forged)).get("text") == NOT_YOURS

    # A butler cannot approve a request waiting for a manager, not even their own.
    await _move(cast.a1, card, FIRST_MOVE)
    await cast.zhang.wait_for("You will now hear back by 24 Nov 18:00.")
    await _move(cast.a1, card, "11-25 18:00 the part went to the wrong address")
    await cast.manager.wait_for("Approve moving the committed time? Ticket #1001")
    forged = await cast.a1.press_data(card, "approve_postponement:2")
    assert (await cast.a1.wait_for_answer(forged)).get("text") == NOT_YOURS

    await estate.settled()
    assert [m.content for m in cast.a2.inbox] == [a2_tasks.content]  # no question was asked of A2
    assert (await ticket_row(estate)).due_at == at(24, 18)
    assert [row.status for row in await _postponements(estate)] == ["approved", "pending"]
    assert _count(cast.zhang, "needs more time") == 1
