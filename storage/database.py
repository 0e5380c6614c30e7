"""Opening the database: the engine, SQLite's durability settings, and schema migrations."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
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
        claimed_here = False
        async with self._one_writer:
            if self._writer is None:
                self._writer = await self.engine.connect()
            conn = self._writer
            committing = False
            try:
                await inline.begin_writing(conn)
                claimed_here = await updates.claim_in_hand(conn)
                yield conn
                committing = True
                if conn.in_transaction():
                    await conn.commit()
                else:
                    await inline.commit(conn)
            except BaseException:
                if claimed_here:
                    updates.unclaim()
                await self._roll_back_writer(conn, committing)
                raise

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
        for conn in [*self._idle_readers, *([self._writer] if self._writer else [])]:
            await _close_quietly(conn)
        self._idle_readers, self._writer = [], None
        await self._checkpoints.stop()  # if started
        await self.engine.dispose()


KEEP_READERS = 4  # readers kept open: as many as are ever reading at once in practice


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
