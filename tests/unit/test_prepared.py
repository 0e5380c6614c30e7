"""Prepared statements read and write exactly what SQLAlchemy would, inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from storage.database import Database
from storage.prepared import Prepared
from storage.schema import clocks, estates, outbox, updates

MOMENT = datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)

_INSERT_OUTBOX = Prepared(
    outbox.insert().values(
        {name: sa.bindparam(name) for name in ("chat_id", "kind", "payload", "created_at", "bulk")}
    )
)
_PENDING_OF_CHAT = Prepared(
    sa.select(outbox.c.id, outbox.c.payload, outbox.c.created_at, outbox.c.bulk, outbox.c.sent_at)
    .where(outbox.c.chat_id == sa.bindparam("chat_id"), outbox.c.status == "pending")
    .order_by(outbox.c.id)
)


async def test_values_go_in_and_come_out_through_the_columns_types(db: Database) -> None:
    payload = {"html": "厨房漏水 <b>急</b>", "buttons": [[{"label": "接单", "action": "accept:1"}]]}
    async with db.begin() as conn:
        row_id = await _INSERT_OUTBOX.insert(
            conn, chat_id=10, kind="send_text", payload=payload, created_at=MOMENT, bulk=True
        )
    async with db.read() as conn:
        prepared = await _PENDING_OF_CHAT.all(conn, chat_id=10)
        by_sqlalchemy = (await conn.execute(_PENDING_OF_CHAT.statement, {"chat_id": 10})).all()
    assert [tuple(row) for row in prepared] == [tuple(row) for row in by_sqlalchemy]  # type: ignore[arg-type]
    (row,) = prepared
    assert (row.id, row.payload, row.created_at, row.bulk, row.sent_at) == (
        row_id,
        payload,
        MOMENT,
        True,
        None,
    )
    assert row.created_at.tzinfo is UTC  # read back aware, as UtcDateTime promises


async def test_what_sqlalchemy_wrote_reads_the_same_prepared(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(
            outbox.insert().values(chat_id=11, kind="send_text", payload={"html": "x"}, created_at=MOMENT)
        )
    async with db.read() as conn:
        (row,) = await _PENDING_OF_CHAT.all(conn, chat_id=11)
    assert (row.payload, row.created_at, row.bulk) == ({"html": "x"}, MOMENT, False)


async def test_the_statements_constants_are_written_into_the_sql_so_sqlite_uses_the_partial_index(
    db: Database,
) -> None:
    due = Prepared(
        sa.select(clocks.c.id)
        .where(clocks.c.status == "pending", clocks.c.due_at <= sa.bindparam("now"))
        .order_by(clocks.c.due_at, clocks.c.id)
        .limit(1)
    )
    assert "clocks.status = 'pending'" in due.sql and "LIMIT 1" in due.sql
    async with db.read() as conn:
        plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + due.sql, ("2026-01-01",))).all()
    assert any("ix_clocks_pending_due" in str(step) for step in plan), plan


async def test_in_over_a_fixed_list_is_written_out_and_a_list_given_per_call_is_refused() -> None:
    fixed = Prepared(sa.select(updates.c.update_id).where(updates.c.status.in_(("handled", "rejected"))))
    assert "IN ('handled', 'rejected')" in fixed.sql
    with pytest.raises(ValueError, match="over a fixed list"):
        Prepared(
            sa.select(updates.c.update_id).where(updates.c.status.in_(sa.bindparam("s", expanding=True)))
        )


async def test_a_missing_value_is_named(db: Database) -> None:
    async with db.read() as conn:
        with pytest.raises(TypeError, match="chat_id"):
            await _PENDING_OF_CHAT.all(conn)


async def test_it_runs_inside_the_callers_transaction_and_rolls_back_with_it(db: Database) -> None:
    insert_estate = Prepared(estates.insert().values(name=sa.bindparam("name"), timezone="UTC"))
    with pytest.raises(RuntimeError):
        async with db.begin() as conn:
            await insert_estate.insert(conn, name="回滚")
            raise RuntimeError("the decision failed")
    async with db.begin() as conn:
        await insert_estate.insert(conn, name="留下")
    async with db.read() as conn:
        names = (await conn.execute(sa.select(estates.c.name))).scalars().all()
    assert names == ["留下"]


async def test_a_read_sees_one_snapshot_even_when_a_write_commits_between_its_statements(
    db: Database,
) -> None:
    count = Prepared(sa.select(sa.func.count()).select_from(estates))
    insert_estate = Prepared(estates.insert().values(name=sa.bindparam("name"), timezone="UTC"))
    async with db.read() as reader:
        before = await count.scalar(reader)
        async with db.begin() as writer:
            await insert_estate.insert(writer, name="新")
        assert await count.scalar(reader) == before  # begun at its first statement, as SQLAlchemy does
    async with db.read() as reader:
        assert await count.scalar(reader) == before + 1


async def test_an_update_reports_the_rows_it_changed(db: Database) -> None:
    rename = Prepared(
        estates.update().where(estates.c.name == sa.bindparam("old")).values(name=sa.bindparam("new"))
    )
    async with db.begin() as conn:
        await conn.execute(estates.insert().values(name="甲", timezone="UTC"))
        assert await rename.run(conn, old="甲", new="乙") == 1
        assert await rename.run(conn, old="甲", new="丙") == 0


async def test_a_moment_in_another_zone_is_bound_as_the_same_utc_moment(db: Database) -> None:
    # UtcDateTime stores UTC text, compared as text: a Shanghai time must be turned to UTC first.
    count_due = Prepared(sa.select(sa.func.count()).where(clocks.c.due_at <= sa.bindparam("at")))
    async with db.begin() as conn:
        estate_id = await Prepared(estates.insert().values(name="e", timezone="UTC")).insert(conn)
        await conn.execute(
            clocks.insert().values(
                estate_id=estate_id, kind="digest", due_at=MOMENT, set_at=MOMENT, detail={}
            )
        )
        in_shanghai = MOMENT.astimezone(ZoneInfo("Asia/Shanghai"))
        assert await count_due.scalar(conn, at=in_shanghai) == 1
        assert await count_due.scalar(conn, at=in_shanghai - timedelta(microseconds=1)) == 0


async def test_a_database_error_is_raised_as_sqlalchemy_raises_it(db: Database) -> None:
    # Callers catch SQLAlchemy's errors: the intake keeps an update to try again when the database fails.
    insert_estate = Prepared(estates.insert().values(name=sa.bindparam("name"), timezone="UTC"))
    with pytest.raises(sa.exc.IntegrityError):
        async with db.begin() as conn:
            await insert_estate.insert(conn, name="同名")
            await insert_estate.insert(conn, name="同名")  # estate names are unique
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(estates))).scalar() == 0
