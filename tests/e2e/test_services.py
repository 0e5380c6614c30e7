"""Paid special services (特约服务): the price list, orders that become tickets, the frozen price, and
extra costs, as each person sees them in their chat."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from storage.schema import service_orders, service_quotes
from tests.conftest import Cast
from tests.e2e.paid_services import (
    ALREADY,
    DONE,
    DONE_ZH,
    EXAMPLE,
    GONE,
    buttons,
    load_catalog,
    open_service,
    order,
    tap,
)
from tests.e2e.records import event_kinds, ticket_row


async def test_residents_page_through_the_price_list_in_place(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    report = await load_catalog(estate, clock)
    assert (report.added, report.offered) == (8, 8)
    await cast.zhang.send_command("/services")
    listing = await cast.zhang.wait_for("Paid special services")
    assert listing.content == (
        "Paid special services · page 1 of 2\n"
        "Every price is published here, and the price you order at is the price of your order.\n\n"
        "• Home cleaning: CN¥120.00 / 2 hours\n"
        "• Deep cleaning: CN¥8.00 / m²\n"
        "• Bottled water delivery: CN¥20.00 / bottle\n"
        "• Appliance repair (home visit): CN¥50.00 / visit\n"
        "• Air-conditioner cleaning: CN¥80.00 / unit\n"
        "• Drain unblocking: CN¥100.00 / job\n\n"
        "Choose a service to see what it includes and to order it; your butler arranges it with you."
    )
    assert buttons(listing) == [
        "Home cleaning",
        "Deep cleaning",
        "Bottled water delivery",
        "Appliance repair (home visit)",
        "Air-conditioner cleaning",
        "Drain unblocking",
        "Next ›",
    ]
    assert await tap(estate, cast.zhang, listing, "Next ›") == DONE
    page = cast.zhang.inbox[-1]
    assert page.message_id == listing.message_id and len(cast.zhang.inbox) == 1  # the same message
    assert page.content.startswith("Paid special services · page 2 of 2\n")
    assert "• Errands: CN¥30.00 / errand\n• Parcel handling: CN¥5.00 / parcel" in page.content
    assert buttons(page) == ["Errands", "Parcel handling", "‹ Previous"]

    assert await tap(estate, cast.zhang, page, "Parcel handling") == DONE
    details = cast.zhang.inbox[-1]
    assert details.content == (
        "Parcel handling\nCN¥5.00 / parcel\n\n"
        "Parcels received and brought to your door, or collected and sent (postage extra).\n\n"
        'Press "Order" to order it at this price; your butler arranges the rest with you.'
    )
    assert buttons(details) == ["Order", "‹ Back to the list"]
    assert await tap(estate, cast.zhang, details, "‹ Back to the list") == DONE
    assert cast.zhang.inbox[-1].content.startswith("Paid special services · page 2 of 2\n")
    assert len(cast.zhang.inbox) == 1

    # In Chinese, in the Chinese locale's money.
    await cast.sun.send_command("/services")
    listing = await cast.sun.wait_for("特约服务")
    assert listing.content.startswith("特约服务（明码标价）· 第 1/2 页\n")
    assert "• 上门保洁：¥120.00 / 2小时\n" in listing.content
    assert buttons(listing)[0] == "上门保洁" and buttons(listing)[-1] == "下一页 ›"


async def test_with_no_services_listed_residents_are_told_and_staff_cannot_use_the_command(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.tom.send_command("/services")
    answer = await cast.tom.wait_for("No paid special services")
    assert answer.content == (
        "No paid special services are listed yet. "
        "For anything you need, just write to me and your butler will help."
    )
    await cast.a1.send_command("/services")
    await cast.a1.wait_for("That command is not for your account.")


async def test_an_order_becomes_a_ticket_for_the_residents_own_butler(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    draft = await open_service(estate, cast.zhang, "Home cleaning")
    assert await tap(estate, cast.zhang, draft, "Order") == DONE
    draft = cast.zhang.inbox[0]
    assert draft.content == (
        "Your order: Home cleaning\n"
        "CN¥120.00 / 2 hours: this is the price of your order, even if the price list changes later.\n\n"
        "Please reply to the next message with your preferred time and anything your butler should know, "
        'or press "Order as it is".'
    )
    assert buttons(draft) == ["Order as it is", "Cancel"]
    question = cast.zhang.inbox[-1]
    assert question.force_reply
    assert question.content == (
        "When would you like Home cleaning, and is there anything your butler should know? Reply to this "
        "message, e.g. tomorrow 15:00 please bring a ladder or 11-25 10:00 please call first. "
        "A note alone is fine too."
    )
    await cast.zhang.send_text("tomorrow 15:00 please bring a ladder", reply_to=question)

    card = await cast.a1.wait_for("New ticket #1001")
    assert card.content == (
        "New ticket #1001 · paid service\n"
        "Unit: 1-101  Owner: Owner Zhang  Phone: 139-1111-0101\n"
        "Team: A\n"
        "Feedback due: 23 Nov 15:00\n\n"  # two days from the preferred time, not from the order
        "Paid service: Home cleaning · CN¥120.00 / 2 hours (the price at order time)\n"
        "Preferred time: 21 Nov 15:00\n"
        "Note: please bring a ladder\n\n"
        "Please accept within 3 minutes. Reply to this message to reach Owner Zhang."
    )
    confirmation = await cast.zhang.wait_for("We have your paid service request")
    assert confirmation.content == (
        "We have your paid service request: ticket #1001.\n"
        "Home cleaning · CN¥120.00 / 2 hours: the price of your order\n"
        "Preferred time: 21 Nov 15:00\n"
        "Note: please bring a ladder\n"
        "Your butler Butler A1 is taking care of it; you will hear back by 23 Nov 15:00."
    )
    await estate.settled()
    assert buttons(cast.zhang.inbox[0]) == []  # the draft's buttons are retired
    ticket = await ticket_row(estate)
    assert (ticket.category, ticket.state, ticket.summary) == (
        "service",
        "new",
        "Home cleaning: please bring a ladder",
    )
    assert await event_kinds(estate) == ["created", "service_ordered", "assigned"]
    async with estate.db.engine.connect() as conn:
        placed = (await conn.execute(sa.select(service_orders))).one()
    assert (placed.status, placed.ticket_id, placed.price_cents, placed.note) == (
        "placed",
        ticket.id,
        12000,
        "please bring a ladder",
    )
    # Nobody else's butler, and no manager (not a VIP, not a complaint), hears of it.
    assert not cast.b1.inbox and not cast.manager.inbox

    # A reply to the question after it was answered changes nothing, and says so.
    await cast.zhang.send_text("tomorrow 16:00 actually", reply_to=question)
    closed = await cast.zhang.wait_for("already been placed")
    assert closed.content == (
        "Your order of Home cleaning has already been placed as ticket #1001; nothing was changed. "
        "To add something, please reply to one of that ticket's messages."
    )
    # The ticket is like any other: the butler accepts it, and a reply to the confirmation joins it.
    assert await tap(estate, cast.a1, card, "Accept") == DONE
    await cast.zhang.send_text("The code for the door is 1234", reply_to=confirmation)
    await cast.a1.wait_for("The code for the door is 1234")
    async with estate.db.engine.connect() as conn:  # it joined the ticket: no second one was opened
        assert (await conn.execute(sa.text("SELECT count(*) FROM tickets"))).scalar() == 1


async def test_a_resident_orders_as_it_is_and_the_log_shows_the_order(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    await order(estate, cast.tom, "Bottled water delivery", None)
    card = await cast.a1.wait_for("New ticket #1001")
    assert "From: Resident Tom (resident)\n" in card.content
    assert (
        "Paid service: Bottled water delivery · CN¥20.00 / bottle (the price at order time)\n" in card.content
    )
    assert "Preferred time: not given\n\nPlease accept" in card.content
    confirmation = await cast.tom.wait_for("We have your paid service request")
    assert "Preferred time: not given; your butler will agree it with you\n" in confirmation.content

    await cast.a1.send_command("/ticket", "1001")
    log = await cast.a1.wait_for("Ticket #1001 · paid service")
    assert (
        "20 Nov 09:00 · Resident Tom (resident) · ordered a paid service: Bottled water delivery · "
        "CN¥20.00 / bottle\n  Preferred time: not given\n"
    ) in log.content


async def test_a_vip_owners_order_is_copied_to_the_managers_with_its_price(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    await order(estate, cast.chen, "Air-conditioner cleaning", "11-25 10:00 please call first")
    card = await cast.b1.wait_for("New ticket #1001")
    assert "Preferred time: 25 Nov 10:00\nNote: please call first\n" in card.content
    copy = await cast.manager.wait_for("[Copy to manager] paid service ticket #1001")
    assert (
        "Paid service: Air-conditioner cleaning · CN¥80.00 / unit (the price at order time)\n" in copy.content
    )
    assert "Preferred time: 25 Nov 10:00\nNote: please call first" in copy.content

    # The managers follow a VIP's ticket: they hear of an extra cost and of the answer too.
    assert await tap(estate, cast.b1, card, "Accept") == DONE
    assert await tap(estate, cast.b1, card, "Quote extra cost") == DONE
    await cast.b1.send_text("¥45.50 new filter", reply_to=cast.b1.inbox[-1])
    quote = await cast.chen.wait_for("Extra cost for ticket #1001")
    seen = await cast.manager.wait_for("Extra cost quoted on ticket #1001")
    assert seen.content == (
        "Extra cost quoted on ticket #1001 · Air-conditioner cleaning\n\n"
        "Butler B1 quoted CN¥45.50: new filter\nWaiting for Owner Chen to accept or decline it."
    )
    assert await tap(estate, cast.chen, quote, "Decline") == DONE
    told = "❌ Ticket #1001: Owner Chen declined the extra cost of CN¥45.50 (new filter)."
    assert (await cast.b1.wait_for("❌")).content == told
    assert (await cast.manager.wait_for("❌")).content == told
    assert (await cast.chen.wait_for("You declined")).content == (
        "You declined the extra cost of CN¥45.50 on ticket #1001 (new filter). "
        "Butler B1 has been told and will talk it over with you."
    )


async def test_the_price_is_frozen_when_ordered(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    await order(estate, cast.zhang, "Home cleaning", "please call first")
    card = await cast.a1.wait_for("New ticket #1001")
    # Tom has the details open at the old price when the price list changes.
    tom_details = await open_service(estate, cast.tom, "Home cleaning")

    report = await load_catalog(estate, clock, EXAMPLE.replace('price = "120.00"', 'price = "150.00"'))
    assert (report.added, report.updated, report.unchanged, report.withdrawn) == (0, 1, 7, 0)

    # Nobody accepts in three minutes: the ticket goes on to A2, still at the price it was ordered at.
    clock.advance(timedelta(minutes=3))
    passed = await cast.a2.wait_for("New ticket #1001")
    assert "Home cleaning · CN¥120.00 / 2 hours (the price at order time)" in passed.content
    await estate.settled()
    assert buttons(card) == []
    await cast.a2.send_command("/ticket", "1001")
    log = await cast.a2.wait_for("Ticket #1001 · paid service")
    assert "ordered a paid service: Home cleaning · CN¥120.00 / 2 hours" in log.content
    assert await tap(estate, cast.a2, passed, "Accept") == DONE
    assert await tap(estate, cast.a2, passed, "Quote extra cost") == DONE
    assert "(Home cleaning, ordered at CN¥120.00 / 2 hours)" in cast.a2.inbox[-1].content

    # Tom presses Order on the old details: he is shown the new price instead, and nothing is ordered.
    assert await tap(estate, cast.tom, tom_details, "Order") == GONE
    shown = cast.tom.inbox[-1]
    assert shown.content.startswith(
        "The price has changed since this was shown to you; this is the price now.\n\n"
        "Home cleaning\nCN¥150.00 / 2 hours\n"
    )
    # Ordering now takes the new price; the first order keeps the old one.
    assert await tap(estate, cast.tom, shown, "Order") == DONE
    assert await tap(estate, cast.tom, shown, "Order as it is") == DONE
    card = await cast.a1.wait_for("New ticket #1002")
    assert "Home cleaning · CN¥150.00 / 2 hours (the price at order time)" in card.content
    async with estate.db.engine.connect() as conn:
        prices = (await conn.execute(sa.select(service_orders.c.price_cents).order_by("id"))).scalars().all()
    assert prices == [12000, 15000]


async def test_a_preferred_time_must_be_ahead_and_a_note_alone_is_fine(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    draft = await open_service(estate, cast.sun, "管道疏通")
    assert await tap(estate, cast.sun, draft, "预约") == DONE_ZH
    await cast.sun.send_text("今天 08:00 请带梯子", reply_to=cast.sun.inbox[-1])
    again = await cast.sun.wait_for("该时间已经过去")
    assert again.force_reply and again.content.startswith(
        "该时间已经过去，请选择一个之后的时间。\n您希望什么时间安排管道疏通"
    )
    await cast.sun.send_text("12-31 10:00 x", reply_to=again)  # fine: within 90 days
    await cast.a1.wait_for("New ticket #1001")
    assert (await cast.sun.wait_for("已收到")).content == (
        "已收到您的服务预约，工单号 #1001。\n"
        "管道疏通 · ¥100.00 / 次：本次预约价格\n希望时间：12月31日 10:00\n备注：x\n"
        "您的管家 Butler A1 会跟进处理，01月02日 10:00 前给您反馈。"  # counted from the booked day
    )

    # "2 hours" says as likely how long as when: it stays in the note, and the butler reads it.
    await order(estate, cast.zhang, "Home cleaning", "2 hours please, tomorrow afternoon")
    card = await cast.a1.wait_for("New ticket #1002")
    assert "Preferred time: not given\nNote: 2 hours please, tomorrow afternoon\n" in card.content


async def test_cancelling_or_waiting_too_long_orders_nothing(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    draft = await open_service(estate, cast.zhang, "Home cleaning")
    assert await tap(estate, cast.zhang, draft, "Order") == DONE
    question = cast.zhang.inbox[-1]
    assert await tap(estate, cast.zhang, draft, "Cancel") == DONE
    assert cast.zhang.inbox[-1].content == (
        "Cancelled: Home cleaning was not ordered. Send /services whenever you would like to order."
    )
    assert buttons(draft) == []
    await cast.zhang.send_text("tomorrow 15:00", reply_to=question)
    assert (await cast.zhang.wait_for("was cancelled")).content == (
        "Your order of Home cleaning was cancelled, so nothing was changed. Send /services to order again."
    )
    # The retired "Order as it is", pressed anyway (forged), orders nothing.
    forged = await cast.zhang.wait_for_answer(await cast.zhang.press_data(draft, "order_as_is:1"))
    assert forged.get("text") == GONE

    # A draft left for more than a day has lapsed.
    draft = await open_service(estate, cast.tom, "Home cleaning")
    assert await tap(estate, cast.tom, draft, "Order") == DONE
    question = cast.tom.inbox[-1]
    clock.advance(timedelta(days=1, minutes=1))
    await estate.settled()
    assert await tap(estate, cast.tom, draft, "Order as it is") == GONE
    await cast.tom.send_text("tomorrow 15:00", reply_to=question)
    assert (await cast.tom.wait_for("lapsed")).content == (
        "Your order of Home cleaning was not completed within a day, so it has lapsed and nothing was "
        "ordered. Send /services to order again."
    )
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM tickets"))).scalar() == 0
        statuses = (await conn.execute(sa.select(service_orders.c.status).order_by("id"))).scalars().all()
    assert statuses == ["cancelled", "draft"]
    assert not cast.a1.inbox


async def test_the_butler_quotes_extra_costs_the_resident_accepts_once(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await load_catalog(estate, clock)
    await order(estate, cast.zhang, "Appliance repair (home visit)", "tomorrow 10:00 the fridge")
    card = await cast.a1.wait_for("New ticket #1001")
    assert buttons(card) == ["Accept", "Resolved"]  # no extra cost before the ticket is accepted
    assert await tap(estate, cast.a1, card, "Accept") == DONE
    assert buttons(card) == ["Resolved", "Move committed time", "Quote extra cost"]

    assert await tap(estate, cast.a1, card, "Quote extra cost") == DONE
    question = cast.a1.inbox[-1]
    assert question.force_reply
    assert question.content == (
        "Extra cost on ticket #1001 (Appliance repair (home visit), ordered at CN¥50.00 / visit): reply to "
        "this message with the amount and the reason, e.g. 80 replacement tap parts. Owner Zhang will be "
        "asked to accept or decline it."
    )
    inbox = len(cast.zhang.inbox)
    for bad in ("a new compressor", "80", "-80 refund", "80.123 parts"):
        await cast.a1.send_text(bad, reply_to=question)
        await estate.settled()
        assert cast.a1.inbox[-1].content.startswith("Sorry, I could not read an amount followed by a reason")
    assert len(cast.zhang.inbox) == inbox  # nothing reached the owner

    await cast.a1.send_text("80 更换压缩机继电器", reply_to=cast.a1.inbox[-1])
    quote = await cast.zhang.wait_for("Extra cost for ticket #1001")
    assert quote.content == (
        "Extra cost for ticket #1001 · Appliance repair (home visit)\n\n"
        "Your butler Butler A1 quotes an extra CN¥80.00: 更换压缩机继电器\n"
        "This comes on top of the price you ordered at (CN¥50.00 / visit).\n\n"
        "Do you accept it? Please answer with the buttons below; Butler A1 will be told either way."
    )
    assert buttons(quote) == ["Accept the extra cost", "Decline"]
    assert (await cast.a1.wait_for("Extra cost quoted")).content == (
        "Extra cost quoted on ticket #1001 · Appliance repair (home visit)\n\n"
        "You quoted CN¥80.00: 更换压缩机继电器\nWaiting for Owner Zhang to accept or decline it."
    )
    assert await tap(estate, cast.zhang, quote, "Accept the extra cost") == DONE
    assert buttons(quote) == []
    assert (await cast.a1.wait_for("✅")).content == (
        "✅ Ticket #1001: Owner Zhang accepted the extra cost of CN¥80.00 (更换压缩机继电器)."
    )
    assert (await cast.zhang.wait_for("Thank you: you accepted")).content == (
        "Thank you: you accepted the extra cost of CN¥80.00 on ticket #1001 (更换压缩机继电器). "
        "Butler A1 has been told and will go ahead."
    )
    # Only once: the same answer pressed again (a stale button) changes nothing.
    answer = await cast.zhang.wait_for_answer(await cast.zhang.press_data(quote, "quote_accept:1"))
    assert answer.get("text") == ALREADY

    # A quote left open when the ticket is resolved can no longer be answered.
    assert await tap(estate, cast.a1, card, "Quote extra cost") == DONE
    await cast.a1.send_text("120 labour", reply_to=cast.a1.inbox[-1])
    second = await cast.zhang.wait_for("CN¥120.00: labour")
    assert await tap(estate, cast.a1, card, "Resolved") == DONE
    assert await tap(estate, cast.zhang, second, "Accept the extra cost") == ALREADY
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        rows = (await conn.execute(sa.select(service_quotes.c.amount_cents, service_quotes.c.status))).all()
    assert [tuple(row) for row in rows] == [(8000, "accepted"), (12000, "open")]
    assert await event_kinds(estate) == [
        "created",
        "service_ordered",
        "assigned",
        "accepted",
        "quote_given",
        "quote_accepted",
        "quote_given",
        "resolved",
    ]
    # Once resolved, no more extra costs: the question answered late is refused.
    await cast.a1.send_text("30 more", reply_to=question)
    assert (await cast.a1.wait_for("no longer in progress")).content == (
        "Ticket #1001 is no longer in progress in your hands, so no extra cost can be quoted on it; "
        "nothing was sent."
    )


async def test_the_time_and_note_may_come_without_replying_while_the_draft_is_fresh(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    """Force-reply is only a suggestion in most apps: the next message, or a reply to the draft, counts."""
    await load_catalog(estate, clock)
    draft = await open_service(estate, cast.zhang, "Home cleaning")
    assert await tap(estate, cast.zhang, draft, "Order") == DONE
    await cast.zhang.send_text("tomorrow 15:00 please bring a ladder")  # no reply context
    card = await cast.a1.wait_for("New ticket #1001")
    assert "Preferred time: 21 Nov 15:00\nNote: please bring a ladder" in card.content

    draft = await open_service(estate, cast.zhang, "Home cleaning")
    assert await tap(estate, cast.zhang, draft, "Order") == DONE
    await cast.zhang.send_text("11-25 10:00 please call first", reply_to=draft)  # the draft itself
    card = await cast.a1.wait_for("New ticket #1002")
    assert "Preferred time: 25 Nov 10:00\nNote: please call first" in card.content

    # Half an hour on, a message is a request of its own again; the draft waits for its buttons.
    draft = await open_service(estate, cast.zhang, "Home cleaning")
    assert await tap(estate, cast.zhang, draft, "Order") == DONE
    clock.advance(timedelta(minutes=31))
    await cast.zhang.send_text("The hallway light flickers")
    # A follow-up to an open ticket, as any message: which one depends on whether the ladder, due meanwhile,
    # touched #1001 or #1002 last.
    await cast.zhang.wait_for(
        lambda message: message.content.startswith(("Added to ticket #1001", "Added to ticket #1002"))
    )
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        statuses = (
            await conn.execute(sa.select(service_orders.c.status).order_by(service_orders.c.id))
        ).all()
    assert [row.status for row in statuses] == ["placed", "placed", "draft"]
