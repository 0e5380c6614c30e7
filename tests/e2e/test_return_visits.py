"""After "resolved": auto-close, the satisfaction survey, the phone return visit and second service."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.clock import ManualClock
from bot.embedded import EmbeddedEstate
from bot.sandbox.models import ChatMessage
from storage.schema import clocks, follow_ups, tickets
from tests.conftest import Cast
from tests.e2e.records import alerts, at, event_kinds, person_id, ticket_row

MOVED_ON = "This ticket has moved on; the button no longer applies"
NOT_YOURS = "This is not your ticket; nothing was changed"
STARS = ["★", "★★", "★★★", "★★★★", "★★★★★"]


def _star_row(verb: str, target: int) -> list[tuple[str, str]]:
    return [(label, f"{verb}:{target}:{n}") for n, label in enumerate(STARS, start=1)]


def _visit_buttons(follow_up: int) -> list[list[tuple[str, str]]]:
    return [_star_row("visit", follow_up), [("Would not rate", f"visit:{follow_up}:0")]]


# ---- looking in the database ---------------------------------------------------------------------------


async def _follow_ups(estate: EmbeddedEstate) -> list[Any]:
    async with estate.db.engine.connect() as conn:
        return list(await conn.execute(sa.select(follow_ups).order_by(follow_ups.c.id)))


async def _clocks(estate: EmbeddedEstate, status: str) -> dict[str, datetime]:
    """The ticket clocks in one status, by kind (the latest of each kind)."""
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.kind, clocks.c.due_at)
            .where(clocks.c.status == status, clocks.c.ticket_id.is_not(None))
            .order_by(clocks.c.id)
        )
        return {row.kind: row.due_at for row in rows}


# ---- getting a ticket to where each test starts ----------------------------------------------------------


async def _resolved(cast: Cast) -> ChatMessage:
    """Zhang's tap ticket #1001, resolved by A1 at once: returns Zhang's "Is it resolved?" question."""
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.a1.press(card, "Resolved")
    question = await cast.zhang.wait_for("Is it resolved for you?")
    assert question.buttons == [[("Yes, resolved", "confirm:1"), ("Not yet", "reopen:1")]]
    return question


async def _confirmed(cast: Cast) -> ChatMessage:
    """#1001 resolved and confirmed at 20 Nov 09:00: returns the first survey question Zhang got."""
    await cast.zhang.press(await _resolved(cast), "Yes, resolved")
    survey = await cast.zhang.wait_for("Thank you for confirming!")
    assert survey.buttons == [_star_row("rate", 1)]
    await cast.a1.wait_for("Owner Zhang confirmed ticket #1001 is resolved.")
    return survey


async def _phone_task(cast: Cast, clock: ManualClock) -> ChatMessage:
    """The survey goes unanswered: a day on the reminder, two more days on A1's call task."""
    await _confirmed(cast)
    clock.advance(timedelta(days=1))
    await cast.zhang.wait_for("A reminder about ticket #1001")
    clock.advance(timedelta(days=2))
    return await cast.a1.wait_for("Return visit due: ticket #1001")


# ---- closing without an answer ---------------------------------------------------------------------------


