"""Every paid-service button pressed by everyone it is not for, on messages it was not on, with forged data.

The price list's buttons act only on a price list the bot sent the person pressing; an order's buttons
only for the resident who made it, on its own message, while it is a draft; an extra cost is quoted only
by whoever has the ticket, and answered only by the resident who asked. Any other press changes nothing
at all (no ticket, event, order, quote or outbox row) and is answered briefly.
"""

from __future__ import annotations

import asyncio

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox.models import ChatMessage
from bot.sandbox.user import SandboxUser
from tests.conftest import Cast
from tests.e2e.authorization import RIVERSIDE, open_riverside, snapshot, ticket_id
from tests.e2e.paid_services import DONE, GONE, load_catalog, open_service, order, tap

NOT_YOURS = "This is not your ticket; nothing was changed"
NOT_FOR_YOU = "This is not yours to change; nothing was changed"  # what is not a ticket: an order, a list
IN_CHINESE = {
    NOT_YOURS: "这不是您的工单，未做任何更改",
    NOT_FOR_YOU: "您无权操作此项，未做任何更改",
    GONE: "此按钮已失效",
}
RIVERSIDE_CATALOG = """\
[[service]]
code = "home-cleaning"
price = "99.00"
name = { zh = "保洁", en = "Cleaning" }
unit = { zh = "次", en = "visit" }
"""


def _data(message: ChatMessage, label: str) -> str:
    return next(data for row in message.buttons for text, data in row if text == label)


async def test_every_service_button_pressed_by_everyone_it_is_not_for(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    riverside = await open_riverside(estate, clock)
    await load_catalog(estate, clock, estate_name="default")
    await load_catalog(estate, clock, RIVERSIDE_CATALOG, estate_name=RIVERSIDE)

    # #1001: Zhang's home cleaning, accepted by A1, with an extra cost waiting for Zhang's answer.
    await order(estate, cast.zhang, "Home cleaning", "tomorrow 15:00 please bring a ladder")
    card = await cast.a1.wait_for("New ticket #1001")
    assert await tap(estate, cast.a1, card, "Accept") == DONE
    assert await tap(estate, cast.a1, card, "Quote extra cost") == DONE
    await cast.a1.send_text("80 parts", reply_to=cast.a1.inbox[-1])
    quote = await cast.zhang.wait_for("Extra cost for ticket #1001")
    quote_id = _data(quote, "Decline").split(":")[1]
    # #1002: Sun's repair, A1's: no extra cost can be quoted on it.
    await cast.sun.send_text("The hallway light is out")
    await cast.a1.wait_for("New ticket #1002")
    # Zhang's second order, a draft on his price list, and Tom's price list.
    draft = await open_service(estate, cast.zhang, "Deep cleaning")
    assert await tap(estate, cast.zhang, draft, "Order") == DONE
    draft_id = _data(draft, "Cancel").split(":")[1]
    tom_list = await open_service(estate, cast.tom, "Drain unblocking")
    # Everyone else who presses below has a message to press on.
    for user in (cast.a2, cast.b1, cast.chen, cast.manager, riverside.manager, riverside.r1, cast.stranger):
        await user.send_command("/start")
    await estate.settled()
    t1001, t1002 = await ticket_id(estate, 1001), await ticket_id(estate, 1002)
    riverside_list = await open_service(estate, riverside.qian, "Cleaning")
    riverside_item = _data(riverside_list, "Order").split(":")[1]
    home_cleaning = "order:1:12000"

    expected: list[tuple[SandboxUser, ChatMessage | None, str, str]] = []

    def presses(data: str, answer: str, *users: SandboxUser, on: ChatMessage | None = None) -> None:
        for user in users:
            expected.append((user, on, data, IN_CHINESE[answer] if user is cast.sun else answer))

    # An extra cost is answered by the resident who asked: not their household, a neighbour, staff,
    # another estate, or a stranger.
    for verb in ("quote_accept", "quote_decline"):
        presses(f"{verb}:{quote_id}", NOT_YOURS, cast.tom, cast.sun, cast.chen, riverside.qian)
        presses(f"{verb}:{quote_id}", NOT_FOR_YOU, cast.a1, cast.manager, riverside.manager, cast.stranger)
    # It is quoted by whoever has the ticket: not a teammate, another team, the managers, the resident.
    presses(f"quote:{t1001}", NOT_YOURS, cast.a2, cast.b1, cast.manager, riverside.manager, riverside.r1)
    presses(f"quote:{t1001}", NOT_YOURS, cast.zhang)
    presses(f"quote:{t1001}", NOT_FOR_YOU, cast.stranger)
    presses(f"quote:{t1002}", GONE, cast.a1)  # a repair: no extra cost to quote
    # An order's buttons are its resident's, and only on the draft's own message.
    for verb in ("order_as_is", "order_cancel"):
        presses(f"{verb}:{draft_id}", NOT_FOR_YOU, cast.tom, cast.sun, cast.a1, cast.manager, cast.stranger)
        presses(f"{verb}:{draft_id}", GONE, cast.zhang, on=quote)
        presses(f"{verb}:999999", GONE, cast.zhang, on=draft)
    # The price list's buttons work only on a price list the bot sent the one pressing.
    for data in ("services:2", "service:1", home_cleaning):
        presses(data, GONE, cast.zhang, on=quote)
        presses(data, NOT_FOR_YOU, cast.a1, cast.manager, cast.stranger)
    presses(home_cleaning, GONE, cast.zhang, on=draft)  # Order pressed twice: one draft is enough
    presses(f"service:{riverside_item}", GONE, cast.tom, on=tom_list)  # another estate's service
    presses(f"order:{riverside_item}:9900", GONE, cast.tom, on=tom_list)
    presses("service:999999", GONE, cast.tom, on=tom_list)
    presses("quote:999999", GONE, cast.a1)
    presses("quote_accept:999999", GONE, cast.zhang)
    garbage = [
        *("services", "services:", "services:x", "services:12345", "service:1:2", "order:1", "order:1:12.00"),
        *("order_as_is", "order_cancel:-1", "quote_accept:1:1", "quote:1:1", "order_as_is:1234567890"),
    ]
    for data in garbage:
        presses(data, GONE, cast.zhang, cast.a1, cast.manager, on=None)

    before = await snapshot(estate)
    inboxes = {user.first_name: len(user.inbox) for user, *_ in expected}
    queries = [
        await user.press_data(on if on is not None else user.transcript[-1], data)
        for user, on, data, _ in expected
    ]
    answers = await asyncio.gather(
        *(user.wait_for_answer(query) for (user, *_), query in zip(expected, queries, strict=True))
    )
    await estate.settled()

    assert [
        (user.first_name, data, str(answer.get("text")))
        for (user, _, data, _), answer in zip(expected, answers, strict=True)
    ] == [(user.first_name, data, text) for user, _, data, text in expected]
    assert await snapshot(estate) == before
    assert {user.first_name: len(user.inbox) for user, *_ in expected} == inboxes
