"""Bad input gets a clear, polite answer and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.embedded import EmbeddedEstate
from storage.schema import ticket_events, tickets, updates
from tests.conftest import Cast
from tests.e2e.records import ticket_row


async def _snapshot(estate: EmbeddedEstate) -> tuple[list[tuple[object, ...]], int]:
    async with estate.db.engine.connect() as conn:
        rows = [tuple(r) for r in (await conn.execute(sa.select(tickets).order_by(tickets.c.id))).all()]
        events = (await conn.execute(sa.select(sa.func.count()).select_from(ticket_events))).scalar_one()
    return rows, events


async def test_forged_and_stale_buttons_change_nothing(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.zhang.send_text("Gate intercom broken")
    card = await cast.a1.wait_for("#1001")
    ack = await cast.zhang.wait_for("#1001")
    await estate.settled()
    before = await _snapshot(estate)

    # A resident forging the butler's button on their own message.
    answer = await cast.zhang.wait_for_answer(await cast.zhang.press_data(ack, "accept:1"))
    assert answer["text"] == "This is not your ticket; nothing was changed"
    # Another team member of the same team: the ticket is A1's.
    a2_message = await cast.a2.send_text("hello")  # gives A2 a message to press on
    del a2_message
    hint = await cast.a2.wait_for("did not go to anyone")
    answer = await cast.a2.wait_for_answer(await cast.a2.press_data(hint, "resolve:1"))
    assert answer["text"] == "This is not your ticket; nothing was changed"
    # Another owner trying to confirm or rate someone else's ticket.
    wu_hint = await cast.wu.send_text("just saying hi")
    del wu_hint
    wu_ack = await cast.wu.wait_for("#1002")
    for forged in ("confirm:1", "reopen:1", "rate:1:1"):
        answer = await cast.wu.wait_for_answer(await cast.wu.press_data(wu_ack, forged))
        assert answer["text"] == "This is not your ticket; nothing was changed"
    # Confirming a ticket that was never resolved: stale, not applied.
    answer = await cast.zhang.wait_for_answer(await cast.zhang.press_data(ack, "confirm:1"))
    assert answer["text"] == "This ticket has moved on; the button no longer applies"
    # Garbage and unknown tickets.
    for junk in ("accept:999", "drop table", "rate:1:9"):
        answer = await cast.a1.wait_for_answer(await cast.a1.press_data(card, junk))
        assert answer["text"] in (
            "This button no longer works",
            "This is not your ticket; nothing was changed",
        )
    # A stranger pressing anything.
    await cast.stranger.send_text("hi")
    refusal = await cast.stranger.wait_for("only for the registered")
    answer = await cast.stranger.wait_for_answer(await cast.stranger.press_data(refusal, "accept:1"))
    assert answer["text"] == "This is not yours to change; nothing was changed"
    await estate.settled()

    tickets_after, _ = await _snapshot(estate)
    assert tickets_after[0] == before[0][0]  # ticket #1001 exactly as it was

    # And a button pressed twice acts once.
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(card, "accept:1"))
    assert answer["text"] == "This ticket has moved on; the button no longer applies"
    await estate.settled()
    assert sum("accepted by" in m.content for m in cast.zhang.inbox) == 1


async def test_an_unsupported_kind_is_answered_and_nothing_is_opened(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.zhang.send_sticker()
    reply = await cast.zhang.wait_for("can't take this kind of message")
    assert "nothing was recorded" in reply.content
    await cast.zhang.send_raw_message({"contact": {"phone_number": "+86 138 0000 0000", "first_name": "Li"}})
    await cast.zhang.wait_for_count(2)
    await estate.settled()
    assert await _snapshot(estate) == ([], 0)


async def test_a_butler_message_without_a_ticket_is_not_lost_silently(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.a1.send_text("Who is this going to?")
    hint = await cast.a1.wait_for("did not go to anyone")
    assert "reply to the ticket's card" in hint.content
    await estate.settled()
    assert all(user.inbox == [] for user in (cast.zhang, cast.tom, cast.sun))


async def test_what_a_resident_types_arrives_as_typed_never_as_markup(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    typed = 'Fix <b>this</b> & <a href="http://evil.example">that</a> </i> &amp;'
    await cast.zhang.send_text(typed)
    card = await cast.a1.wait_for("#1001")
    assert typed in card.content
    assert card.html is not None and "&lt;b&gt;this&lt;/b&gt; &amp; &lt;a href=" in card.html
    await cast.a1.send_text("<i>not italic</i> & fine", reply_to=card)
    relayed = await cast.zhang.wait_for("not italic")
    assert relayed.text is not None and relayed.text.endswith("<i>not italic</i> & fine")


async def test_a_text_over_telegrams_limit_is_split_never_cut(estate: EmbeddedEstate, cast: Cast) -> None:
    words = " ".join(f"w{n:04d}" for n in range(1000))  # 4,999 characters
    long_text = words[:4096]
    await cast.zhang.send_text(long_text)
    first = await cast.a1.wait_for("New ticket #1001")
    parts = await cast.a1.wait_for_count(2)
    assert first.buttons == [] and parts[-1].buttons[0][0] == ("Accept", "accept:1")
    joined = "".join(part.content for part in parts)
    assert long_text[:500] in joined  # the ticket summary keeps 500 characters of it
    # The butler's long answer reaches the resident whole, in two messages.
    answer = words[:4090]
    await cast.a1.send_text(answer, reply_to=parts[-1])
    await cast.a1.wait_for("Passed to")
    await estate.settled()
    relayed = [m for m in cast.zhang.inbox if "w0" in m.content]
    assert len(relayed) == 2
    assert all(len(m.content) <= 4096 for m in relayed)
    # Nothing lost at the cut (Telegram trims a space at either end of a message).
    assert answer.replace(" ", "") in "".join(m.content for m in relayed).replace(" ", "")


async def test_an_oversized_forged_ticket_id_is_just_a_stale_button(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.zhang.send_text("Gate broken")
    card = await cast.a1.wait_for("#1001")
    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(card, "accept:99999999999999999999"))
    assert answer["text"] == "This button no longer works"


@pytest.mark.parametrize("data", ["accept:1\n", "accept:١", "duty:off\n", "resolve:1:"])
async def test_button_data_not_exactly_as_the_bot_wrote_it_is_a_stale_button(
    estate: EmbeddedEstate, cast: Cast, data: str
) -> None:
    await cast.zhang.send_text("Gate broken")
    card = await cast.a1.wait_for("#1001")
    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(card, data))
    assert answer["text"] == "This button no longer works"
    await estate.settled()
    assert (await ticket_row(estate)).state == "new"
    assert len(cast.a1.inbox) == 1  # nothing else: no duty change, no acceptance


async def test_when_handling_fails_the_person_is_told_and_nothing_is_half_done(
    estate: EmbeddedEstate, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("storage.tickets.add_event", broken)
    await cast.zhang.send_text("Lift broken")
    reply = await cast.zhang.wait_for("something went wrong")
    assert (
        reply.text
        == "Sorry, something went wrong and this message was not processed. Please send it again in a moment."
    )
    await estate.settled()
    assert await _snapshot(estate) == ([], 0)
    assert cast.a1.inbox == []
    # The update is kept as failed, with what Zhang sent: nothing a resident sent is lost.
    async with estate.db.read() as conn:
        [update] = (await conn.execute(sa.select(updates))).all()
    assert (update.status, update.error, update.payload["message"]["text"]) == (
        "failed",
        "RuntimeError",
        "Lift broken",
    )


async def test_a_5000_character_request_reaches_the_butler_whole_in_several_messages(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    # Telegram's own clients split a long text before sending; the bot must cope with any length anyway.
    request = "\n".join(
        f"Line {n:03d}: the water pressure on this floor drops every evening." for n in range(80)
    )
    assert len(request) > 5000
    await cast.zhang.send_text(request)
    await cast.a1.wait_for_count(2)
    await estate.settled()
    parts = cast.a1.inbox
    assert len(parts) == 2
    assert all(len(part.content) <= 4096 for part in parts)
    assert parts[0].content.startswith("New ticket #1001")
    assert parts[-1].buttons[0][0] == ("Accept", "accept:1")
    received = "\n".join(part.content for part in parts)
    assert all(line in received for line in request.splitlines())