async def test_a_resolved_ticket_nobody_confirms_closes_itself_after_two_days(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    question = await _resolved(cast)
    await estate.settled()
    heard = {user: len(alerts(user)) for user in (cast.zhang, cast.a1, cast.manager)}

    # A minute short of the two days: nothing happens yet.
    clock.advance(timedelta(days=2) - timedelta(minutes=1))
    await estate.settled()
    assert {user: len(alerts(user)) for user in heard} == heard
    assert (await ticket_row(estate)).state == "resolved"
    assert question.buttons == [[("Yes, resolved", "confirm:1"), ("Not yet", "reopen:1")]]

    clock.advance(timedelta(minutes=1))
    survey = await cast.zhang.wait_for("now closed as resolved")
    assert survey.text == (
        "We have not heard back, so ticket #1001 is now closed as resolved. "
        "If anything is still wrong, just write to us.\n"
        "How would you rate the service (1–5 stars)?"
    )
    assert survey.buttons == [_star_row("rate", 1)]
    notice = await cast.a1.wait_for("Ticket #1001 closed")
    assert notice.text == (
        "Ticket #1001 closed: Owner Zhang did not answer within the confirmation time, "
        "so it counts as confirmed."
    )
    await estate.settled()
    # The question no longer offers answers that do not apply.
    assert question.buttons == []
    row = await ticket_row(estate)
    assert (row.state, row.closed_at, row.rating, row.return_visit_at) == ("closed", clock.now(), None, None)
    assert await event_kinds(estate) == ["created", "assigned", "accepted", "resolved", "closed_unconfirmed"]
    assert (await _clocks(estate, "fired"))["confirm"] == clock.now()
    # The survey starts as after any close.
    assert await _clocks(estate, "pending") == {
        "survey_reminder": clock.now() + timedelta(days=1),
        "survey_give_up": clock.now() + timedelta(days=3),
    }
    assert len(alerts(cast.manager)) == heard[cast.manager]

    # The old "Yes, resolved", pressed from an outdated screen, changes nothing.
    heard = {user: len(alerts(user)) for user in heard}
    answer = await cast.zhang.wait_for_answer(await cast.zhang.press_data(question, "confirm:1"))
    assert answer.get("text") == MOVED_ON
    await estate.settled()
    assert {user: len(alerts(user)) for user in heard} == heard
    assert (await event_kinds(estate))[-1] == "closed_unconfirmed"


# ---- the survey ------------------------------------------------------------------------------------------


async def test_an_unanswered_survey_is_asked_again_after_a_day_and_that_answer_counts(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    first = await _confirmed(cast)
    clock.advance(timedelta(days=1))
    reminder = await cast.zhang.wait_for("A reminder about ticket #1001")
    assert reminder.text == (
        "A reminder about ticket #1001: how would you rate the service (1–5 stars)? "
        "Your answer helps us do better."
    )
    assert reminder.buttons == [_star_row("rate", 1)]

    clock.advance(timedelta(hours=2))
    answer = await cast.zhang.wait_for_answer(await cast.zhang.press(reminder, "★★★★"))
    assert answer.get("text") == "Done"
    thanks = await cast.zhang.wait_for("Thank you for your rating (★★★★)")
    assert thanks.force_reply
    await cast.a1.wait_for("Owner Zhang rated ticket #1001 4 stars.")
    await estate.settled()
    assert reminder.buttons == []
    row = await ticket_row(estate)
    assert (row.rating, row.return_visit_by, row.return_visit_at) == (4, "survey", clock.now())
    assert (await event_kinds(estate))[-1] == "rated"
    # One answer is enough: the first survey's stars cannot rate it a second time.
    answer = await cast.zhang.wait_for_answer(await cast.zhang.press_data(first, "rate:1:1"))
    assert answer.get("text") == MOVED_ON
    assert (await ticket_row(estate)).rating == 4

    # Answered, so the butler is never asked to call.
    assert await _clocks(estate, "pending") == {}
    clock.advance(timedelta(days=3))
    await estate.settled()
    assert all("Return visit due" not in m.content for m in cast.a1.inbox)
    assert await _follow_ups(estate) == []
    assert "survey_unanswered" not in await event_kinds(estate)
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.kind, clocks.c.status).where(clocks.c.kind.like("survey%"))
        )
        survey_clocks = {row.kind: row.status for row in rows}
    assert survey_clocks == {"survey_reminder": "fired", "survey_give_up": "cancelled"}


# ---- the return visit by phone ---------------------------------------------------------------------------


async def test_a_survey_nobody_answers_becomes_the_butlers_phone_call(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    task = await _phone_task(cast, clock)
    assert task.text == (
        "📞 Return visit due: ticket #1001\n"
        "Owner Zhang has not answered the satisfaction survey. Please call and ask how the service was.\n"
        "Unit: 1-101  Owner: Owner Zhang  Phone: 139-1111-0101\n"
        "Request: The kitchen tap is broken and dripping\n"
        "\n"
        "Record the rating they give below; reply to this message with notes from the call (kept on the "
        "ticket, not sent to the resident)."
    )
    assert task.buttons == _visit_buttons(1)
    await estate.settled()
    a1 = await person_id(estate, 101)
    (visit,) = await _follow_ups(estate)
    assert (visit.kind, visit.butler_id, visit.created_at, visit.done_at) == (
        "return_visit",
        a1,
        clock.now(),
        None,
    )
    assert (await event_kinds(estate))[-1] == "survey_unanswered"
    assert (await ticket_row(estate)).return_visit_at is None

    # The call waits in A1's open tasks until it is recorded.
    await cast.a1.send_command("/tasks")
    tasks = await cast.a1.wait_for("Follow-ups")
    assert "No open tasks right now." in tasks.content
    assert "Follow-ups (1)\n#1001 · return visit by phone · since 23 Nov 09:00" in tasks.content

    clock.advance(timedelta(hours=1))
    answer = await cast.a1.wait_for_answer(await cast.a1.press(task, "★★★★"))
    assert answer.get("text") == "Done"
    recorded = await cast.a1.wait_for("Return visit for ticket #1001 recorded")
    assert recorded.text == "Return visit for ticket #1001 recorded: ★★★★. Thank you."
    await estate.settled()
    assert task.buttons == []
    row = await ticket_row(estate)
    assert (row.rating, row.return_visit_by, row.return_visit_at) == (4, "phone", clock.now())
    (visit,) = await _follow_ups(estate)
    assert (visit.done_at, visit.done_by, visit.result) == (clock.now(), a1, {"by": "phone", "stars": 4})
    assert (await event_kinds(estate))[-1] == "return_visit"
    assert await _clocks(estate, "pending") == {}
    # A good rating needs no second service; nobody else hears of the call.
    assert alerts(cast.manager) == []
    assert all("Second service" not in m.content for m in cast.a1.inbox)

    # Pressed again, the data is refused.
    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(task, "visit:1:4"))
    assert answer.get("text") == MOVED_ON
    await cast.a1.send_command("/tasks")
    await cast.a1.wait_for(lambda m: m.content == "No open tasks right now.")

    # Every closed ticket has had its return visit: the rate is 100 %.
    async with estate.db.engine.connect() as conn:
        closed, visited = (
            await conn.execute(
                sa.select(sa.func.count(), sa.func.count(tickets.c.return_visit_at)).where(
                    tickets.c.state == "closed"
                )
            )
        ).one()
    assert (closed, visited) == (1, 1)


