"""The daily digest's clock, straight through the service: scheduling, and failures that must not stop it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import ManualClock
from bot.config import Config
from bot.digest import DIGEST_CLOCK, Digest
from bot.services import Services
from storage.clocks import DueClock
from storage.database import Database
from storage.schema import clocks, digests, outbox
from tests.conftest import SHANGHAI


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def _digest(db: Database, clock: ManualClock, config: Config | None = None) -> Digest:
    return Services.assemble(db, clock, config or Config()).digest


async def _pending(db: Database) -> list[datetime]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(clocks.c.due_at)
            .where(clocks.c.kind == DIGEST_CLOCK, clocks.c.status == "pending")
            .order_by(clocks.c.id)
        )
        return [due for (due,) in rows]


async def _fire(db: Database, digest: Digest, due_at: datetime) -> None:
    async with db.begin() as conn:
        clock_id = (await conn.execute(sa.select(clocks.c.id).where(clocks.c.kind == DIGEST_CLOCK))).scalar()
        await digest.send_daily(conn, DueClock(clock_id or 0, 1, None, DIGEST_CLOCK, due_at, {}))


async def _sent(db: Database) -> list[tuple[int, str]]:
    async with db.read() as conn:
        rows = await conn.execute(sa.select(outbox.c.chat_id, outbox.c.kind).order_by(outbox.c.id))
        return [(chat, kind) for chat, kind in rows]


async def test_scheduling_sets_one_digest_at_the_configured_time(
    rostered_db: Database, clock: ManualClock
) -> None:
    digest = _digest(rostered_db, clock)
    await digest.schedule()
    await digest.schedule()  # every start-up: never a second clock
    assert await _pending(rostered_db) == [_at(21, 8)]  # 09:00 now: today's 08:00 has passed

    # The configured time changed between two runs: the next digest moves with it.
    await _digest(rostered_db, clock, Config(digest_at=time(18, 30))).schedule()
    assert await _pending(rostered_db) == [_at(20, 18, 30)]

    # A digest already due (the bot was down at its time) is left to fire late, not moved on.
    clock.set(_at(21, 9))
    await _digest(rostered_db, clock).schedule()
    assert await _pending(rostered_db) == [_at(20, 18, 30)]


async def test_a_time_moved_earlier_past_now_owes_the_days_digest_at_once(
    rostered_db: Database, clock: ManualClock
) -> None:
    await _digest(rostered_db, clock).schedule()
    assert await _pending(rostered_db) == [_at(21, 8)]
    # Moved to 07:00 and restarted at 07:30, before the pending 08:00: 07:00 has come round without the
    # 20th's digest, so it is due at once rather than skipped until tomorrow.
    clock.set(_at(21, 7, 30))
    await _digest(rostered_db, clock, Config(digest_at=time(7, 0))).schedule()
    assert await _pending(rostered_db) == [_at(21, 7)]


async def test_a_chart_that_cannot_be_drawn_still_leaves_the_figures(
    rostered_db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_: Any) -> bytes:
        raise RuntimeError("no canvas")

    monkeypatch.setattr("bot.digest.render_trend", broken)
    clock.set(_at(21, 8))
    digest = _digest(rostered_db, clock)
    await _fire(rostered_db, digest, _at(21, 8))
    assert await _sent(rostered_db) == [(900, "send_text")]  # the figures, without the photo
    assert "the digest's chart could not be drawn" in caplog.text
    assert await _pending(rostered_db) == [_at(22, 8)]


async def test_a_digest_that_fails_is_rolled_back_and_tomorrows_is_still_set(
    rostered_db: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*_: Any) -> None:
        raise ValueError("bad data")

    monkeypatch.setattr("bot.digest.make_report", broken)
    clock.set(_at(21, 8))
    digest = _digest(rostered_db, clock)
    await _fire(rostered_db, digest, _at(21, 8))
    assert await _sent(rostered_db) == []
    async with rostered_db.read() as conn:
        assert (await conn.execute(sa.select(digests))).all() == []  # the day is not marked as sent
    assert "the daily digest of estate 1 could not be made" in caplog.text
    assert await _pending(rostered_db) == [_at(22, 8)]
