"""A household that floods the bot is slowed down politely, and nothing it sent is lost (bot/flood.py).

Owner Zhang (1-101, team A) writes; Butler A1 receives team A's requests. Times are Shanghai wall times
on 20 Nov 2026. Most tests run with a limit of two requests an hour, so a flood takes three messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config, Limits
from bot.embedded import SANDBOX_TOKEN, EmbeddedEstate, embedded_estate
from bot.sandbox import BotApiSandbox
from bot.sandbox.user import SandboxUser
from storage.schema import clocks, held_messages, ticket_events, tickets
from tests.conftest import ROSTER, Cast
from tests.e2e.records import alerts, at, ticket_row

SLOW = Config(limits=Limits(requests_per_hour=2))

HELD_NOTE = (
    "We have received your messages. So that every household is looked after in good time, your butler is "
    "passed at most {limit} of your messages an hour: the ones you send now will follow from {at}, in the "
    "order you sent them. Nothing is lost, and there is no need to send them again.\n"
    "An emergency (a leak, fire, gas, someone trapped) still goes through at once."
)
STAFF_NOTE = (
    "ℹ️ Owner Zhang (owner, 1-101) has sent more than {limit} messages within an hour. So that other "
    "households are served too, their next messages reach you from {at}, at most {limit} an hour, in the "
    "order sent; an emergency still comes straight through. Nothing is lost.\n"
    "A call may help: 139-1111-0101"
)


@pytest.fixture
async def slow_estate(tmp_path: Path, clock: ManualClock) -> AsyncIterator[EmbeddedEstate]:
    """The test estate with a limit of two requests an hour."""
    async with embedded_estate(tmp_path, ROSTER, clock, config=SLOW) as running:
        yield running
        assert running.sandbox.rejections == [], "the bot sent something the Bot API would refuse"


@pytest.fixture
def slow_cast(slow_estate: EmbeddedEstate) -> Cast:
    return Cast(slow_estate)


async def _accept(butler: SandboxUser, card: str) -> None:
    """The butler accepts the ticket on the card containing `card`, and the press is handled."""
    answer = await butler.wait_for_answer(await butler.press(await butler.wait_for(card), "Accept"))
    assert answer.get("text") == "Done"


def _with(user: SandboxUser, fragment: str) -> list[str]:
    return [message.content for message in user.inbox if fragment in message.content]


async def _held(estate: EmbeddedEstate) -> list[Any]:
    async with estate.db.engine.connect() as conn:
        return list((await conn.execute(sa.select(held_messages).order_by(held_messages.c.id))).all())


async def _requests(estate: EmbeddedEstate) -> list[tuple[int, str, str, Any]]:
    """Every household message the tickets recorded: (ticket number, event kind, text, detail), in order."""
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(tickets.c.number, ticket_events.c.kind, ticket_events.c.detail)
            .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
            .where(ticket_events.c.kind.in_(("created", "message_from_resident")))
            .order_by(ticket_events.c.id)
        )
        return [(row.number, row.kind, row.detail["text"], row.detail) for row in rows]


def _held_since(detail: dict[str, Any]) -> datetime | None:
    held_since = detail.get("held_since")
    return datetime.fromisoformat(held_since) if held_since else None


async def _release_clocks(estate: EmbeddedEstate) -> list[tuple[Any, str]]:
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.due_at, clocks.c.status)
            .where(clocks.c.kind == "release_held")
            .order_by(clocks.c.id)
        )
        return [(row.due_at, row.status) for row in rows]


async def test_the_21st_request_in_an_hour_is_held_told_once_and_passed_on_when_the_hour_frees(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    # Twenty requests at 09:00: the first opens #1001, the others follow it up; each reaches the butler.
    await cast.zhang.send_text("Message 1 about the tap")
    await _accept(cast.a1, "New ticket #1001")
    for n in range(2, 21):
        await cast.zhang.send_text(f"Message {n} about the tap")
    await estate.settled()
    assert len(_with(cast.a1, "Message ")) == 20

    # 09:20, the 21st within the hour: held. Zhang hears why, and when it will follow; A1 hears once.
    clock.set(at(20, 9, 20))
    await cast.zhang.send_text("Message 21 about the tap")
    note = await cast.zhang.wait_for("We have received your messages")
    assert note.text == HELD_NOTE.format(limit=20, at="20 Nov 10:00")
    staff_note = await cast.a1.wait_for("has sent more than")
    assert staff_note.text == STAFF_NOTE.format(limit=20, at="20 Nov 10:00")

    # Two more: held behind it, and nobody is told again.
    await cast.zhang.send_text("Message 22 about the tap")
    await cast.zhang.send_text("Message 23 about the tap")
    # Meanwhile Owner Sun of the same team is served at once.
    await cast.sun.send_text("电梯按钮坏了")
    await _accept(cast.a1, "New ticket #1002")
    await estate.settled()
    assert len(_with(cast.zhang, "We have received your messages")) == 1
    assert len(_with(cast.a1, "has sent more than")) == 1
    assert not _with(cast.a1, "Message 21")
    assert len(_with(cast.zhang, "Added to ticket #1001")) == 19
    assert [row.received_at for row in await _held(estate)] == [at(20, 9, 20)] * 3
    assert await _release_clocks(estate) == [(at(20, 10), "pending")]

    # 10:00: the first twenty are an hour old; the three go on, in order, as follow-ups of #1001: they
    # came at 09:20, twenty minutes after #1001 was last active (at 10:00 itself it had been quiet an hour).
    clock.set(at(20, 10))
    await cast.a1.wait_for("Message 23")
    await estate.settled()
    assert _with(cast.a1, "about the tap")[-4:] == [
        "#1001 · 1-101 Owner Zhang: Message 20 about the tap",
        "#1001 · 1-101 Owner Zhang: Message 21 about the tap",
        "#1001 · 1-101 Owner Zhang: Message 22 about the tap",
        "#1001 · 1-101 Owner Zhang: Message 23 about the tap",
    ]
    assert len(_with(cast.zhang, "Added to ticket #1001")) == 22

    # Nothing lost: 23 messages, 23 events of ticket #1001, each held one stamped with when it came.
    recorded = await _requests(estate)
    assert [(number, text) for number, _, text, _ in recorded if number == 1001] == [
        (1001, f"Message {n} about the tap") for n in range(1, 24)
    ]
    assert [_held_since(detail) for number, _, _, detail in recorded if number == 1001][-4:] == [
        None,
        *[at(20, 9, 20)] * 3,
    ]
    assert [row.released_at for row in await _held(estate)] == [at(20, 10)] * 3
    assert await _release_clocks(estate) == [(at(20, 10), "fired")]
    assert alerts(cast.manager) == []


async def test_held_messages_go_on_as_the_hour_frees_each_as_the_ticket_or_follow_up_it_would_have_been(
    slow_estate: EmbeddedEstate, slow_cast: Cast, clock: ManualClock
) -> None:
    zhang, a1 = slow_cast.zhang, slow_cast.a1
    await zhang.send_text("The kitchen tap is broken")
    opened = await zhang.wait_for("ticket #1001")
    await _accept(a1, "New ticket #1001")
    clock.set(at(20, 9, 1))
    await zhang.send_text("It is still dripping")
    await a1.wait_for("It is still dripping")

    # 09:40, the third request within the hour, and forty minutes after the last: it would have opened a
    # ticket of its own. Held, with one note each for Zhang and A1.
    clock.set(at(20, 9, 40))
    corridor = await zhang.send_text("The corridor light is broken")
    note = await zhang.wait_for("We have received your messages")
    assert note.text == HELD_NOTE.format(limit=2, at="20 Nov 10:00")
    assert (await a1.wait_for("has sent more than")).text == STAFF_NOTE.format(limit=2, at="20 Nov 10:00")
    # Corrected while it waits: the correction is what goes on.
    await zhang.edit_text(corridor, "The corridor light is out")
    await slow_estate.settled()
    # 09:42, no reply: it would have joined the corridor's ticket.
    clock.set(at(20, 9, 42))
    await zhang.send_text("It flickers at night")
    await slow_estate.settled()
    # 09:55, a reply to ticket #1001's acknowledgement: it belongs to #1001 whatever came between.
    clock.set(at(20, 9, 55))
    await zhang.send_text("The plumber can come any time", reply_to=opened)
    await slow_estate.settled()
    assert len(_with(zhang, "We have received your messages")) == 1
    assert len(_with(a1, "has sent more than")) == 1
    assert not _with(a1, "corridor") and not _with(a1, "flickers") and not _with(a1, "plumber")
    assert len(await _held(slow_estate)) == 3

    # 10:00: the 09:00 request is an hour old, so one goes on: a ticket of its own, opened now.
    clock.set(at(20, 10))
    card = await a1.wait_for("New ticket #1002")
    assert "The corridor light is out" in card.content
    await zhang.wait_for("ticket #1002")
    await slow_estate.settled()
    assert not _with(a1, "flickers")

    # 10:01: the 09:01 one is an hour old: the next joins #1002, as it would have at 09:42.
    clock.set(at(20, 10, 1))
    assert (await a1.wait_for("flickers")).text == "#1002 · 1-101 Owner Zhang: It flickers at night"
    await zhang.wait_for("Added to ticket #1002")
    await slow_estate.settled()
    assert not _with(a1, "plumber")

    # 11:00: the reply goes to #1001, not to the newer #1002.
    clock.set(at(20, 11))
    assert (await a1.wait_for("plumber")).text == "#1001 · 1-101 Owner Zhang: The plumber can come any time"
    await zhang.wait_for("Added to ticket #1001")
    await slow_estate.settled()

    # Nothing lost, in the order sent; each held one stamped with when it came, its ticket with when it went.
    recorded = await _requests(slow_estate)
    assert [(number, kind, text, _held_since(detail)) for number, kind, text, detail in recorded] == [
        (1001, "created", "The kitchen tap is broken", None),
        (1001, "message_from_resident", "It is still dripping", None),
        (1002, "created", "The corridor light is out", at(20, 9, 40)),
        (1002, "message_from_resident", "It flickers at night", at(20, 9, 42)),
        (1001, "message_from_resident", "The plumber can come any time", at(20, 9, 55)),
    ]
    assert (await ticket_row(slow_estate, 1002)).created_at == at(20, 10)
    assert [row.released_at for row in await _held(slow_estate)] == [at(20, 10), at(20, 10, 1), at(20, 11)]
    assert await _release_clocks(slow_estate) == [
        (at(20, 10), "fired"),
        (at(20, 10, 1), "fired"),
        (at(20, 11), "fired"),
    ]
    assert len(_with(zhang, "We have received your messages")) == 1


async def test_an_emergency_goes_straight_through_a_flood_and_counts_towards_the_hour(
    slow_estate: EmbeddedEstate, slow_cast: Cast, clock: ManualClock
) -> None:
    tom, a1 = slow_cast.tom, slow_cast.a1
    await tom.send_text("The door bell is broken")
    await _accept(a1, "New ticket #1001")
    clock.set(at(20, 9, 1))
    await tom.send_text("It buzzes all night")
    await a1.wait_for("buzzes")
    clock.set(at(20, 9, 2))
    await tom.send_text("Hello?")
    note = await tom.wait_for("We have received your messages")
    assert note.text == HELD_NOTE.format(limit=2, at="20 Nov 10:00")
    staff_note = await a1.wait_for("has sent more than")
    assert staff_note.text == (
        "ℹ️ Resident Tom (resident, 1-101) has sent more than 2 messages within an hour. So that other "
        "households are served too, their next messages reach you from 20 Nov 10:00, at most 2 an hour, in "
        "the order sent; an emergency still comes straight through. Nothing is lost."
    )

    # Gas: through at once, past the message waiting; the ticket becomes an emergency, the managers know.
    clock.set(at(20, 9, 3))
    await tom.send_text("I smell gas in the kitchen!")
    assert (await a1.wait_for("gas")).text == "#1001 · 1-101 Resident Tom: I smell gas in the kitchen!"
    await slow_cast.manager.wait_for("emergency ticket #1001")
    await tom.wait_for("now counts as emergency")
    await slow_estate.settled()
    assert not _with(a1, "Hello?")
    assert len(_with(tom, "We have received your messages")) == 1

    # 10:00: the 09:00 request leaves the hour, but the emergency took a place in it: not yet.
    clock.set(at(20, 10))
    await slow_estate.settled()
    assert not _with(a1, "Hello?")
    # 10:01: room again.
    clock.set(at(20, 10, 1))
    assert (await a1.wait_for("Hello?")).text == "#1001 · 1-101 Resident Tom: Hello?"
    await slow_estate.settled()
    assert [text for _, _, text, _ in await _requests(slow_estate)] == [
        "The door bell is broken",
        "It buzzes all night",
        "I smell gas in the kitchen!",
        "Hello?",
    ]
    assert await _release_clocks(slow_estate) == [(at(20, 10), "fired"), (at(20, 10, 1), "fired")]


async def test_a_comment_on_a_rating_is_never_held_and_the_next_flood_is_told_again(
    slow_estate: EmbeddedEstate, slow_cast: Cast, clock: ManualClock
) -> None:
    zhang, a1 = slow_cast.zhang, slow_cast.a1
    await zhang.send_text("The hallway light is broken")
    card = await a1.wait_for("New ticket #1001")
    await a1.press(card, "Accept")
    await zhang.send_text("It flickers first")
    await a1.wait_for("flickers")
    await a1.press(card, "Resolved")
    await zhang.press(await zhang.wait_for("Is it resolved for you?"), "Yes, resolved")
    await zhang.press(await zhang.wait_for("How would you rate"), "★★★★★")
    thanks = await zhang.wait_for("Thank you for your rating")
    # Two requests this hour already: a comment still goes through; it is not a request.
    await zhang.send_text("Very quick, thank you", reply_to=thanks)
    await zhang.wait_for("we have your comment on ticket #1001")
    comment = await a1.wait_for("commented on ticket #1001")
    assert comment.text == "Owner Zhang commented on ticket #1001: Very quick, thank you"
    await slow_estate.settled()
    assert await _held(slow_estate) == []

    # A new request is held; once the hour frees it goes on.
    await zhang.send_text("The lift is noisy")
    assert (await zhang.wait_for("We have received")).text == HELD_NOTE.format(limit=2, at="20 Nov 10:00")
    clock.set(at(20, 10))
    await a1.wait_for("New ticket #1002")
    await zhang.wait_for("ticket #1002")
    # Room for one more this hour, which joins it; the one after starts a new flood, told of again.
    await zhang.send_text("Very noisy")
    assert (await a1.wait_for("Very noisy")).text == "#1002 · 1-101 Owner Zhang: Very noisy"
    await zhang.send_text("Still noisy")
    again = await zhang.wait_for(lambda m: "We have received" in m.content and "11:00" in m.content)
    assert again.text == HELD_NOTE.format(limit=2, at="20 Nov 11:00")
    await slow_estate.settled()
    assert len(_with(zhang, "We have received your messages")) == 2
    assert len(_with(a1, "has sent more than")) == 2


async def test_held_messages_and_their_clock_survive_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    async with BotApiSandbox(token=SANDBOX_TOKEN) as sandbox:
        zhang, a1 = sandbox.user(1101, "Zhang"), sandbox.user(101, "A1")
        for user_id, name in ((102, "A2"), (103, "A3"), (900, "Liu")):
            sandbox.user(user_id, name)
        async with embedded_estate(tmp_path, ROSTER, clock, config=SLOW, sandbox=sandbox) as first_run:
            await zhang.send_text("The window is broken")
            await _accept(a1, "New ticket #1001")
            await zhang.send_text("It will not close")
            await zhang.send_text("It is cold")
            await zhang.wait_for("We have received your messages")
            await first_run.settled()
            assert not _with(a1, "cold")

        # Down past 10:00, when the held message was due to go on: it goes at the next start, once.
        clock.set(at(20, 10, 30))
        async with embedded_estate(tmp_path, None, clock, config=SLOW, sandbox=sandbox) as second_run:
            assert (await a1.wait_for("cold")).text == "#1001 · 1-101 Owner Zhang: It is cold"
            await second_run.settled()
            held = await _held(second_run)
        async with embedded_estate(tmp_path, None, clock, config=SLOW, sandbox=sandbox) as third_run:
            await third_run.settled()
            recorded = await _requests(third_run)
            release_clocks = await _release_clocks(third_run)
        assert sandbox.rejections == []

    assert len(_with(a1, "cold")) == 1
    assert [row.released_at for row in held] == [at(20, 10, 30)]
    assert [text for _, _, text, _ in recorded] == ["The window is broken", "It will not close", "It is cold"]
    assert release_clocks == [(at(20, 10), "fired")]
