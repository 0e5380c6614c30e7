"""A decision's transaction, begun and committed on SQLite directly (storage/database.py, Database.begin):
all of it or none of it, whichever way its statements were run, and the next one always starts clean."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import inline
from storage.database import Database
from storage.prepared import insert_into
from storage.schema import outbox

MOMENT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
_INSERT = insert_into(outbox, ["chat_id", "kind", "payload", "created_at"])


async def _add(conn: AsyncConnection, chat_id: int) -> None:
    await _INSERT.insert(conn, chat_id=chat_id, kind="send_text", payload={"html": "x"}, created_at=MOMENT)


async def _chats(db: Database) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(sa.select(outbox.c.chat_id).order_by(outbox.c.id))
        return [row.chat_id for row in rows]


def _by_sqlalchemy(chat_id: int) -> sa.Insert:
    return outbox.insert().values(chat_id=chat_id, kind="send_text", payload={"html": "y"}, created_at=MOMENT)


class Refused(Exception):
    pass


async def test_prepared_and_sqlalchemy_statements_commit_and_roll_back_together(db: Database) -> None:
    async with db.begin() as conn:
        await _add(conn, 1)
        await conn.execute(_by_sqlalchemy(2))
    with pytest.raises(Refused):
        async with db.begin() as conn:
            await conn.execute(_by_sqlalchemy(3))
            await _add(conn, 4)
            raise Refused
    with pytest.raises(Refused):
        async with db.begin() as conn:
            await _add(conn, 5)
            raise Refused
    async with db.begin() as conn:  # after both ways of rolling back, the next decision starts clean
        await _add(conn, 6)
    assert await _chats(db) == [1, 2, 6]


async def test_a_savepoint_inside_a_decision_undoes_only_its_own_part(db: Database) -> None:
    async with db.begin() as conn:
        await _add(conn, 1)
        with pytest.raises(Refused):
            async with conn.begin_nested():
                await _add(conn, 2)
                raise Refused
        await _add(conn, 3)
    assert await _chats(db) == [1, 3]


async def test_a_reader_sees_each_decision_once_it_is_committed_and_never_before(db: Database) -> None:
    async with db.begin() as conn:
        await _add(conn, 1)
        assert await _chats(db) == []  # not yet committed
    assert await _chats(db) == [1]


async def test_a_commit_sqlite_refuses_raises_as_sqlalchemy_does_and_the_next_decision_goes_on(
    db: Database,
) -> None:
    async with db.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await conn.exec_driver_sql(
            "CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    with pytest.raises(sa.exc.IntegrityError):
        async with db.begin() as conn:
            await _add(conn, 1)
            # a child without its parent: refused only at COMMIT
            await conn.exec_driver_sql("INSERT INTO child VALUES (99)")
    with pytest.raises(sa.exc.IntegrityError):  # the same refused by SQLite's COMMIT without SQLAlchemy
        async with db.begin() as conn:
            await _add(conn, 2)
            inline.sqlite_of(conn).execute("INSERT INTO child VALUES (98)")
    async with db.begin() as conn:
        await _add(conn, 3)
    assert await _chats(db) == [3]


async def test_a_decision_waits_for_another_processs_write_lock_without_holding_up_the_loop(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "test.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # a CLI import writing
    ticks = 0

    async def loop_goes_on() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(loop_goes_on())

    async def decide() -> None:
        async with db.begin() as conn:
            await _add(conn, 1)

    decision = asyncio.create_task(decide())
    await asyncio.sleep(0.3)
    assert not decision.done()  # waiting for the lock
    assert ticks >= 5  # and the loop kept running meanwhile
    other.execute("COMMIT")
    await asyncio.wait_for(decision, 5)
    ticker.cancel()
    other.close()
    assert await _chats(db) == [1]


# ---- small writes riding along with a transaction (Database.write_soon) ------------------------------


async def test_a_small_write_alone_is_committed_at_once(db: Database) -> None:
    await db.write_soon(lambda conn: _add(conn, 1))
    assert await _chats(db) == [1]


async def test_a_small_write_rides_along_with_the_decision_being_written_one_commit_for_both(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = 0
    commit = inline.commit

    async def counted(conn: AsyncConnection) -> None:
        nonlocal commits
        commits += 1
        await commit(conn)

    monkeypatch.setattr(inline, "commit", counted)
    async with db.begin() as conn:
        await _add(conn, 1)
        rider = asyncio.create_task(db.write_soon(lambda conn: _add(conn, 2)))
        await asyncio.sleep(0.01)
        assert not rider.done()  # it waits for this transaction, which carries it
    await asyncio.wait_for(rider, 1)
    assert commits == 1
    assert await _chats(db) == [1, 2]


async def test_a_small_write_that_fails_is_told_so_and_spares_the_decision_carrying_it(
    db: Database,
) -> None:
    async def half_then_refused(conn: AsyncConnection) -> None:
        await _add(conn, 2)
        raise Refused

    async with db.begin() as conn:
        await _add(conn, 1)
        rider = asyncio.create_task(db.write_soon(half_then_refused))
        await asyncio.sleep(0.01)
    with pytest.raises(Refused):
        await rider
    assert await _chats(db) == [1]  # the decision, and nothing of the failed write


async def test_a_small_write_outlives_the_decision_that_failed_while_carrying_it(db: Database) -> None:
    async with db.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TABLE child (parent_id INTEGER REFERENCES outbox(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    with pytest.raises(Refused):  # failing in its block, before it carried the write
        async with db.begin() as conn:
            early = asyncio.create_task(db.write_soon(lambda conn: _add(conn, 1)))
            await asyncio.sleep(0.01)
            raise Refused
    with pytest.raises(sa.exc.IntegrityError):  # failing at COMMIT, after the write went in with it
        async with db.begin() as conn:
            late = asyncio.create_task(db.write_soon(lambda conn: _add(conn, 2)))
            await asyncio.sleep(0.01)
            await conn.exec_driver_sql("INSERT INTO child VALUES (999)")
    await asyncio.wait_for(asyncio.gather(early, late), 1)  # each written after all, on its own
    assert await _chats(db) == [1, 2]
