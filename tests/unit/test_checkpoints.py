"""The bot's log is copied back into the database in the background, not in its decisions' commits."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import checkpoints
from storage.database import Database
from storage.schema import estates


async def _write_pages(db: Database, rows: int) -> None:
    for n in range(rows):
        async with db.begin() as conn:  # one commit each, as decisions are
            await conn.execute(estates.insert().values(name=f"{n:05d}" + "楼" * 1500, timezone="UTC"))


def _size(path: Path) -> int:
    return path.stat().st_size


async def _grown(path: Path, beyond: int, within: float) -> bool:
    for _ in range(int(within / 0.02)):
        if _size(path) > beyond:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_the_log_is_checkpointed_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "EVERY_SECONDS", 0.02)
    path = tmp_path / "estate.db"
    db = await Database.open(path)
    db.keep_log_short()
    try:
        before = _size(path)
        await _write_pages(db, 300)  # about 600 pages of 4 KB: under the commit-time line
        assert await _grown(path, before + 1_000_000, within=5.0), "the log was never copied back"
    finally:
        await db.close()


async def test_without_it_commits_leave_the_log_as_it_is_below_the_safety_net(tmp_path: Path) -> None:
    path = tmp_path / "estate.db"
    db = await Database.open(path)  # a CLI command: no background checkpoints
    try:
        before = _size(path)
        await _write_pages(db, 300)
        assert not await _grown(path, before + 1_000_000, within=0.3)
        async with db.read() as conn:
            pages = (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
        assert pages == checkpoints.COMMIT_CHECKPOINT_PAGES
        count = sa.select(sa.func.count()).select_from(estates)
        async with db.read() as conn:
            assert (await conn.execute(count)).scalar() == 300
    finally:
        await db.close()


async def test_stopping_waits_for_a_checkpoint_under_way_in_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Closing the database while a checkpoint still worked in its thread once crashed the process.
    monkeypatch.setattr(checkpoints, "EVERY_SECONDS", 0.01)
    running, release = threading.Event(), threading.Event()
    real = checkpoints.Checkpoints.checkpoint

    def slow_checkpoint(self: checkpoints.Checkpoints) -> tuple[int, int, int]:
        running.set()
        release.wait(5.0)
        return real(self)

    monkeypatch.setattr(checkpoints.Checkpoints, "checkpoint", slow_checkpoint)
    db = await Database.open(tmp_path / "estate.db")
    db.keep_log_short()
    assert await asyncio.to_thread(running.wait, 5.0)
    closing = asyncio.create_task(db.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # still waiting for the checkpoint
    release.set()
    await asyncio.wait_for(closing, 5.0)
