"""Benchmark: 100,000 pending service clocks cost nothing until they are due.

Builds a database with 100,000 open tickets, each with a pending clock spread over the next week, plus
200,000 clocks already fired or cancelled (the history a busy estate accumulates). Then measures what
the timekeeper does all day long: ask "what is due now?" and "when is the next one?", and fire a batch of
due clocks. Prints the figures, and the same query without the partial index for comparison.

Run: `make bench-clocks` (or `python -m benchmarks.clocks [--pending N]`).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import ManualClock
from bot.model import Ticket
from bot.timekeeper import Timekeeper
from storage import clocks as clock_queries
from storage.clocks import DueClock
from storage.database import Database, migrate

START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _stored(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def build(path: Path, pending: int) -> None:
    """Fill the database directly with sqlite3: setting up is not what is measured."""
    migrate(path)
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO estates (id, name, timezone) VALUES (1, 'bench', 'Asia/Shanghai')")
        db.execute("INSERT INTO teams (id, estate_id, name) VALUES (1, 1, 'A')")
        db.execute(
            "INSERT INTO people (id, estate_id, role, name, roster_key, team_id, unit, language,"
            " created_at, updated_at) VALUES (1, 1, 'owner', 'Owner', '1-101', 1, '1-101', 'zh', ?, ?)",
            (_stored(START), _stored(START)),
        )
        db.executemany(
            "INSERT INTO tickets (id, estate_id, number, requester_id, owner_id, team_id, category, state,"
            " summary, created_at, due_at, last_activity_at) VALUES (?, 1, ?, 1, 1, 1, 'repair', 'accepted',"
            " 'bench', ?, ?, ?)",
            (
                (n, 1000 + n, _stored(START), _stored(START + timedelta(days=2)), _stored(START))
                for n in range(1, pending + 1)
            ),
        )
        week = timedelta(days=7).total_seconds()
        db.executemany(
            "INSERT INTO clocks (estate_id, ticket_id, kind, due_at, status, set_at, detail)"
            " VALUES (1, ?, ?, ?, ?, ?, '{}')",
            (
                (
                    n % pending + 1,
                    kind,
                    _stored(START + timedelta(seconds=60 + (n * 7919) % week)),
                    status,
                    _stored(START),
                )
                for n, kind, status in _history_then_pending(pending)
            ),
        )
    db.execute("ANALYZE")
    db.close()


def _history_then_pending(pending: int) -> list[tuple[int, str, str]]:
    history = [(n, "remind", "fired" if n % 2 else "cancelled") for n in range(2 * pending)]
    return [*history, *((n, "lapse", "pending") for n in range(pending))]


async def _timed(call: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _report(label: str, times: list[float]) -> None:
    print(f"  {label:<44} median {statistics.median(times):8.3f} ms   p95 {_p95(times):8.3f} ms")


def _p95(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.95) - 1]


async def measure(path: Path, pending: int, batch: int) -> None:
    db = await Database.open(path)
    clock = ManualClock(START)
    try:
        async with db.engine.connect() as conn:
            plan = await conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM clocks WHERE status = 'pending' AND due_at <= ?"
                " ORDER BY due_at, id LIMIT 1",
                (_stored(START),),
            )
            print("  query plan of 'what is due now':", " / ".join(str(row[-1]) for row in plan.all()))

            async def due_now(connection: AsyncConnection = conn) -> object:
                return await clock_queries.next_due(connection, clock.now())

            async def next_alarm(connection: AsyncConnection = conn) -> object:
                return await clock_queries.earliest_pending(connection)

            _report("what is due now? (nothing is)", await _timed(due_now, 2000))
            _report("when is the next clock due?", await _timed(next_alarm, 2000))

        fired: list[int] = []

        async def record(conn: AsyncConnection, ticket: Ticket, clock_row: DueClock) -> None:
            fired.append(clock_row.id)

        keeper = Timekeeper(db, clock, {"lapse": record})
        async with db.engine.connect() as conn:
            due_rows = await conn.exec_driver_sql(
                "SELECT due_at FROM clocks WHERE status = 'pending' ORDER BY due_at, id LIMIT 1 OFFSET ?",
                (batch - 1,),
            )
            last_due = datetime.fromisoformat(str(due_rows.scalar_one())).replace(tzinfo=UTC)
        clock.set(last_due)
        started = time.perf_counter()
        count = await keeper.fire_due()
        seconds = time.perf_counter() - started
        print(
            f"  firing {count} due clocks (one transaction each)   {seconds * 1000:8.1f} ms total,"
            f" {seconds / max(count, 1) * 1000:.3f} ms per clock"
        )
        assert count == batch == len(fired), (count, batch, len(fired))
    finally:
        await db.close()


def without_index(path: Path, pending: int) -> None:
    db = sqlite3.connect(path)
    db.execute("DROP INDEX ix_clocks_pending_due")
    query = "SELECT * FROM clocks WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT 1"
    times = []
    for _ in range(50):
        started = time.perf_counter()
        db.execute(query, (_stored(START),)).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    plan = " / ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, (_stored(START),)))
    print(f"  for comparison, without the partial index ({plan}):")
    _report("what is due now? (nothing is)", times)
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000, help="how many due clocks to fire")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guanjia-bench-") as workdir:
        path = Path(workdir) / "bench.db"
        started = time.perf_counter()
        build(path, args.pending)
        total = 3 * args.pending
        print(
            f"Service clocks benchmark: {args.pending:,} pending clocks among {total:,} clock rows,"
            f" {args.pending:,} open tickets (built in {time.perf_counter() - started:.1f} s,"
            f" database {path.stat().st_size / 1e6:.0f} MB)"
        )
        asyncio.run(measure(path, args.pending, args.batch))
        without_index(path, args.pending)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of the whole run: {peak:.0f} MB")


if __name__ == "__main__":
    main()
