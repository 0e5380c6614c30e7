"""Conversation inside a ticket: media both ways, follow-ups, and which ticket a message joins."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from storage.schema import ticket_events, tickets
from tests.conftest import Cast


async def test_a_photo_request_reaches_the_butler_as_a_copy_under_the_card(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    sent = await cast.zhang.send_photo(caption="Crack in the bathroom ceiling")
    card = await cast.a1.wait_for("New ticket #1001")
    assert "Crack in the bathroom ceiling" in card.content
    photo = await cast.a1.wait_for(lambda m: m.kind == "photo")
    assert photo.copied_from == (1101, sent)  # copied, never forwarded: no account is exposed
    assert "forward_origin" not in photo.raw
    assert photo.reply_to_message_id == card.message_id
    assert photo.caption == "#1001 photo: Crack in the bathroom ceiling"


async def test_media_is_relayed_both_ways_signed_and_copied(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.zhang.send_text("The balcony drain is blocked")
    card = await cast.a1.wait_for("#1001")

    await cast.a1.send_photo(caption="Is this the drain you mean?", reply_to=card)
    photo = await cast.zhang.wait_for(lambda m: m.kind == "photo")
    assert photo.caption == "#1001 · Butler Butler A1: [photo] Is this the drain you mean?"
    assert photo.copied_from is not None and photo.copied_from[0] == 101

    voice_id = await cast.zhang.send_voice(duration=4, reply_to=photo)
    voice = await cast.a1.wait_for(lambda m: m.kind == "voice")
    assert voice.copied_from == (1101, voice_id)
    assert voice.caption == "#1001 · 1-101 Owner Zhang: [voice message]"

    await cast.zhang.send_document(file_name="plan.pdf", caption="floor plan", reply_to=photo)
    document = await cast.a1.wait_for(lambda m: m.kind == "document")
    assert document.caption == "#1001 · 1-101 Owner Zhang: [file] floor plan"

    # A location cannot carry a caption: a signed heading first, the location as a reply to it.
    await cast.zhang.send_location(31.2304, 121.4737)
    location = await cast.a1.wait_for(lambda m: m.kind == "location")
    heading = next(m for m in cast.a1.inbox if m.message_id == location.reply_to_message_id)
    assert heading.text == "#1001 · 1-101 Owner Zhang: [location]"
    await estate.settled()
    # Every one of them was recorded in the ticket's history.
    async with estate.db.engine.connect() as conn:
        kinds = (
            await conn.execute(
                sa.select(ticket_events.c.detail).where(ticket_events.c.kind.like("message_from_%"))
            )
        ).scalars()
        details = list(kinds)
        assert [detail["kind"] for detail in details] == ["photo", "voice", "document", "location"]
        assert details[-1]["location"] == [31.2304, 121.4737]


async def test_a_follow_up_joins_the_open_ticket_within_30_minutes_else_opens_a_new_one(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The lift on building 1 makes a grinding noise")
    await cast.zhang.wait_for("#1001")
    await cast.a1.press(await cast.a1.wait_for("New ticket #1001"), "Accept")
    await cast.zhang.wait_for("accepted by your butler")  # before time moves past the three minutes
    clock.advance(timedelta(minutes=29))
    await cast.zhang.send_text("It stopped between floors for a second")
    await cast.zhang.wait_for("Added to ticket #1001")
    await cast.a1.wait_for("It stopped between floors")

    clock.advance(timedelta(minutes=31))
    await cast.zhang.send_text("Also, the mailbox key is lost")
    note = await cast.zhang.wait_for("#1002")
    assert note.text is not None and note.text.startswith("We have your")
    await cast.a1.wait_for("New ticket #1002")

    # A reply to #1001's message still goes to #1001, however long ago.
    first_ack = await cast.zhang.wait_for("ticket #1001.")
    clock.advance(timedelta(hours=5))
    await cast.zhang.send_text("The lift is still noisy", reply_to=first_ack)
    await cast.zhang.wait_for(
        lambda m: (
            m.content == "Added to ticket #1001 and passed to your butler." and m.message_id > note.message_id
        )
    )
    await cast.a1.wait_for("#1001 · 1-101 Owner Zhang: The lift is still noisy")


async def test_a_message_to_a_closed_ticket_opens_a_new_one_and_says_so(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.wu.send_text("Broken bench in the garden")
    ack = await cast.wu.wait_for("#1001")
    await cast.b1.press(await cast.b1.wait_for("#1001"), "Resolved")
    await cast.wu.press(await cast.wu.wait_for("Is it resolved"), "Yes, resolved")
    await cast.wu.wait_for("How would you rate")
    await cast.wu.send_text("Another bench is broken too", reply_to=ack)
    new = await cast.wu.wait_for("#1002")
    assert new.text is not None and new.text.startswith(
        "Ticket #1001 is closed, so your message was logged as a new ticket."
    )


async def test_residents_and_their_owner_each_see_only_their_own_tickets(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.zhang.send_text("Owner's own matter: the water heater is broken")
    await cast.tom.send_text("When is the gym open?")
    tom_ack = await cast.tom.wait_for("#1002")
    assert "Butler A1" in tom_ack.content  # a resident is served by the owner's team
    card = await cast.a1.wait_for("#1002")
    assert "From: Resident Tom (resident)" in card.content and "Owner: Owner Zhang" in card.content
    await cast.tom.send_command("/my")
    mine = await cast.tom.wait_for("My tickets")
    assert "#1002" in mine.content and "#1001" not in mine.content and "water heater" not in mine.content
    await cast.a1.send_text("The gym opens at 6.", reply_to=card)
    await cast.tom.wait_for("The gym opens at 6.")
    await estate.settled()
    assert all("gym" not in m.content for m in cast.zhang.inbox)
    async with estate.db.engine.connect() as conn:
        requesters = dict(
            (
                await conn.execute(
                    sa.select(tickets.c.number, tickets.c.requester_id).order_by(tickets.c.number)
                )
            ).all()
        )
    assert requesters[1001] != requesters[1002]


async def test_an_edited_message_reaches_the_other_side_as_a_correction(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    first = await cast.zhang.send_text("The tap in the kitchen is broken")
    card = await cast.a1.wait_for("#1001")
    await cast.zhang.edit_text(first, "The tap in the bathroom is broken")
    correction = await cast.a1.wait_for("(edited)")
    assert correction.text == "#1001 · 1-101 Owner Zhang (edited): The tap in the bathroom is broken"

    reply = await cast.a1.send_text("Coming at 3pm", reply_to=card)
    await cast.zhang.wait_for("Coming at 3pm")
    await cast.a1.edit_text(reply, "Coming at 4pm")
    fixed = await cast.zhang.wait_for("Coming at 4pm")
    assert fixed.text == "#1001 · Butler Butler A1 (edited): Coming at 4pm"

    # Editing something that was never part of a ticket changes nothing and reaches nobody.
    command = await cast.zhang.send_command("/help")
    await cast.zhang.wait_for("How this works")
    await cast.zhang.edit_text(command, "/my")
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        kinds = (
            (await conn.execute(sa.select(ticket_events.c.kind).order_by(ticket_events.c.id))).scalars().all()
        )
    assert kinds.count("message_edited") == 2
    assert sum("(edited)" in m.content for m in cast.a1.inbox) == 1


async def test_a_photo_as_a_rating_comment_reaches_the_butler(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.wu.send_text("Bench broken")
    await cast.b1.press(await cast.b1.wait_for("#1001"), "Resolved")
    await cast.wu.press(await cast.wu.wait_for("Is it resolved"), "Yes, resolved")
    await cast.wu.press(await cast.wu.wait_for("How would you rate"), "★★")
    thanks = await cast.wu.wait_for("Thank you for your rating")
    await cast.wu.send_photo(caption="still wobbly, see", reply_to=thanks)
    photo = await cast.b1.wait_for(lambda m: m.kind == "photo")
    assert photo.caption == "Owner Wu commented on ticket #1001: [photo] still wobbly, see"
    await cast.wu.wait_for("we have your comment")
