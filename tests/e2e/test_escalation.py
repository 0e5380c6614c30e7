"""Who else hears of a ticket: a follow-up that turns serious, a ticket nobody has, staff side by side."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from storage.schema import people, ticket_events, tickets
from tests.conftest import Cast
from tests.e2e.records import alerts


async def test_a_follow_up_that_is_an_emergency_raises_the_ticket(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("When is the pool open?")
    await cast.a1.press(await cast.a1.wait_for("New ticket #1001 · inquiry"), "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    clock.advance(timedelta(minutes=5))
    await cast.zhang.send_text("Forget the pool, there is smoke in the stairwell, it is on fire!")

    alert = await cast.manager.wait_for("[Copy to manager] emergency ticket #1001")
    assert "smoke in the stairwell" in alert.content and "Feedback due: 20 Nov 13:05" in alert.content
    await cast.a1.wait_for("#1001 · 1-101 Owner Zhang: Forget the pool")
    notice = await cast.a1.wait_for("now counts as emergency")
    assert "Feedback is due by 20 Nov 13:05" in notice.content
    told = await cast.zhang.wait_for("Added to ticket #1001")
    assert "now counts as emergency" in told.content and "call 119 / 110 / 120" in told.content
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets))).one()
        kinds = (
            (await conn.execute(sa.select(ticket_events.c.kind).order_by(ticket_events.c.id))).scalars().all()
        )
    assert row.category == "emergency"
    assert row.due_at == clock.now() + timedelta(hours=4)
    assert kinds[-1] == "category_raised"


async def test_a_complaint_in_a_follow_up_reaches_the_managers_once(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.wu.send_text("My door lock is broken")
    await cast.b1.wait_for("#1001")
    await cast.wu.send_text("I want to complain: this is the third time and nobody came")
    await cast.manager.wait_for("[Copy to manager] complaint ticket #1001")
    await cast.wu.send_text("Still waiting, this is unacceptable, complaint!")
    await cast.b1.wait_for("Still waiting")
    await estate.settled()
    # Raised once; after that the managers follow the conversation like the butler does.
    assert sum("[Copy to manager]" in m.content for m in alerts(cast.manager)) == 1
    assert any(m.content.startswith("#1001 · 3-601 Owner Wu: Still waiting") for m in alerts(cast.manager))


async def test_a_manager_takes_on_a_ticket_nobody_on_duty_could(estate: EmbeddedEstate, cast: Cast) -> None:
    async with estate.db.begin() as conn:
        await conn.execute(people.update().where(people.c.telegram_id.in_([201, 202])).values(on_duty=False))
    await cast.wu.send_text("Door lock broken")
    alert = await cast.manager.wait_for("#1001")
    assert alert.buttons == [[("Accept", "accept:1"), ("Resolved", "resolve:1")]]
    await cast.wu.wait_for("We are assigning a butler now")
    await cast.wu.send_text("It is the front door")
    assert "passed to the managers" in (await cast.wu.wait_for("Added to ticket #1001")).content
    await cast.manager.wait_for("It is the front door")

    await cast.manager.press(alert, "Accept")
    await cast.wu.wait_for("accepted by manager Manager Liu")
    await cast.manager.press(alert, "Resolved")
    question = await cast.wu.wait_for("Is it resolved for you?")
    assert question.text is not None and question.text.startswith(
        "Manager Manager Liu says ticket #1001 is resolved"
    )
    async with estate.db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(tickets.c.state, tickets.c.butler_id).where(tickets.c.number == 1001)
            )
        ).first()
        manager_id = (await conn.execute(sa.select(people.c.id).where(people.c.telegram_id == 900))).scalar()
    assert row is not None and (row.state, row.butler_id) == ("resolved", manager_id)


async def test_staff_on_the_same_ticket_hear_each_other(estate: EmbeddedEstate, cast: Cast) -> None:
    await cast.chen.send_text("Complaint: the renovation upstairs starts at 7am")  # a VIP's complaint
    card = await cast.b1.wait_for("#1001")
    alert = await cast.manager.wait_for("#1001")
    await cast.manager.send_text("I have spoken to them: no work before 9.", reply_to=alert)
    from_manager = await cast.chen.wait_for("#1001 · Manager Manager Liu: I have spoken to them")
    copy = await cast.b1.wait_for("no work before 9")
    assert copy.text == "#1001 · Manager Manager Liu → Owner Chen: I have spoken to them: no work before 9."
    await cast.b1.send_text("I will check on them tomorrow at 8:50.", reply_to=card)
    await cast.chen.wait_for("check on them tomorrow")
    await cast.manager.wait_for(
        "#1001 · Butler Butler B1 → Owner Chen: I will check on them tomorrow at 8:50."
    )
    await cast.chen.send_text("Thank you both", reply_to=from_manager)
    await cast.b1.wait_for("#1001 · 3-502 Owner Chen: Thank you both")
    await cast.manager.wait_for("#1001 · 3-502 Owner Chen: Thank you both")


async def test_a_resolved_ticket_waiting_for_confirmation_is_not_overdue(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("Tap broken")
    await cast.zhang.send_text("Also a question: when is the pool open?")
    card = await cast.a1.wait_for("#1001")
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    clock.advance(timedelta(days=1))
    await cast.a1.press(card, "Resolved")
    await cast.zhang.wait_for("Is it resolved")
    # Past the committed time (22 Nov 09:00), within the two days the resident has to confirm.
    clock.advance(timedelta(days=1, hours=1))
    await cast.manager.send_command("/digest")
    digest = await cast.manager.wait_for("Today so far")
    assert "Overdue now: 0" in digest.content
    await cast.a1.send_command("/tasks")
    tasks = await cast.a1.wait_for("My open tasks")
    assert "awaiting the resident's confirmation" in tasks.content and "overdue" not in tasks.content
