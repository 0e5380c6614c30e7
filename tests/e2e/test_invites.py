"""Invite codes: not guessable, single use, valid 7 days, and an account that keeps guessing is stopped.

Strangers are refused politely through the outbox, at most once a minute however often they write; each
attempt is noted (who, when, what kind), never what they wrote.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot import roster
from bot.clock import ManualClock
from bot.config import Config, config_from_dict
from bot.embedded import EmbeddedEstate, load_roster
from bot.texts import Texts
from storage.database import Database
from storage.schema import access_attempts, estates, invites, outbox, people
from tests.conftest import ROSTER, SHANGHAI, Cast
from tests.e2e.records import at

INVALID = (
    "Sorry, this invite code is not valid, already used or expired. "
    "Please ask the service centre for a new one."
)
STRANGER = (
    "Hello! This service is only for the registered owners, residents and staff of this estate.\n"
    "If you live here, please ask the service centre for an invite code, "
    "then send /start followed by the code."
)


def locked(until: str) -> str:
    return (
        f"Sorry, too many invite codes were tried from this account. Please try again after {until}, "
        "or ask the service centre for a new code."
    )


async def _bound_to(estate: EmbeddedEstate, name: str) -> int | None:
    async with estate.db.engine.connect() as conn:
        found = await conn.execute(
            sa.select(people.c.telegram_id).where(people.c.name == name, people.c.active)
        )
        return found.scalar()


async def _attempts(estate: EmbeddedEstate, telegram_id: int) -> list[tuple[str, bool]]:
    async with estate.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(access_attempts.c.kind, access_attempts.c.answered)
            .where(access_attempts.c.telegram_id == telegram_id)
            .order_by(access_attempts.c.id)
        )
        return [(row.kind, bool(row.answered)) for row in rows]


def test_a_code_is_80_random_bits() -> None:
    assert len(set(roster.INVITE_ALPHABET)) == len(roster.INVITE_ALPHABET) == 32
    assert roster.INVITE_LENGTH * math.log2(len(roster.INVITE_ALPHABET)) == 80
    codes = {roster.new_invite_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 16 and set(code) <= set(roster.INVITE_ALPHABET) for code in codes)
    # Every symbol turns up, in every place: drawn from `secrets`, not a pattern.
    assert all({code[place] for code in codes} == set(roster.INVITE_ALPHABET) for place in range(16))


def test_a_code_is_valid_for_7_days_unless_configured() -> None:
    assert Config().invite_valid_for == timedelta(days=7)
    assert config_from_dict({}).invite_valid_for == timedelta(days=7)
    assert config_from_dict({"invites": {"valid_for": "2d"}}).invite_valid_for == timedelta(days=2)


async def test_a_used_code_is_refused(estate: EmbeddedEstate, cast: Cast) -> None:
    code = estate.invite_for("Owner Zhou")
    await cast.zhou.send_command("/start", code)
    await cast.zhou.wait_for("Hello Owner Zhou!")
    await cast.stranger.send_command("/start", code)
    refusal = await cast.stranger.wait_for("not valid")
    assert refusal.text == INVALID
    # Sending it again from the account it bound only says hello again.
    await cast.zhou.send_command("/start", code)
    await cast.zhou.wait_for_count(2)
    await estate.settled()
    assert cast.zhou.inbox[1].content.startswith("Hello Owner Zhou!")
    assert await _bound_to(estate, "Owner Zhou") == 2201
    assert await _attempts(estate, 666) == [("start_with_code", True)]
    assert await _attempts(estate, 2201) == []


async def test_an_expired_code_is_refused(estate: EmbeddedEstate, cast: Cast, clock: ManualClock) -> None:
    code = estate.invite_for("Owner Zhou")
    async with estate.db.engine.connect() as conn:
        invite = (await conn.execute(sa.select(invites).where(invites.c.code == code))).one()
    assert invite.expires_at - invite.created_at == timedelta(days=7)
    clock.advance(timedelta(days=7))
    await cast.zhou.send_command("/start", code)
    refusal = await cast.zhou.wait_for("not valid")
    assert refusal.text == INVALID
    await estate.settled()
    assert await _bound_to(estate, "Owner Zhou") is None
    async with estate.db.engine.connect() as conn:
        assert (
            await conn.execute(sa.select(invites.c.used_at).where(invites.c.code == code))
        ).scalar() is None


async def test_an_account_that_keeps_guessing_is_stopped_for_the_hour(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    code = estate.invite_for("Owner Zhou")
    for guess in range(5):  # a minute apart, so each is answered
        await cast.zhou.send_command("/start", f"WRONGCODE{guess}ABCDEF")
        await cast.zhou.wait_for_count(guess + 1)
        clock.advance(timedelta(minutes=1))
    assert [m.content for m in cast.zhou.inbox] == [INVALID] * 5

    # 09:05: the right code, but the account has used up its tries until the first one is an hour old.
    await cast.zhou.send_command("/start", code)
    refusal = await cast.zhou.wait_for_count(6)
    assert refusal[-1].content == locked("20 Nov 10:00")
    # Another account is not affected.
    await cast.stranger.send_command("/start", "WRONGCODE9ABCDEF")
    assert (await cast.stranger.wait_for("not valid")).text == INVALID
    # Trying again while stopped does not push the time further.
    clock.set(at(20, 9, 30))
    await cast.zhou.send_command("/start", code)
    assert (await cast.zhou.wait_for_count(7))[-1].content == locked("20 Nov 10:00")
    await estate.settled()
    assert await _bound_to(estate, "Owner Zhou") is None

    clock.set(at(20, 10, 0))
    await cast.zhou.send_command("/start", code)
    await cast.zhou.wait_for("Hello Owner Zhou!")
    await estate.settled()
    assert await _bound_to(estate, "Owner Zhou") == 2201
    assert await _attempts(estate, 2201) == [("start_with_code", True)] * 5 + [("start_locked_out", True)] * 2


async def test_a_stranger_who_floods_is_answered_once_a_minute(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    for n in range(10):
        await cast.stranger.send_text(f"hello {n}")
    await cast.stranger.send_command("/start")
    await cast.stranger.send_command("/start", "WRONGCODE1ABCDEF")
    await estate.settled()
    assert [m.content for m in cast.stranger.inbox] == [STRANGER]
    assert await _attempts(estate, 666) == [
        ("message", True),
        *[("message", False)] * 9,
        ("start", False),
        ("start_with_code", False),
    ]
    clock.advance(timedelta(seconds=59))
    await cast.stranger.send_text("hello again")
    await estate.settled()
    assert len(cast.stranger.inbox) == 1
    clock.advance(timedelta(seconds=1))
    await cast.stranger.send_command("/start", "WRONGCODE2ABCDEF")
    await cast.stranger.wait_for_count(2)
    assert cast.stranger.inbox[-1].content == INVALID
    # Every answer went through the outbox; nothing they wrote was kept.
    async with estate.db.engine.connect() as conn:
        sent = (
            (
                await conn.execute(
                    # In the order queued: the index on (chat, sent message) would put a row not yet
                    # recorded as sent first.
                    sa.select(outbox.c.payload).where(outbox.c.chat_id == 666).order_by(outbox.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert [payload["html"] for payload in sent] == [STRANGER, INVALID]


async def test_someone_back_on_the_roster_under_a_new_entry_joins_with_its_code(
    estate: EmbeddedEstate, cast: Cast, clock: ManualClock
) -> None:
    """Tom moves from Zhang's unit into Sun's: the roster lists him afresh, without his account, so he
    gets a code. His old entry (kept for history) still holds the account; the code moves it over."""
    await cast.tom.send_text("The window is stuck")
    await cast.a1.wait_for("New ticket #1001")
    moved = ROSTER.replace("resident,Resident Tom,,1-101,1102,", "resident,Resident Tom,,1-302,,")
    report = await load_roster(estate.db, moved, Config(), clock)
    code = next(invite.code for invite in report.invites if invite.name == "Resident Tom")
    await cast.tom.send_command("/my")
    assert (await cast.tom.wait_for("only for the registered")).text == STRANGER

    clock.advance(timedelta(minutes=1))
    await cast.tom.send_command("/start", code)
    await cast.tom.wait_for("Hello Resident Tom!")
    await cast.tom.send_text("The balcony door sticks")
    await cast.a1.wait_for("New ticket #1002")
    await estate.settled()
    async with estate.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(people.c.unit, people.c.active, people.c.telegram_id)
                .where(people.c.name == "Resident Tom")
                .order_by(people.c.id)
            )
        ).all()
    assert [tuple(row) for row in rows] == [("1-101", False, None), ("1-302", True, 1102)]


async def test_a_second_estate_cannot_take_an_account_of_the_first(
    tmp_path: Path, clock: ManualClock
) -> None:
    """One account is one person: a roster of another estate naming an account already bound here is
    refused with the reason, and nothing of it is imported (it used to fail on the database's constraint)."""
    db = await Database.open(tmp_path / "two.db")
    try:
        await load_roster(db, ROSTER, Config(), clock)
        riverside = Config(estate_name="Riverside")
        text = (
            "role,name,team,unit,telegram_id,phone,language,vip\n"
            "manager,Manager Ma,,,950,,en,no\n"
            "owner,Owner Zhang,R,1-101,1101,,en,no\n"  # the same name and unit as the other estate's Zhang
            "butler,Butler R1,R,,101,,en,no\n"
        )
        async with db.begin() as conn:
            report = await roster.import_roster(conn, text, riverside, clock.now())
        assert report.errors == [
            "row 3: telegram_id 1101 already belongs to Owner Zhang (owner) of estate 'default'",
            "row 4: telegram_id 101 already belongs to Butler A1 (butler) of estate 'default'",
        ]
        async with db.engine.connect() as conn:
            names = (await conn.execute(sa.select(estates.c.name))).scalars().all()
        assert names == ["default"]
    finally:
        await db.close()


def test_the_stop_is_explained_in_both_languages() -> None:
    texts = Texts(SHANGHAI)
    until = at(20, 10, 0)
    assert texts.render("en", "invite_locked", until=until) == locked("20 Nov 10:00")
    assert texts.render("zh", "invite_locked", until=until) == (
        "抱歉，此账号尝试邀请码的次数过多。请于 11月20日 10:00 之后再试，或向物业服务中心重新索取邀请码。"
    )
