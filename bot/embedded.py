"""The embedded default: the real bot against the built-in Bot API sandbox, on a fresh SQLite file.

Used by `guanjia demo` and by the end-to-end tests, so both exercise exactly the production wiring:
python-telegram-bot over HTTP on 127.0.0.1, the outbox sender, the database and the templates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.app import GuanjiaApplication, Settings, build_application, long_polling, running
from bot.clock import Clock
from bot.config import Config
from bot.pacing import UNPACED, SendLimits
from bot.roster import ImportReport, import_roster
from bot.runtime import Runtime
from bot.sandbox import BotApiSandbox
from storage import clocks as clock_queries
from storage import updates as update_queries
from storage.database import Database
from storage.schema import outbox

SANDBOX_TOKEN = "424242:SANDBOX-not-a-real-token"


@dataclass
class EmbeddedEstate:
    sandbox: BotApiSandbox
    application: GuanjiaApplication
    db: Database  # a second connection pool, for tests and the demo to look at what the bot stored
    roster: ImportReport
    db_path: Path

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until the bot has handled every update users sent, fired every clock that is due and
        delivered every queued message.

        Used before asserting that something did NOT arrive.
        """
        runtime: Runtime = self.application.bot_data["runtime"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pending, due, stored, waiting = -1, None, None, -1
        while loop.time() < deadline:
            if runtime.intake.idle and runtime.timekeeper.idle:
                async with self.db.read() as conn:
                    stored = await update_queries.highest_id(conn)
                    waiting = (await update_queries.counts(conn)).get(update_queries.RECEIVED, 0)
                    due = await clock_queries.next_due(conn, runtime.clock.now())
                    pending = (
                        await conn.execute(sa.select(sa.func.count()).where(outbox.c.status == "pending"))
                    ).scalar_one()
                all_stored = (stored or 0) >= self.sandbox.last_update_id
                if all_stored and waiting == 0 and pending == 0 and due is None:
                    return
            await asyncio.sleep(0.01)
        raise AssertionError(
            f"not settled after {timeout}s: updates up to {stored} of {self.sandbox.last_update_id} stored,"
            f" {waiting} not handled, {pending} outbox rows pending, due clock: {due}"
        )

    def invite_for(self, name: str) -> str:
        return next(invite.code for invite in self.roster.invites if invite.name == name)


async def load_roster(db: Database, csv_text: str, config: Config, clock: Clock) -> ImportReport:
    async with db.begin() as conn:
        report = await import_roster(conn, csv_text, config, clock.now())
        if not report.ok:
            raise ValueError("roster has errors: " + "; ".join(report.errors))
    return report


@contextlib.asynccontextmanager
async def embedded_estate(
    workdir: Path,
    roster_csv: str | None,
    clock: Clock,
    config: Config | None = None,
    sandbox: BotApiSandbox | None = None,
    paced: bool = False,
) -> AsyncIterator[EmbeddedEstate]:
    """Run the bot on `workdir`'s database against a sandbox (a new one, or one that outlives restarts).

    With `roster_csv` None the database is used as it is: a restart of an estate already running.
    `paced` keeps Telegram's sending limits as in production; otherwise messages go as fast as they can.
    """
    config = config or Config()
    db_path = workdir / "guanjia.db"
    db = await Database.open(db_path)
    try:
        report = ImportReport() if roster_csv is None else await load_roster(db, roster_csv, config, clock)
        async with contextlib.AsyncExitStack() as stack:
            if sandbox is None:
                sandbox = await stack.enter_async_context(
                    BotApiSandbox(token=SANDBOX_TOKEN, bot_username="guanjia_demo_bot", bot_name="管家")
                )
            settings = Settings(
                token=SANDBOX_TOKEN,
                db_path=db_path,
                api_url=sandbox.api_url,
                config=config,
                clock=clock,
                send_limits=SendLimits() if paced else UNPACED,
            )
            application = build_application(settings)
            async with running(application, long_polling(poll_timeout=1.0)):
                yield EmbeddedEstate(sandbox, application, db, report, db_path)
    finally:
        await db.close()
