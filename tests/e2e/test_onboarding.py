"""Who may talk to the bot: invite codes, known people, strangers."""

from __future__ import annotations

import sqlalchemy as sa

from bot.embedded import EmbeddedEstate
from storage.schema import access_attempts, outbox, people, tickets
from tests.conftest import Cast


async def test_an_invite_code_binds_the_account_once(estate: EmbeddedEstate, cast: Cast) -> None:
    code = estate.invite_for("Owner Zhou")
    await cast.zhou.send_command("/start", code)
    welcome = await cast.zhou.wait_for("Hello Owner Zhou!")
    assert "Send /my to see your tickets." in welcome.content
    await estate.settled()
    assert estate.sandbox.commands["chat:2201"] == [
        {"command": "my", "description": "My tickets"},
        {"command": "services", "description": "Paid services and their prices"},
        {"command": "language", "description": "Language: 简体中文 or English"},
        {"command": "help", "description": "How this works"},
    ]
    # Now a known owner: a request goes to team B.
    await cast.zhou.send_text("The parking gate does not work")
    await cast.b1.wait_for("#1001")

    # The same code a second time, from another account, binds nothing.
    await cast.stranger.send_command("/start", code)
    refusal = await cast.stranger.wait_for("not valid")
    assert refusal.text == (
        "Sorry, this invite code is not valid, already used or expired. "
        "Please ask the service centre for a new one."
    )
    async with estate.db.engine.connect() as conn:
        bound = (
            await conn.execute(sa.select(people.c.telegram_id).where(people.c.name == "Owner Zhou"))
        ).scalar()
    assert bound == 2201


async def test_each_role_gets_its_own_command_menu(estate: EmbeddedEstate, cast: Cast) -> None:
    for user in (cast.a1, cast.manager, cast.zhang):
        await user.send_command("/start")
    await cast.manager.wait_for("Hello Manager Liu!")
    await estate.settled()
    menus = estate.sandbox.commands
    assert [c["command"] for c in menus["chat:101"]] == ["tasks", "duty", "ticket", "language", "help"]
    assert [c["command"] for c in menus["chat:900"]] == [
        "digest",
        "report",
        "overdue",
        "fees",
        "ticket",
        "export",
        "announce",
        "language",
        "help",
    ]
    assert [c["command"] for c in menus["chat:1101"]] == ["my", "services", "language", "help"]
    assert [c["command"] for c in menus["default"]] == ["start", "help"]


async def test_a_stranger_is_refused_politely_and_nothing_but_the_attempt_is_kept(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.stranger.send_text("Hi, my phone is 555-0100, please fix my sink")
    refusal = await cast.stranger.wait_for("only for the registered")
    assert "ask the service centre for an invite code" in refusal.content
    await cast.stranger.send_command("/my")  # within the minute: noted, but not answered again
    await estate.settled()
    assert len(cast.stranger.inbox) == 1
    async with estate.db.engine.connect() as conn:
        attempts = (await conn.execute(sa.select(access_attempts))).all()
        assert [(a.telegram_id, a.kind, a.answered) for a in attempts] == [
            (666, "message", True),
            (666, "command", False),
        ]
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar() == 0
        # The one refusal went through the outbox, like every message the bot sends.
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.chat_id == 666))
        ).scalar() == 1
    # Nothing they wrote is anywhere in the database.
    files = [estate.db_path, estate.db_path.with_name("guanjia.db-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert b"555-0100" not in raw


async def test_the_wrong_audience_for_a_command_gets_a_clear_answer(
    estate: EmbeddedEstate, cast: Cast
) -> None:
    await cast.zhang.send_command("/tasks")
    await cast.zhang.wait_for("That command is not for your account.")
    await cast.a1.send_command("/digest")
    await cast.a1.wait_for("That command is not for your account.")
    await cast.manager.send_command("/frobnicate")
    await cast.manager.wait_for("Sorry, I don't know that command.")
