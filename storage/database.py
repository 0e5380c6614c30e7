"""Opening the database: the engine, SQLite's durability settings, and schema migrations."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import inline, updates
from storage.checkpoints import COMMIT_CHECKPOINT_PAGES, Checkpoints

MIGRATIONS = Path(__file__).parent / "migrations"


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Durability first: WAL with a full fsync at every commit, so a committed ticket survives a power cut.
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _begin_immediate
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={inline.BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={COMMIT_CHECKPOINT_PAGES}")
    cursor.close()


READ_ONLY = "guanjia_read_only"


def _begin(connection: sa.Connection) -> None:
    # A decision takes the write lock at BEGIN: a read-then-write transaction can then never fail
    # half-way with "database is locked" when another process (a CLI import) writes at the same time; it
    # waits instead. A read takes no lock at all: in WAL mode it reads a snapshot beside the writer.
    read_only = connection.get_execution_options().get(READ_ONLY)
    driver = connection.connection.driver_connection
    if not isinstance(driver, inline.InlineConnection):  # Alembic's own engine (migrate)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
    elif driver.sqlite.in_transaction:
        pass  # begun by Database.begin, or by a prepared statement's read: SQLAlchemy joins it
    elif read_only:
        inline.begin_reading(driver.sqlite)
    elif not inline.lock_if_free(driver.sqlite):  # a connection of the engine's own (scripts, tests)
        connection.exec_driver_sql(inline.WAITS_FOR_THE_LOCK)  # waits in aiosqlite's thread


def _configure(engine: sa.Engine) -> None:
    event.listen(engine, "connect", _tune_sqlite)
    event.listen(engine, "begin", _begin)


def migrate(path: Path) -> None:
    """Bring the database at `path` to the newest schema version (creating it if needed)."""
    # Alembic is imported only when there is something to do: it would stay in memory for good.
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(f"sqlite:///{path}")
    _configure(engine)
    try:
        with engine.connect() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        engine.dispose()


def newest_revision() -> str:
    """The newest migration's revision: each migration's file name begins with it (0010_language.py)."""
    return max(script.name.split("_", 1)[0] for script in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def is_current(path: Path) -> bool:
    """The database at `path` exists and already has the newest schema."""
    if not path.exists():
        return False
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:  # no such table: never migrated
            return False
    return row is not None and row[0] == newest_revision()


def schema_version(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


class Database:
    """The one way into the database; every decision runs in `async with db.begin() as conn`."""

    def __init__(self, engine: AsyncEngine, path: Path) -> None:
        self.engine = engine
        self._checkpoints = Checkpoints(path)
        self._reader = engine.execution_options(**{READ_ONLY: True})  # same pool, no write lock
        # SQLite has one writer at a time. Without this queue, this process's own decisions would wait
        # for each other in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms between tries: under
        # load, a ticket's card waited hundreds of milliseconds for the sender's bookkeeping. Decisions
        # queue here in order instead, and the busy handler is left for other processes (a CLI import).
        self._one_writer = asyncio.Lock()
        # Connections are kept open between transactions: taking one from SQLAlchemy's pool and giving
        # it back (which rolls it back once more) cost more than most transactions do.
        self._writer: AsyncConnection | None = None
        self._idle_readers: list[AsyncConnection] = []
        self._riders: deque[_Rider] = deque()  # waiting for a transaction to carry them (write_soon)
        self._carrier: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not await asyncio.to_thread(is_current, path):
            await asyncio.to_thread(migrate, path)
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{path}", async_creator=lambda: inline.connect(str(path))
        )
        _configure(engine.sync_engine)
        return cls(engine, path)

    def keep_log_short(self) -> None:
        """For a process that keeps running (the bot): checkpoint the log in the background
        (storage/checkpoints.py), not in the commits of its decisions."""
        self._checkpoints.start()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        While an incoming update is being handled, the first such transaction also marks it handled,
        so a decision and "this update is done" commit together (storage/updates.py).

        SQLite's transaction is begun and committed here directly, not through SQLAlchemy's: its
        machinery (a greenlet, events, the transaction objects) cost twice what SQLite's COMMIT does.
        A statement SQLAlchemy runs inside joins the transaction (_begin), and is then committed
        through SQLAlchemy, so that it knows its transaction ended.
        """
        async with self._transaction(claim=True) as conn:
            yield conn

    async def write_soon(self, write: Callable[[AsyncConnection], Awaitable[None]]) -> None:
        """A small write that need not be a transaction of its own, like the outbox noting a message
        sent: it rides along with the transaction being written, if there is one, and commits with it;
        else it is written in one of its own at once. Returns once it is committed; raises what writing
        it raised. `write` runs in a savepoint of whichever transaction carries it: it may fail without
        harming that one, and must not wait for anything but its statements.

        Under load this turns the outbox's own commits, one or two for each request handled, into
        statements inside the requests' own transactions: one fsync where there were three.
        """
        rider = _Rider(write, asyncio.get_running_loop().create_future())
        self._riders.append(rider)
        if not self._one_writer.locked():
            with contextlib.suppress(Exception):  # a failure reaches every rider, this one too
                async with self._transaction(claim=False):
                    pass  # which writes every rider waiting, this one among them
        await rider.written

    @contextlib.asynccontextmanager
    async def _transaction(self, *, claim: bool) -> AsyncIterator[AsyncConnection]:
        claimed_here = False
        carried: list[_Rider] = []
        try:
            async with self._one_writer:
                if self._writer is None:
                    self._writer = await self.engine.connect()
                conn = self._writer
                committing = False
                try:
                    await inline.begin_writing(conn)
                    claimed_here = claim and await updates.claim_in_hand(conn)
                    yield conn
                    await self._write_riders(conn, carried)
                    committing = True
                    if conn.in_transaction():
                        await conn.commit()
                    else:
                        await inline.commit(conn)
                except BaseException as error:
                    if claimed_here:
                        updates.unclaim()
                    if claim:  # a decision failed: the riders it carried are written by the next one
                        self._riders.extendleft(reversed(carried))
                    else:  # the riders' own transaction failed: so did they
                        _fail(error, [*carried, *self._riders])
                        self._riders.clear()
                    await self._roll_back_writer(conn, committing)
                    raise
            for rider in carried:
                if not rider.written.done():  # not given up by a cancelled waiter
                    rider.written.set_result(None)
        finally:
            if self._riders:  # come too late for this transaction, or left by its failure
                self._carry_soon()

    async def _write_riders(self, conn: AsyncConnection, carried: list[_Rider]) -> None:
        """Every rider waiting, each in a savepoint: `carried` gets those written; one that fails is
        told so and undone. A rider leaves the queue only for `carried` or with its answer."""
        handle = inline.sqlite_of(conn)
        while self._riders:
            _savepoint(handle, "SAVEPOINT rider")
            rider = self._riders.popleft()
            try:
                await rider.write(conn)
            except Exception as error:
                _fail(error, [rider])
                _savepoint(handle, "ROLLBACK TO rider")
                _savepoint(handle, "RELEASE rider")
                continue
            carried.append(rider)
            _savepoint(handle, "RELEASE rider")

    def _carry_soon(self) -> None:
        if self._carrier is None or self._carrier.done():
            # In a context of its own: not the handling of the update whose decision ran just now.
            self._carrier = asyncio.create_task(self._carry(), context=contextvars.Context())

    async def _carry(self) -> None:
        while self._riders:  # more may come while one transaction is written
            with contextlib.suppress(Exception):  # each rider was told of a failure
                async with self._transaction(claim=False):
                    pass

    async def _roll_back_writer(self, conn: AsyncConnection, committing: bool) -> None:
        if not committing and await _rolled_back(conn):
            return
        # A failed or interrupted COMMIT may still be running in aiosqlite's thread, where the close is
        # queued behind it: nothing runs on this connection beside it. It is closed for good, not given
        # back to the pool with its transaction perhaps still open; the next decision opens another.
        self._writer = None
        with contextlib.suppress(Exception):
            await asyncio.shield(conn.invalidate())
        await _close_quietly(conn)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for looking only: it never waits for, or holds up, a decision being written."""
        conn = self._idle_readers.pop() if self._idle_readers else await self._reader.connect()
        try:
            yield conn
        except BaseException:
            await _close_quietly(conn)
            raise
        # Its snapshot ends here, so that the next reader sees what was committed since.
        try:
            if conn.in_transaction():  # SQLAlchemy's, if a statement of its own ran
                await conn.rollback()
            inline.sqlite_of(conn).rollback()  # SQLite's
        except BaseException:
            await _close_quietly(conn)
            raise
        if len(self._idle_readers) < KEEP_READERS:
            self._idle_readers.append(conn)
        else:
            await conn.close()

    async def close(self) -> None:
        if self._carrier is not None:
            await self._carrier
        _fail(RuntimeError("the database was closed"), list(self._riders))
        self._riders.clear()
        for conn in [*self._idle_readers, *([self._writer] if self._writer else [])]:
            await _close_quietly(conn)
        self._idle_readers, self._writer = [], None
        await self._checkpoints.stop()  # if started
        await self.engine.dispose()


KEEP_READERS = 4  # readers kept open: as many as are ever reading at once in practice


@dataclass(eq=False)
class _Rider:
    write: Callable[[AsyncConnection], Awaitable[None]]
    written: asyncio.Future[None]


def _fail(error: BaseException, riders: list[_Rider]) -> None:
    for rider in riders:
        if rider.written.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            rider.written.cancel()
        else:
            rider.written.set_exception(error)


def _savepoint(handle: sqlite3.Connection, statement: str) -> None:
    try:
        handle.execute(statement)
    except sqlite3.Error as error:
        raise inline.database_error(statement, error) from error


async def _rolled_back(conn: AsyncConnection) -> bool:
    try:
        if conn.in_transaction():  # SQLAlchemy's, if a statement of its own ran
            await conn.rollback()
        inline.sqlite_of(conn).rollback()
    except Exception:
        return False
    return True


async def _close_quietly(conn: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.shield(conn.close())


__all__ = ["AsyncConnection", "Database", "migrate", "schema_version"]
