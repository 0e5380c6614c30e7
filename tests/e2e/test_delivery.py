"""Delivery against a Bot API that fails: 429s, 5xx, dropped connections, people who blocked the bot.

Every message still arrives, in order in each chat, with Telegram's waits honoured; delivery is at least
once, so a message whose answer was lost on the way back arrives twice.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import outbox
from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate, embedded_estate
from bot.runtime import Runtime
from bot.sandbox import max_in_window, min_gap
from storage.schema import outbox as outbox_table
from storage.schema import people
from tests.conftest import ROSTER, Cast

ACK = (
    "We have your repair request: ticket #1001.\n"
    "Your butler Butler A1 is taking care of it; you will hear back by 22 Nov 09:00."
)
ADDED = "Added to ticket #1001 and passed to your butler."
ZHANG_UNREACHABLE = (
    "⚠️ Owner Zhang cannot be reached on Telegram (owner, 1-101): Telegram refuses the bot's messages to"
    " them, perhaps because they blocked the bot. News of ticket #1001 is not reaching them.\n\n"
    "Please contact them another way: 139-1111-0101. You will hear when messages reach them again."
)
BLOCKED = "Forbidden: bot was blocked by the user"
ZHANG_BACK = "✅ Owner Zhang (owner, 1-101) can be reached on Telegram again: the bot's messages reach them."


@pytest.fixture
async def paced(tmp_path: Path, clock: ManualClock) -> AsyncIterator[EmbeddedEstate]:
    """The bot as `guanjia run` sends: at most one message a second to a chat, about thirty overall."""
    async with embedded_estate(tmp_path, ROSTER, clock, paced=True) as running:
        yield running
        assert running.sandbox.rejections == [], "the bot sent something the Bot API would refuse"


def _texts(estate: EmbeddedEstate, chat_id: int) -> list[str]:
    return [message.content for message in estate.sandbox.delivered(chat_id)]


def _take_refusals(estate: EmbeddedEstate, words: str) -> list[int]:
    """The chats of the Bot API's refusals saying `words`, taken off its list of refusals: expected here,
    where the estate fixture checks that nothing else was refused."""
    refused = [params["chat_id"] for _, params, said in estate.sandbox.rejections if words in said]
    estate.sandbox.rejections[:] = [r for r in estate.sandbox.rejections if words not in r[2]]
    return refused


async def _unreachable(estate: EmbeddedEstate, telegram_id: int) -> bool:
    async with estate.db.read() as conn:
        marked = await conn.execute(
            sa.select(people.c.unreachable_at).where(people.c.telegram_id == telegram_id)
        )
        return marked.scalar_one() is not None


async def test_a_429_is_waited_out_exactly_while_other_chats_go_on(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    estate.sandbox.faults.too_many_requests(2, method="sendMessage", chat_id=1101)
    await cast.zhang.send_text("The kitchen tap is broken")
    await cast.zhang.send_text("It is dripping on the floor")
    await cast.a1.wait_for("New ticket #1001")
    await cast.zhang.wait_for_count(2)
    await estate.settled()

    assert _texts(estate, 1101) == [ACK, ADDED]  # the second waited behind the first
    told, again, added = estate.sandbox.call_log.sends(chat_id=1101)
    assert told.status == 429 and told.retry_after == 2 and told.done_at is not None
    assert 2.0 <= again.at - told.done_at < 2.3
    assert again.ok and added.ok and added.at > again.at
    card = estate.sandbox.call_log.sends(chat_id=101)[0]
    assert card.ok and card.at < told.done_at + 2.0  # the butler's card did not wait for Zhang's chat


async def test_5xx_timeouts_and_dropped_connections_are_retried_with_backoff(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    estate.sandbox.faults.server_error(502, chat_id=101)
    estate.sandbox.faults.timeout(0.2, chat_id=101)  # a gateway giving up on Telegram: 504
    estate.sandbox.faults.server_error(500, chat_id=1101)
    estate.sandbox.faults.drop_connection(chat_id=1101)
    await cast.zhang.send_text("The kitchen tap is broken")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.zhang.wait_for("#1001")
    await estate.settled()

    assert card.buttons == [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]
    assert _texts(estate, 1101) == [ACK]  # once: none of the failed tries reached Zhang
    assert len(estate.sandbox.delivered(101)) == 1
    to_a1 = estate.sandbox.call_log.sends(chat_id=101)
    assert [call.status for call in to_a1] == [502, 504, 200]
    to_zhang = estate.sandbox.call_log.sends(chat_id=1101)
    assert [call.status for call in to_zhang] == [500, None, 200]  # None: the connection dropped
    for calls in (to_a1, to_zhang):
        gaps = [later.at - (earlier.done_at or earlier.at) for earlier, later in itertools.pairwise(calls)]
        # Doubling from half a second, up to a fifth shorter so chats failing together retry apart.
        assert [0.4 * 2**n <= gap < 0.5 * 2**n + 0.2 for n, gap in enumerate(gaps)] == [True, True]


async def test_delivery_is_at_least_once(estate: EmbeddedEstate, cast: Cast) -> None:
    # Telegram delivered the message but the answer was lost: the bot cannot know, and sends it again.
    estate.sandbox.faults.drop_connection(performed=True, chat_id=1101)
    await cast.zhang.send_text("The kitchen tap is broken")
    await cast.zhang.wait_for_count(2)
    await estate.settled()
    assert _texts(estate, 1101) == [ACK, ACK]


async def test_not_modified_is_done(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> None:
    await cast.zhang.send_text("The kitchen tap is broken")
    card = await cast.a1.wait_for("New ticket #1001")
    await estate.settled()
    async with estate.db.begin() as conn:  # the same buttons again, as a repeated decision would ask
        card_row = await outbox.row_of_card(conn, 101, card.message_id)
        assert card_row is not None
        same = [[outbox.Button("Accept", "accept:1"), outbox.Button("Resolved", "resolve:1")]]
        edit = await outbox.edit_buttons(conn, 101, card_row, same, now=clock.now())
    runtime: Runtime = estate.application.bot_data["runtime"]
    runtime.sender.wake()
    await estate.settled()
    async with estate.db.read() as conn:
        row = (await conn.execute(sa.select(outbox_table).where(outbox_table.c.id == edit))).one()
    assert (row.status, row.attempts) == ("sent", 1)
    assert _take_refusals(estate, "message is not modified") == [101]
    assert card.buttons == [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]


async def test_a_resident_who_blocked_the_bot_is_reported_to_their_butler_once(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.zhang.wait_for("#1001")
    cast.zhang.block()

    clock.advance(timedelta(minutes=1))
    await cast.a1.press(card, "Accept")
    notice = await cast.a1.wait_for("cannot be reached")
    assert notice.text == ZHANG_UNREACHABLE
    assert await _unreachable(estate, 1101)
    await cast.a1.press(card, "Resolved")  # "is it resolved for you?" is refused too: no second notice
    await estate.settled()
    assert [m.content for m in cast.a1.delivered].count(ZHANG_UNREACHABLE) == 1
    assert _texts(estate, 1101) == [ACK]
    assert _take_refusals(estate, BLOCKED) == [1101, 1101]

    # Unblocking the bot in Telegram sends /start: the welcome reaches Zhang, and the butler hears it.
    cast.zhang.unblock()
    await cast.zhang.send_command("/start")
    await cast.zhang.wait_for("Hello Owner Zhang")
    assert (await cast.a1.wait_for("reached on Telegram again")).text == ZHANG_BACK
    assert not await _unreachable(estate, 1101)


async def test_a_butler_who_blocked_the_bot_is_reported_to_the_managers_and_passed_over(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    cast.a1.block()
    await cast.zhang.send_text("The kitchen tap is broken")
    notice = await cast.manager.wait_for("cannot be reached")
    assert notice.text == (
        "⚠️ Butler A1 cannot be reached on Telegram (butler): Telegram refuses the bot's messages to them,"
        " perhaps because they blocked the bot. News of ticket #1001 is not reaching them.\n\n"
        "Please contact them another way: 138-0000-0101. You will hear when messages reach them again."
    )
    assert _take_refusals(estate, BLOCKED) == [101]

    # Team A's next request goes to A2, who can be reached, rather than to its first butler.
    await cast.sun.send_text("走廊灯坏了")
    await cast.a2.wait_for("#1002")
    await estate.settled()
    assert _take_refusals(estate, BLOCKED) == []


async def test_paced_one_message_a_second_per_chat_and_at_most_thirty_a_second(
    paced: EmbeddedEstate, clock: ManualClock
) -> None:
    users = [paced.sandbox.user(7000 + n, f"U{n}") for n in range(36)]
    async with paced.db.begin() as conn:
        for round_ in range(2):
            for user in users:
                await outbox.send_text(conn, user.id, f"{user.first_name} #{round_}", now=clock.now())
    runtime: Runtime = paced.application.bot_data["runtime"]
    runtime.sender.wake()
    for user in users:
        await user.wait_for_count(2)
    await paced.settled()

    # The sender paces when requests leave; the sandbox sees when they arrive, shifted by however busy the
    # shared event loop of a test machine is. So the figures allow a tenth for that; the exact rules are
    # tested against a hand-moved clock in tests/unit/test_sender_pacing.py.
    for user in users:
        assert [m.content for m in user.delivered] == [f"{user.first_name} #0", f"{user.first_name} #1"]
        assert min_gap(paced.sandbox.call_log.sends(chat_id=user.id)) >= 0.9
    sends = paced.sandbox.call_log.sends()
    assert len(sends) == 72
    assert max_in_window(sends, 1.0) <= 33
    assert sends[-1].at - sends[0].at >= (72 - 33) / 30  # 72 messages cannot have gone faster than that


async def test_paced_a_429_is_waited_out_and_the_chat_keeps_its_pace(paced: EmbeddedEstate) -> None:
    cast = Cast(paced)
    paced.sandbox.faults.too_many_requests(1, method="sendMessage", chat_id=1101)
    await cast.zhang.send_text("The kitchen tap is broken")
    await cast.zhang.send_text("It is dripping on the floor")
    await cast.a1.wait_for("New ticket #1001")
    await cast.zhang.wait_for_count(2)
    assert _texts(paced, 1101) == [ACK, ADDED]
    told, again, added = paced.sandbox.call_log.sends(chat_id=1101)
    assert told.done_at is not None and 1.0 <= again.at - told.done_at < 1.3
    assert added.at - again.at >= 1.0
