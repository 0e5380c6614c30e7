"""`kill -9` under load: a separate bot process serving many residents is killed several times and
restarted on the same database. Afterwards every message the sandbox handed out became exactly one
ticket or ticket event, and every message the bot committed to send was delivered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.clock import SystemClock
from bot.config import Config
from bot.embedded import load_roster
from bot.sandbox import BotApiSandbox, SandboxUser
from storage.database import Database
from storage.schema import outbox, ticket_events, updates

TOKEN = "777002:crash-under-load-token"
TEAMS = "ABCD"
OWNERS_PER_TEAM = 3  # the concierge model: a team of butlers for three or four owners
MESSAGES_EACH = 12  # under the flood limit of 20 an hour
KILLS = 3


def big_roster() -> str:
    lines = ["role,name,team,unit,telegram_id,phone,language,vip", "manager,Manager Liu,,,900,,en,no"]
    for t, team in enumerate(TEAMS):
        for b in range(1, 3):
            lines.append(f"butler,Butler {team}{b},{team},,{100 * (t + 1) + b},,en,no")
        for o in range(1, OWNERS_PER_TEAM + 1):
            lines.append(f"owner,Owner {team}{o},{team},{t + 1}-{o:02d}01,{5000 + 10 * t + o},,en,no")
    return "\n".join(lines) + "\n"


def owner_ids() -> list[int]:
    return [5000 + 10 * t + o for t in range(len(TEAMS)) for o in range(1, OWNERS_PER_TEAM + 1)]


async def start_bot(db_path: Path, api_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot.cli", "run", "--db", str(db_path), "--api-url", api_url),
        env={**os.environ, "GUANJIA_TOKEN": TOKEN},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def steady_load(owners: list[SandboxUser]) -> list[tuple[int, int]]:
    """Every owner writes every ~0.6 s, a little out of step with each other; returns (chat, message)."""
    sent: list[tuple[int, int]] = []

    async def one_owner(index: int, owner: SandboxUser) -> None:
        await asyncio.sleep(index * 0.04)
        for n in range(MESSAGES_EACH):
            message_id = await owner.send_text(f"Request {n} from {owner.first_name}: water pressure low")
            sent.append((owner.id, message_id))
            await asyncio.sleep(0.8)

    await asyncio.gather(*(one_owner(i, owner) for i, owner in enumerate(owners)))
    return sent


async def handled_so_far(db: Database) -> int:
    async with db.read() as conn:
        return int(
            (await conn.execute(sa.select(sa.func.count()).where(updates.c.status == "handled"))).scalar_one()
        )


async def work_in_hand(db: Database) -> tuple[int, int]:
    """Updates stored but not handled, and messages committed but not sent."""
    async with db.read() as conn:
        waiting = (
            await conn.execute(sa.select(sa.func.count()).where(updates.c.status == "received"))
        ).scalar_one()
        unsent = (
            await conn.execute(sa.select(sa.func.count()).where(outbox.c.status == "pending"))
        ).scalar_one()
    return int(waiting), int(unsent)


async def until_it_makes_progress(db: Database, handled_before: int) -> None:
    """Kill only a bot that is up and working, not one still starting."""
    for _ in range(300):
        if await handled_so_far(db) >= handled_before + 3:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot made no progress")


async def everything_done(db: Database, sandbox: BotApiSandbox, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with db.read() as conn:
            highest = (await conn.execute(sa.select(sa.func.max(updates.c.update_id)))).scalar() or 0
            waiting = (
                await conn.execute(sa.select(sa.func.count()).where(updates.c.status == "received"))
            ).scalar_one()
            pending = (
                await conn.execute(sa.select(sa.func.count()).where(outbox.c.status == "pending"))
            ).scalar_one()
        if highest >= sandbox.last_update_id and waiting == 0 and pending == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not done: updates to {highest} stored, {waiting} waiting, {pending} to send")


async def test_a_bot_killed_under_load_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "load.db"
    db = await Database.open(db_path)
    await load_roster(db, big_roster(), Config(), SystemClock())
    async with BotApiSandbox(token=TOKEN) as sandbox:
        owners = [
            sandbox.user(telegram_id, f"O{telegram_id}", language_code="en") for telegram_id in owner_ids()
        ]
        staff = [900] + [100 * (t + 1) + b for t in range(len(TEAMS)) for b in (1, 2)]
        for telegram_id in staff:
            sandbox.user(telegram_id, f"S{telegram_id}")
        bot = await start_bot(db_path, sandbox.api_url)
        load = asyncio.create_task(steady_load(owners))
        interrupted: list[tuple[int, int]] = []
        load_done_before_last_kill = True
        try:
            for kill in range(KILLS):
                await until_it_makes_progress(db, await handled_so_far(db))
                await asyncio.sleep(0.1 * kill)  # at a different point of its work each time
                load_done_before_last_kill = load.done()
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
                interrupted.append(await work_in_hand(db))
                bot = await start_bot(db_path, sandbox.api_url)
            sent = await load
            await everything_done(db, sandbox, timeout=120)
        finally:
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
                await asyncio.wait_for(bot.wait(), timeout=30)
        assert bot.returncode == 0
        everyone = [owner.id for owner in owners] + staff
        delivered = {chat: {m.message_id for m in sandbox.delivered(chat)} for chat in everyone}

    async with db.read() as conn:
        events = (
            await conn.execute(
                sa.select(ticket_events.c.chat_id, ticket_events.c.message_id, sa.func.count())
                .where(ticket_events.c.message_id.is_not(None))
                .group_by(ticket_events.c.chat_id, ticket_events.c.message_id)
            )
        ).all()
        committed = (
            await conn.execute(sa.select(outbox.c.chat_id, outbox.c.status, outbox.c.sent_message_id))
        ).all()
    await db.close()

    assert len(sent) == len(owners) * MESSAGES_EACH
    # Each kill left work in hand (stored updates not handled, messages committed not sent), and the load
    # was still coming in: the restarts really had something to recover.
    assert len(interrupted) == KILLS and all(waiting + unsent > 0 for waiting, unsent in interrupted), (
        interrupted
    )
    assert not load_done_before_last_kill
    recorded = {(int(chat), int(message)): count for chat, message, count in events}
    assert sorted(recorded) == sorted(sent), "a message was lost, or an event has no message behind it"
    assert all(count == 1 for count in recorded.values()), "a message was taken twice"
    assert committed and all(status == "sent" for _, status, _ in committed)
    missing = [
        (chat, mid) for chat, _, mid in committed if mid is not None and mid not in delivered.get(chat, {})
    ]
    assert missing == [], "a message the bot recorded as sent never reached the chat"
