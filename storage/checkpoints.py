"""Keeping SQLite's write-ahead log short, away from the decisions' path.

In WAL mode SQLite copies the log back into the database (a checkpoint) once it passes 1,000 pages, inside
the COMMIT that crossed the line: that decision, and every decision queued behind it, waits for the copy
and its fsync. On a database of 100,000 tickets a burst of requests crossed the line every few dozen
tickets, and their cards waited tens of milliseconds longer (`guanjia bench`, phase 3).

So the bot checkpoints on its own: every half second, a PASSIVE checkpoint on a connection of its own, in
a thread. PASSIVE copies what no reader still needs and never waits for, or holds up, a writer. The
commit-time checkpoint stays only as a safety net, at a much longer log (COMMIT_CHECKPOINT_PAGES).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

EVERY_SECONDS = 0.5
COMMIT_CHECKPOINT_PAGES = 10_000  # about 40 MB of log before a COMMIT checkpoints after all


class Checkpoints:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="wal-checkpoints")

    async def stop(self) -> None:
        """Stop checkpointing, if started; a checkpoint under way in its thread is finished first."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), EVERY_SECONDS)
            if self._stopping.is_set():
                return
            try:
                await asyncio.to_thread(self.checkpoint)
            except sqlite3.Error as error:  # the next one tries again; the commit-time one is still there
                log.warning("checkpoint failed: %s", error)

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (1 if it could not run at all, frames in the log, frames copied).

        On a connection of its own, opened and closed here: nothing is shared with the event loop's
        thread, so nothing can be closed under it while it works."""
        with contextlib.closing(sqlite3.connect(self._path, isolation_level=None)) as connection:
            busy, logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(logged), int(copied)
