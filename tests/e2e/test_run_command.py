"""`guanjia run` itself, as a separate process against the sandbox: polling, hooks, shutdown, logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Config
from bot.embedded import load_roster
from bot.sandbox import BotApiSandbox
from storage.database import Database
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
            first = await zhang.send_text("The lift is broken")
            ack = await zhang.wait_for("#1001", timeout=20)
            assert "Butler A1" in ack.content
            a1 = sandbox.user(101, "A1")
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