async def test_a_resident_who_would_not_rate_still_counts_as_visited(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    task = await _phone_task(cast, clock)
    await cast.a1.press(task, "Would not rate")
    recorded = await cast.a1.wait_for("Return visit for ticket #1001 recorded")
    assert recorded.text == "Return visit for ticket #1001 recorded. Thank you."
    await estate.settled()
    assert task.buttons == []
    row = await ticket_row(estate)
    assert (row.rating, row.return_visit_by, row.return_visit_at) == (None, "phone", clock.now())
    (visit,) = await _follow_ups(estate)
    assert (visit.done_at, visit.result) == (clock.now(), {"by": "phone", "stars": None})
    # No rating is no low rating.
    assert alerts(cast.manager) == []
    assert "second_service" not in await event_kinds(estate)


# ---- second service --------------------------------------------------------------------------------------


async def test_a_low_rating_sends_the_butler_back_and_the_managers_hear_when_it_is_done(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    survey = await _confirmed(cast)
    await cast.zhang.press(survey, "★★")
    await cast.zhang.wait_for("Thank you for your rating (★★)")

    alert = await cast.manager.wait_for("Second service needed: ticket #1001")
    assert (
        alert.text
        == "⚠️ Second service needed: ticket #1001 (repair)\nOwner Zhang rated it ★★.\nButler: Butler A1"
    )
    task = await cast.a1.wait_for("Second service: ticket #1001")
    assert task.text == (
        "🔁 Second service: ticket #1001\n"
        "Owner Zhang rated it ★★. Please get in touch, find out what went wrong and put it right; "
        "the managers have been told.\n"
        "Reply to this message to write to Owner Zhang; press the button when you have been back."
    )
    assert task.buttons == [[("Been back: done", "served:1")]]
    await estate.settled()
    a1 = await person_id(estate, 101)
    (service,) = await _follow_ups(estate)
    assert (service.kind, service.butler_id, service.done_at) == ("second_service", a1, None)
    assert (await event_kinds(estate))[-2:] == ["rated", "second_service"]

    clock.advance(timedelta(hours=5))
    answer = await cast.a1.wait_for_answer(await cast.a1.press(task, "Been back: done"))
    assert answer.get("text") == "Done"
    done = await cast.manager.wait_for("Second service on ticket #1001 done")
    assert done.text == "Second service on ticket #1001 done: Butler A1 has been back to the resident."
    await estate.settled()
    assert task.buttons == []
    (service,) = await _follow_ups(estate)
    assert (service.done_at, service.done_by, service.result) == (clock.now(), a1, {"done": True})
    assert (await event_kinds(estate))[-1] == "second_service_done"

    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(task, "served:1"))
    assert answer.get("text") == MOVED_ON
    await estate.settled()
    assert sum("Second service on ticket #1001 done" in m.content for m in alerts(cast.manager)) == 1


async def test_one_star_on_the_phone_also_calls_for_second_service(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    task = await _phone_task(cast, clock)
    await cast.a1.press(task, "★")
    recorded = await cast.a1.wait_for("Return visit for ticket #1001 recorded")
    assert recorded.text == "Return visit for ticket #1001 recorded: ★. Thank you."

    alert = await cast.manager.wait_for("Second service needed: ticket #1001")
    assert "Owner Zhang rated it ★." in alert.content
    second = await cast.a1.wait_for("Second service: ticket #1001")
    assert second.buttons == [[("Been back: done", "served:2")]]
    await estate.settled()
    visit, service = await _follow_ups(estate)
    assert (visit.kind, visit.done_at is not None) == ("return_visit", True)
    assert (service.kind, service.done_at) == ("second_service", None)
    row = await ticket_row(estate)
    assert (row.rating, row.return_visit_by) == (1, "phone")
    assert (await event_kinds(estate))[-2:] == ["return_visit", "second_service"]


async def test_a_reopen_after_resolve_alerts_the_managers_and_gives_a_fresh_commitment(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")  # due 22 Nov 09:00
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    clock.advance(timedelta(days=1))
    await cast.a1.press(card, "Resolved")
    question = await cast.zhang.wait_for("Is it resolved for you?")
    clock.advance(timedelta(hours=1))  # 21 Nov 10:00
    await cast.zhang.press(question, "Not yet")

    alert = await cast.manager.wait_for("Second service needed: ticket #1001")
    assert alert.text == (
        "⚠️ Second service needed: ticket #1001 (repair)\n"
        "Owner Zhang says it is not resolved; it is open again.\n"
        "Butler: Butler A1"
    )
    # Two days from the reopen, later than the day left of the first commitment.
    reopened = await cast.zhang.wait_for("is open again")
    assert reopened.content.endswith("You will hear back by 23 Nov 10:00.")
    await cast.a1.wait_for("is not resolved yet")
    await estate.settled()
    row = await ticket_row(estate)
    assert (row.state, row.due_at, row.reopen_count, row.overdue_at) == ("accepted", at(23, 10), 1, None)
    assert await _clocks(estate, "pending") == {"remind": at(23, 6), "lapse": at(23, 10)}
    assert (await event_kinds(estate))[-2:] == ["reopened", "second_service"]

    # The first commitment's moment passes quietly; the fresh one is what lapses.
    clock.advance(timedelta(days=1))  # 22 Nov 10:00
    await estate.settled()
    assert all("overdue" not in m.content for m in cast.a1.inbox)
    clock.advance(timedelta(days=1))  # 23 Nov 10:00
    overdue = await cast.a1.wait_for("is overdue")
    assert "it was due by 23 Nov 10:00" in overdue.content


async def test_a_reopen_never_brings_a_moved_commitment_forward(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    await cast.zhang.send_text("The kitchen tap is broken and dripping")
    card = await cast.a1.wait_for("New ticket #1001")
    await cast.a1.press(card, "Accept")
    await cast.zhang.wait_for("accepted by your butler")
    await cast.a1.press(card, "Move committed time")
    ask = await cast.a1.wait_for("Move the committed time of ticket #1001")
    await cast.a1.send_text("11-26 18:00 waiting for the spare part", reply_to=ask)
    await cast.zhang.wait_for("You will now hear back by 26 Nov 18:00")
    await cast.a1.press(card, "Resolved")
    await cast.zhang.press(await cast.zhang.wait_for("Is it resolved for you?"), "Not yet")

    reopened = await cast.zhang.wait_for("is open again")
    assert reopened.content.endswith("You will hear back by 26 Nov 18:00.")
    await cast.manager.wait_for("Second service needed: ticket #1001")
    await estate.settled()
    assert (await ticket_row(estate)).due_at == at(26, 18)
    assert await _clocks(estate, "pending") == {"remind": at(26, 14), "lapse": at(26, 18)}


# ---- who may record a visit ------------------------------------------------------------------------------


async def test_only_the_butler_given_the_call_or_a_manager_may_record_it(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    task = await _phone_task(cast, clock)

    # Another butler of the same team, with the button data forged onto a message of their own.
    await cast.a2.send_command("/tasks")
    own = await cast.a2.wait_for("No open tasks right now.")
    answer = await cast.a2.wait_for_answer(await cast.a2.press_data(own, "visit:1:5"))
    assert answer.get("text") == NOT_YOURS
    await estate.settled()
    (visit,) = await _follow_ups(estate)
    assert visit.done_at is None
    row = await ticket_row(estate)
    assert (row.rating, row.return_visit_at) == (None, None)
    assert task.buttons == _visit_buttons(1)

    # A manager may record the call on the butler's behalf.
    await cast.manager.send_command("/digest")
    digest = await cast.manager.wait_for("Today so far")
    answer = await cast.manager.wait_for_answer(await cast.manager.press_data(digest, "visit:1:5"))
    assert answer.get("text") == "Done"
    recorded = await cast.manager.wait_for("Return visit for ticket #1001 recorded")
    assert recorded.text == "Return visit for ticket #1001 recorded: ★★★★★. Thank you."
    await estate.settled()
    row = await ticket_row(estate)
    assert (row.rating, row.return_visit_by, row.return_visit_at) == (5, "phone", clock.now())
    (visit,) = await _follow_ups(estate)
    assert (visit.done_at, visit.done_by) == (clock.now(), await person_id(estate, 900))

    # The butler's own buttons now meet a visit already made.
    answer = await cast.a1.wait_for_answer(await cast.a1.press_data(task, "visit:1:3"))
    assert answer.get("text") == MOVED_ON
    assert (await ticket_row(estate)).rating == 5
