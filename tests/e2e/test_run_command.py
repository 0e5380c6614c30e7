"""`guanjia run` itself, as a separate process against the sandbox: polling, hooks, shutdown, logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.clock import SystemClock
from bot.config import Config
from bot.embedded import load_roster
from bot.sandbox import BotApiSandbox
from storage.database import Database
from storage.schema import outbox, updates
from tests.conftest import ROSTER

TOKEN = "777000:run-command-secret-token"


async def test_guanjia_run_serves_residents_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db_path = tmp_path / "run.db"
    db = await Database.open(db_path)
    await load_roster(db, ROSTER, Config(), SystemClock())
    await db.close()
    async with BotApiSandbox(token=TOKEN) as sandbox:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--db",
            str(db_path),
            "--api-url",
            sandbox.api_url,
            env={**os.environ, "GUANJIA_TOKEN": TOKEN},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            zhang = sandbox.user(1101, "Zhang", language_code="en")
            a1 = sandbox.user(101, "A1")  # the butler opened the bot long before: their card can reach them
            first = await zhang.send_text("The lift is broken")
            ack = await zhang.wait_for("#1001", timeout=20)
            assert "Butler A1" in ack.content
            card = await a1.wait_for("New ticket #1001")
            # Edits and button presses are among the updates asked of Telegram.
            await zhang.edit_text(first, "The lift in building 2 is broken")
            await a1.wait_for("(edited): The lift in building 2 is broken")
            await a1.press(card, "Accept")
            await zhang.wait_for("accepted by your butler")
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        assert sandbox.rejections == []
    log = output.decode()
    assert process.returncode == 0, log
    assert "Guanjia is up" in log
    assert TOKEN not in log and "run-command-secret" not in log


async def test_sigterm_in_the_middle_of_a_burst_finishes_what_is_in_hand_and_loses_nothing(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "run.db"
    db = await Database.open(db_path)
    await load_roster(db, ROSTER, Config(), SystemClock())
    async with BotApiSandbox(token=TOKEN) as sandbox:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot.cli", "run", "--db", str(db_path), "--api-url", sandbox.api_url),
            env={**os.environ, "GUANJIA_TOKEN": TOKEN},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        zhang, sun, wu = (
            sandbox.user(i, n, language_code="en") for i, n in ((1101, "Zhang"), (1302, "Sun"), (3601, "Wu"))
        )
        for staff in (101, 102, 103, 201, 202, 900):
            sandbox.user(staff, f"Staff {staff}")
        await zhang.send_text("The lift is broken")
        await zhang.wait_for("#1001", timeout=20)  # it is up and serving
        for n in range(5):
            for user in (zhang, sun, wu):
                await user.send_text(f"Message {n} from {user.first_name}")
        await asyncio.sleep(0.3)  # some taken, some perhaps not yet
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        log = output.decode()
        assert process.returncode == 0, log
        assert "stopping: no more updates taken" in log and log.rstrip().endswith("stopped")
        # Whatever it took it finished; what it could not deliver within its grace it delivers next time;
        # whatever it did not take, Telegram still holds.
        async with db.read() as conn:
            statuses: dict[str, int] = dict(
                (
                    await conn.execute(
                        sa.select(updates.c.status, sa.func.count()).group_by(updates.c.status)
                    )
                ).all()
            )
            handled_ids = (await conn.execute(sa.select(updates.c.update_id))).scalars().all()
        assert set(statuses) == {"handled"}
        # Stored ids run from 1 without a gap; the rest Telegram still holds (a stored batch whose offset
        # never moved is both stored and held: it is handled once, as the intake's tests show).
        assert sorted(handled_ids) == list(range(1, len(handled_ids) + 1))
        assert len(handled_ids) + sandbox.pending_updates >= 16

        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot.cli", "run", "--db", str(db_path), "--api-url", sandbox.api_url),
            env={**os.environ, "GUANJIA_TOKEN": TOKEN},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                async with db.read() as conn:
                    unsent = (
                        await conn.execute(sa.select(sa.func.count()).where(outbox.c.status == "pending"))
                    ).scalar_one()
                    waiting = (
                        await conn.execute(sa.select(sa.func.count()).where(updates.c.status == "received"))
                    ).scalar_one()
                if unsent == waiting == sandbox.pending_updates == 0:
                    break
                await asyncio.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
        async with db.read() as conn:
            ids = (await conn.execute(sa.select(updates.c.update_id))).scalars().all()
            unsent = (
                await conn.execute(sa.select(sa.func.count()).where(outbox.c.status != "sent"))
            ).scalar_one()
        assert sorted(ids) == list(range(1, 17)) and unsent == 0
        assert sum("Message 4 from Wu" in m.content for m in sandbox.user(201).inbox) >= 1
    await db.close()
