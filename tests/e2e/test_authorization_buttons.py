"""Every button, pressed by everyone it is not for, with forged data and after the state moved on.

A button's data only names an action and an id; who may do it is decided on the server from the
database. A press by the wrong person, on another estate's ticket, on an id that does not exist, with
garbage data, or after the ticket moved on changes nothing at all (no ticket, event, postponement,
follow-up, clock, duty or outbox row) and is answered briefly and politely.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox.models import ChatMessage
from bot.sandbox.user import SandboxUser
from storage import follow_ups as follow_up_queries
from tests.conftest import Cast
from tests.e2e.authorization import RIVERSIDE, Riverside, open_riverside, snapshot, ticket_id
from tests.e2e.records import person_id

NOT_YOURS = "This is not your ticket; nothing was changed"
NOT_FOR_YOU = "This is not yours to change; nothing was changed"
ALREADY = "This ticket has moved on; the button no longer applies"
GONE = "This button no longer works"
DONE = "Done"
IN_CHINESE = {
    NOT_YOURS: "这不是您的工单，未做任何更改",
    ALREADY: "该工单状态已变化，此按钮已失效",
    GONE: "此按钮已失效",
}


async def _press_all(
    estate: EmbeddedEstate,
    presses: list[tuple[SandboxUser, str]],
    on: dict[SandboxUser, ChatMessage] | None = None,
) -> list[tuple[str, str, str]]:
    """Press every (user, data) on the user's message in `on`, else their latest message; returns
    (user, data, the short answer) for each."""
    on = on or {}
    queries = [await user.press_data(on.get(user, user.transcript[-1]), data) for user, data in presses]
    answers = await asyncio.gather(
        *(user.wait_for_answer(query) for (user, _), query in zip(presses, queries, strict=True))
    )
    return [
        (user.first_name, data, str(answer.get("text", "")))
        for (user, data), answer in zip(presses, answers, strict=True)
    ]


def _inboxes(users: list[SandboxUser]) -> dict[str, int]:
    return {user.first_name: len(user.inbox) for user in users}


async def _tap(estate: EmbeddedEstate, user: SandboxUser, message: ChatMessage, label: str) -> None:
    """Press a button shown on the message and wait until everything it caused has happened."""
    assert (await user.wait_for_answer(await user.press(message, label))).get("text") == DONE
    await estate.settled()


async def _resolve(estate: EmbeddedEstate, butler: SandboxUser, card: ChatMessage) -> None:
    await _tap(estate, butler, card, "Accept")
    await _tap(estate, butler, card, "Resolved")


async def _scene(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> tuple[Riverside, dict[str, int]]:
    """Tickets in every state, a pending postponement and both kinds of follow-up, in two estates.

    #1001 Zhang's, new, Butler A1's · #1002 Chen's complaint (VIP), accepted by B1, moved once, a second
    move waiting for a manager · #1003 Sun's, resolved by A1 · #1004 Tom's, confirmed and unrated, A1 to
    make its return visit by phone · #1005 Wu's, rated 1 star, B1 sent back for second service ·
    Riverside #1001 Qian's, new, Butler R1's.
    """
    riverside = await open_riverside(estate, clock)
    await cast.zhang.send_text("The kitchen tap is broken")
    await cast.a1.wait_for("New ticket #1001")

    await cast.chen.send_text("The lift is noisy")
    chen_card = await cast.b1.wait_for("New ticket #1002")
    await _tap(estate, cast.b1, chen_card, "Accept")
    for reply in ("11-24 18:00 waiting for the lift company", "11-26 12:00 the lift company is still busy"):
        await _tap(estate, cast.b1, chen_card, "Move committed time")
        question = cast.b1.inbox[-1]
        assert "Move the committed time of ticket #1002" in question.content
        await cast.b1.send_text(reply, reply_to=question)
    await cast.manager.wait_for("Approve moving the committed time? Ticket #1002")

    await cast.sun.send_text("The hallway light is out")
    await _resolve(estate, cast.a1, await cast.a1.wait_for("New ticket #1003"))
    await cast.sun.wait_for("您的问题解决了吗")

    await cast.tom.send_text("The window is stuck")
    await _resolve(estate, cast.a1, await cast.a1.wait_for("New ticket #1004"))
    await _tap(estate, cast.tom, await cast.tom.wait_for("Is it resolved"), "Yes, resolved")
    await cast.tom.wait_for("How would you rate")

    await cast.wu.send_text("The mailbox lock is broken")
    await _resolve(estate, cast.b1, await cast.b1.wait_for("New ticket #1005"))
    await _tap(estate, cast.wu, await cast.wu.wait_for("Is it resolved"), "Yes, resolved")
    await _tap(estate, cast.wu, await cast.wu.wait_for("How would you rate"), "★")
    await cast.b1.wait_for("Second service")

    await riverside.qian.send_text("The door bell is broken")
    await riverside.r1.wait_for("New ticket #1001")
    await estate.settled()

    ids = {f"t{n}": await ticket_id(estate, n) for n in range(1001, 1006)}
    ids["r1001"] = await ticket_id(estate, 1001, RIVERSIDE)
    # The survey of #1004 went unanswered: A1 is to call Tom (given directly rather than waiting 3 days).
    a1 = await person_id(estate, 101)
    async with estate.db.begin() as conn:
        visit = await follow_up_queries.add_follow_up(conn, ids["t1004"], "return_visit", a1, clock.now())
    ids["visit"] = visit
    served = [b for row in (await cast.b1.wait_for("Second service")).buttons for _, b in row]
    ids["served"] = int(served[0].split(":")[1])
    approve = [b for row in (await cast.manager.wait_for("Approve moving")).buttons for _, b in row]
    ids["postponement"] = int(approve[0].split(":")[1])
    # Everyone who presses below has a message to press on.
    for user in (cast.a2, cast.a3, cast.b2, riverside.manager, riverside.r2, cast.stranger):
        await user.send_command("/start")
    await estate.settled()
    return riverside, ids


async def test_every_button_pressed_by_everyone_it_is_not_for(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    riverside, ids = await _scene(estate, cast, clock)
    t1001, t1002, t1003, t1004, t1005 = (ids[f"t{n}"] for n in range(1001, 1006))
    r1001, visit, served, postponement = ids["r1001"], ids["visit"], ids["served"], ids["postponement"]
    ma, r1, qian = riverside.manager, riverside.r1, riverside.qian
    everyone = [
        *(cast.zhang, cast.tom, cast.sun, cast.chen, cast.wu, cast.a1, cast.a2, cast.a3, cast.b1, cast.b2),
        *(cast.manager, cast.stranger, ma, r1, riverside.r2, qian),
    ]
    expected: list[tuple[SandboxUser, str, str]] = []

    def presses(data: str, answer: str, *users: SandboxUser) -> None:
        for user in users:
            if user is cast.stranger and answer == NOT_YOURS:
                answer = NOT_FOR_YOU  # a stranger has no tickets: nothing here is theirs
            expected.append((user, data, IN_CHINESE[answer] if user is cast.sun else answer))

    # A new ticket is its butler's to accept or resolve: not its resident's, another butler's of the
    # same team or of another team, a manager's while a butler has it, nor anyone's of another estate.
    for verb in ("accept", "resolve"):
        presses(f"{verb}:{t1001}", NOT_YOURS, cast.zhang, cast.tom, cast.a2, cast.b1, cast.manager, ma, r1)
        presses(f"{verb}:{t1001}", NOT_YOURS, cast.stranger)
        presses(f"{verb}:{r1001}", NOT_YOURS, cast.a1, cast.manager)
    # Moving the committed time is the butler's who has the ticket.
    presses(f"postpone:{t1002}", NOT_YOURS, cast.b2, cast.a1, cast.manager, ma, cast.chen, cast.stranger)
    # A resident answers for their own request only: not for a neighbour's, not the owner for the
    # resident living in the unit, nor staff on the resident's behalf.
    for verb in ("confirm", "reopen"):
        presses(
            f"{verb}:{t1003}", NOT_YOURS, cast.zhang, cast.tom, cast.a1, cast.manager, qian, cast.stranger
        )
    presses(f"rate:{t1004}:5", NOT_YOURS, cast.zhang, cast.sun, cast.a1, cast.manager, qian)
    # A follow-up is the butler's it was given to (or a manager's of the estate).
    presses(f"visit:{visit}:5", NOT_YOURS, cast.a2, cast.b1, cast.tom, ma, r1, cast.stranger)
    presses(f"visit:{visit}:0", NOT_YOURS, cast.a2, cast.zhang)
    presses(f"served:{served}", NOT_YOURS, cast.b2, cast.a1, cast.wu, ma)
    # A postponement is for the estate's managers to decide, not the butler who asked for it.
    for verb in ("approve_postponement", "refuse_postponement"):
        presses(f"{verb}:{postponement}", NOT_YOURS, cast.b1, cast.b2, cast.chen, ma, cast.stranger)
    # Duty is a butler's own.
    presses("duty:off", NOT_YOURS, cast.zhang, cast.manager, ma, cast.stranger)
    # After the state moved on: accepted, resolved, closed, already rated, not yet resolved.
    presses(f"accept:{t1002}", ALREADY, cast.b1)
    presses(f"accept:{t1003}", ALREADY, cast.a1)
    presses(f"resolve:{t1004}", ALREADY, cast.a1)
    presses(f"postpone:{t1001}", ALREADY, cast.a1)
    presses(f"postpone:{t1003}", ALREADY, cast.a1)
    presses(f"confirm:{t1001}", ALREADY, cast.zhang)
    presses(f"reopen:{t1004}", ALREADY, cast.tom)
    presses(f"rate:{t1005}:5", ALREADY, cast.wu)
    presses(f"rate:{t1003}:5", ALREADY, cast.sun)
    presses("duty:on", GONE, cast.a1)  # already on duty: an older status message's button
    # Ids that do not exist, a follow-up of the other kind, and data no button ever carries.
    presses("accept:999999", GONE, cast.a1, cast.manager)
    presses("resolve:999999", GONE, cast.a1)
    presses("postpone:999999", GONE, cast.a1)
    presses("confirm:999999", GONE, cast.zhang)
    presses("reopen:999999", GONE, cast.zhang)
    presses("rate:999999:3", GONE, cast.zhang)
    presses("visit:999999:3", GONE, cast.a1)
    presses("served:999999", GONE, cast.b1)
    presses("approve_postponement:999999", GONE, cast.manager)
    presses(f"visit:{served}:3", GONE, cast.b1)
    presses(f"served:{visit}", GONE, cast.a1)
    garbage = [
        *("accept", "accept:", "accept:abc", "accept:-1", f"accept:{t1001}:1", "accept:1234567890"),
        *(f"rate:{t1004}:9", f"rate:{t1004}:0", f"rate:{t1004}", f"visit:{visit}", f"visit:{visit}:6"),
        *("duty:maybe", "duty", "approve_postponement", "drop table tickets;--", "🔧", "x" * 64),
    ]
    for data in garbage:
        presses(data, GONE, cast.a1, cast.zhang, cast.manager)
    presses(f"accept:{t1001}", NOT_YOURS, cast.stranger)

    before = await snapshot(estate)
    inboxes = _inboxes(everyone)
    answers = await _press_all(estate, [(user, data) for user, data, _ in expected])
    await estate.settled()

    assert answers == [(user.first_name, data, answer) for user, data, answer in expected]
    assert await snapshot(estate) == before
    assert _inboxes(everyone) == inboxes


async def test_a_card_left_behind_by_the_ladder_changes_nothing(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    """Nobody in team A accepts Zhang's request, so it climbs to the managers; the old cards' buttons are
    retired, and pressing them anyway (forged) takes nothing. Only a manager of the estate takes it on."""
    riverside = await open_riverside(estate, clock)
    for user in (riverside.manager, cast.b1):
        await user.send_command("/start")
    await cast.zhang.send_text("The kitchen tap is broken")
    cards = {cast.a1: await cast.a1.wait_for("New ticket #1001")}
    for butler in (cast.a2, cast.a3):
        clock.advance(timedelta(minutes=3))
        cards[butler] = await butler.wait_for("New ticket #1001")
    clock.advance(timedelta(minutes=3))
    copy = await cast.manager.wait_for("Nobody in team A has taken ticket #1001")
    await estate.settled()
    assert all(card.buttons == [] for card in cards.values())
    assert copy.buttons == [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]

    before = await snapshot(estate)
    forged = [(butler, data) for butler in cards for data in ("accept:1", "resolve:1")]
    forged += [(cast.b1, "accept:1"), (riverside.manager, "accept:1"), (cast.zhang, "resolve:1")]
    answers = await _press_all(estate, forged, on=cards)
    await estate.settled()
    assert [answer for _, _, answer in answers] == [NOT_YOURS] * len(forged)
    assert await snapshot(estate) == before

    # The manager takes it on; the same button pressed again is stale.
    answer = await cast.manager.wait_for_answer(await cast.manager.press(copy, "Accept"))
    assert answer.get("text") == DONE
    await cast.zhang.wait_for("accepted by")
    await estate.settled()
    before = await snapshot(estate)
    again = await _press_all(
        estate, [(cast.manager, "accept:1"), (cast.a1, "resolve:1")], on=cards | {cast.manager: copy}
    )
    await estate.settled()
    assert [answer for _, _, answer in again] == [ALREADY, NOT_YOURS]
    assert await snapshot(estate) == before


async def test_an_older_duty_button_changes_nothing(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.a1.send_command("/duty")
    status = await cast.a1.wait_for("You are on duty")
    await cast.a1.send_command("/duty", "off")
    await cast.a1.wait_for("Done: you are now off duty")
    await cast.manager.send_command("/start")
    await cast.manager.wait_for("Hello Manager Liu")
    await estate.settled()
    before = await snapshot(estate)
    managers_inbox = len(cast.manager.inbox)

    answer = await cast.a1.wait_for_answer(await cast.a1.press(status, "Go off duty"))
    assert answer.get("text") == GONE
    await estate.settled()
    assert await snapshot(estate) == before
    assert len(cast.manager.inbox) == managers_inbox
