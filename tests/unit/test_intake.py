"""Durable intake, below the Application: storing, deduplicating, rejecting, and the claim that makes
handling happen once."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bot import strangers, well_formed
from bot.clock import ManualClock
from bot.intake import Intake
from storage import updates as stored
from storage.database import Database
from storage.schema import access_attempts, updates

ZHANG = {"id": 1101, "is_bot": False, "first_name": "Zhang", "language_code": "en"}
STRANGER = {"id": 666, "is_bot": False, "first_name": "Mallory"}


def message(update_id: int, text: str, sender: dict[str, Any] = ZHANG, **extra: Any) -> dict[str, Any]:
    chat = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
    return {
        "update_id": update_id,
        "message": {"message_id": 7, "date": 1763600000, "chat": chat, "from": sender, "text": text, **extra},
    }


class NoApplication:
    """Intake.store never touches the Application; handling is tested end to end."""

    bot = None


def intake_over(db: Database, clock: ManualClock) -> Intake:
    return Intake(db, clock, NoApplication())  # type: ignore[arg-type]


async def rows(db: Database) -> list[Any]:
    async with db.read() as conn:
        return list((await conn.execute(sa.select(updates).order_by(updates.c.update_id))).all())


async def test_an_update_sent_again_is_kept_once_and_the_highest_id_acknowledged(
    rostered_db: Database, clock: ManualClock
) -> None:
    intake = intake_over(rostered_db, clock)
    assert await intake.store([message(5, "Tap dripping"), message(6, "And the sink")]) == 6
    # Telegram sends both again (the acknowledgement never arrived), and one new one.
    assert await intake.store([message(5, "Tap dripping"), message(6, "And the sink"), message(7, "x")]) == 7
    kept = await rows(rostered_db)
    assert [(row.update_id, row.status) for row in kept] == [
        (5, "received"),
        (6, "received"),
        (7, "received"),
    ]
    assert kept[0].payload["message"]["text"] == "Tap dripping"


async def test_a_malformed_update_is_kept_as_rejected_without_its_content(
    rostered_db: Database, clock: ManualClock
) -> None:
    intake = intake_over(rostered_db, clock)
    wrong_id = message(8, "Tap dripping")
    wrong_id["message"]["message_id"] = "seven"
    highest = await intake.store(
        [wrong_id, {"update_id": 9, "poll": {}}, {"no_id": True}, "not even an object", message(10, "fine")]
    )
    assert highest == 10
    kept = await rows(rostered_db)
    assert [(row.update_id, row.status, row.payload, row.error) for row in kept[:2]] == [
        (8, "rejected", None, "message: message_id: not an integer"),
        (9, "rejected", None, "'poll' was not asked for"),
    ]
    assert (kept[2].update_id, kept[2].status) == (10, "received")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"update_id": True, "message": {}}, "update_id is not an integer"),
        ({"update_id": 1}, "not exactly one kind of update"),
        (message(1, "hi", chat_extra=1) | {"edited_message": {}}, "not exactly one kind of update"),
        (message(1, "x" * (well_formed.MAX_TEXT + 1)), "message: text: too long"),
        (message(1, "a\x00b"), "message: text: contains a NUL character"),
        (
            message(1, "hi", location={"latitude": 91, "longitude": 0}),
            "message: location: latitude: out of range",
        ),
        (message(1, "hi", photo=[{"file_id": 3}]), "message: photo: [0] file_id: not a string"),
        (
            message(
                1, "hi", reply_to_message={"message_id": 1, "date": 0, "chat": {"id": "x", "type": "private"}}
            ),
            "message: reply_to_message: chat: id: not an integer",
        ),
        (
            {
                "update_id": 1,
                "callback_query": {"id": "q", "from": ZHANG, "chat_instance": "c", "data": "é" * 40},
            },
            "callback_query: data: too long",
        ),
        (message(1, "y" * 200_000), "too large"),
    ],
)
def test_what_makes_an_update_malformed(raw: dict[str, Any], problem: str) -> None:
    assert well_formed.flaw(raw) == problem


def test_a_well_formed_update_has_no_flaw() -> None:
    query = {
        "id": "q1",
        "from": ZHANG,
        "chat_instance": "c",
        "data": "accept:1",
        "message": message(1, "x")["message"],
    }
    assert well_formed.flaw(message(1, "Tap dripping", entities=[])) is None
    assert well_formed.flaw({"update_id": 2, "callback_query": query}) is None


async def test_a_strangers_words_are_not_kept_only_who_and_which_command(
    rostered_db: Database, clock: ManualClock
) -> None:
    intake = intake_over(rostered_db, clock)
    await intake.store(
        [
            message(1, "My phone is 555-0100, let me in", STRANGER),
            message(3, "/help@guanjia_bot 555-0100", STRANGER),
            message(2, "/start ABCD2345EFGH6789 and my phone 555-0100", STRANGER),
            message(4, "My phone is 139-1111-0101"),  # Zhang is on the roster: his message is kept whole
        ]
    )
    kept = {row.update_id: row.payload["message"] for row in await rows(rostered_db)}
    assert "text" not in kept[1] and kept[1]["from"] == STRANGER
    assert kept[2]["text"] == "/start ABCD2345EFGH6789"
    assert kept[2]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert kept[3]["text"] == "/help@guanjia_bot"
    assert kept[4]["text"] == "My phone is 139-1111-0101"
    assert strangers.sender_id(message(1, "x", STRANGER)) == 666


async def test_the_first_decision_claims_the_update_and_a_second_run_stops_there(
    rostered_db: Database, clock: ManualClock
) -> None:
    await intake_over(rostered_db, clock).store([message(5, "Tap dripping")])
    first = stored.InHand(5, clock.now())
    with stored.handling(first):
        async with rostered_db.begin() as conn:  # the decision: here, noting an attempt
            await conn.execute(access_attempts.insert().values(telegram_id=1, at=clock.now(), kind="x"))
        async with rostered_db.begin() as conn:  # a later transaction of the same update claims nothing more
            await conn.execute(access_attempts.insert().values(telegram_id=2, at=clock.now(), kind="x"))
    assert first.claimed
    [row] = await rows(rostered_db)
    assert row.status == "handled"

    # The process died before it could note that; the update is handled again after the restart.
    with stored.handling(stored.InHand(5, clock.now())), pytest.raises(stored.UpdateAlreadyHandled):
        async with rostered_db.begin() as conn:
            await conn.execute(access_attempts.insert().values(telegram_id=3, at=clock.now(), kind="x"))
    async with rostered_db.read() as conn:
        noted = (await conn.execute(sa.select(access_attempts.c.telegram_id))).scalars().all()
    assert noted == [1, 2]


async def test_a_decision_that_rolls_back_leaves_the_update_to_the_next_one(
    rostered_db: Database, clock: ManualClock
) -> None:
    await intake_over(rostered_db, clock).store([message(5, "Tap dripping")])
    in_hand = stored.InHand(5, clock.now())
    with stored.handling(in_hand):
        with pytest.raises(RuntimeError):
            async with rostered_db.begin():
                raise RuntimeError("the decision failed")
        assert not in_hand.claimed
        [row] = await rows(rostered_db)
        assert row.status == "received"
        async with rostered_db.begin():
            pass
    assert in_hand.claimed
    [row] = await rows(rostered_db)
    assert row.status == "handled"


async def test_transactions_outside_an_update_claim_nothing(
    rostered_db: Database, clock: ManualClock
) -> None:
    await intake_over(rostered_db, clock).store([message(5, "Tap dripping")])
    async with rostered_db.begin():  # the timekeeper, the sender: not on behalf of an update
        pass
    [row] = await rows(rostered_db)
    assert row.status == "received"


async def test_settled_updates_are_forgotten_after_three_days_waiting_ones_never(
    rostered_db: Database, clock: ManualClock
) -> None:
    from datetime import timedelta

    intake = intake_over(rostered_db, clock)
    await intake.store([message(1, "old and handled"), message(2, "old and waiting")])
    async with rostered_db.begin() as conn:
        await stored.settle(conn, 1, stored.HANDLED, now=clock.now(), error=None)
    clock.advance(timedelta(days=3, minutes=1))
    await intake.store([message(3, "new")])
    async with rostered_db.begin() as conn:
        assert await stored.forget_before(conn, clock.now() - timedelta(days=3)) == 1
    assert [row.update_id for row in await rows(rostered_db)] == [2, 3]


async def test_a_new_residents_words_sent_right_after_their_invite_code_are_kept(
    rostered_db: Database, clock: ManualClock
) -> None:
    intake = intake_over(rostered_db, clock)
    # Both arrive before the /start is handled: the second may be the new resident's first request.
    await intake.store(
        [message(1, "/start ABCD2345EFGH6789", STRANGER), message(2, "Tap dripping", STRANGER)]
    )
    await intake.store([message(3, "Also the sink", STRANGER)])
    kept = {row.update_id: row.payload["message"] for row in await rows(rostered_db)}
    assert kept[2]["text"] == "Tap dripping" and kept[3]["text"] == "Also the sink"
    async with rostered_db.begin() as conn:
        await stored.settle(conn, 1, stored.HANDLED, now=clock.now(), error=None)
    await intake.store([message(4, "Now just a stranger again", STRANGER)])
    kept = {row.update_id: row.payload for row in await rows(rostered_db)}
    assert "text" not in kept[4]["message"]


async def test_text_that_is_not_valid_unicode_is_rejected_not_a_crash(
    rostered_db: Database, clock: ManualClock
) -> None:
    intake = intake_over(rostered_db, clock)
    assert await intake.store([message(1, "lone \ud800 surrogate"), message(2, "fine")]) == 2
    assert [(row.update_id, row.status, row.error) for row in await rows(rostered_db)] == [
        (1, "rejected", "not valid JSON text"),
        (2, "received", None),
    ]


async def test_the_newest_update_is_kept_however_old_as_the_mark_of_how_far_updates_were_taken(
    rostered_db: Database, clock: ManualClock
) -> None:
    from datetime import timedelta

    intake = intake_over(rostered_db, clock)
    await intake.store([message(1, "handled"), message(2, "handled too")])
    async with rostered_db.begin() as conn:
        for update_id in (1, 2):
            await stored.settle(conn, update_id, stored.HANDLED, now=clock.now(), error=None)
    clock.advance(timedelta(days=10))
    async with rostered_db.begin() as conn:
        assert await stored.forget_before(conn, clock.now() - timedelta(days=3)) == 1
        assert await stored.highest_id(conn) == 2
