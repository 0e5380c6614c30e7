"""SQLite in the event loop's own thread; only what can wait goes to aiosqlite's thread.

SQLite is a library, not a server: an indexed query takes microseconds, less than handing it to
another thread and back (two wake-ups, and the GIL to win back while the loop is busy). Profiling the
bot under load (`guanjia bench --profile`) showed those hand-overs costing more than the queries.
So statements run right here, and aiosqlite's thread is kept for what can take long: COMMIT (the
fsync), and BEGIN IMMEDIATE when another process (a CLI import) holds the write lock, to wait for it up
to busy_timeout; when the lock is free, as it nearly always is, it is taken right here. Reads never
wait in WAL mode, and a write inside a transaction already holds the lock. A statement is never run here
while the same connection is busy in the thread: SQLAlchemy uses a connection for one thing at a time
and awaits each.

The cursor also fetches a statement's rows at once and gives SQLAlchemy the answers it asks for
afterwards from memory. The connection is otherwise aiosqlite's own; SQLAlchemy gets it through
`create_async_engine(..., async_creator=connect)`.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

Description = tuple[tuple[Any, ...], ...] | None
Outcome = tuple[Description, list[Any], int, int | None]

WAITS_FOR_THE_LOCK = "BEGIN IMMEDIATE"
BUSY_TIMEOUT_MS = 10_000  # how long a transaction waits for another process's write lock


def lock_if_free(connection: sqlite3.Connection) -> bool:
    """Begin a writing transaction here if the write lock is free, as it nearly always is: True if begun.
    If not, the caller executes WAITS_FOR_THE_LOCK, which waits for it in aiosqlite's thread."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute(WAITS_FOR_THE_LOCK)
        return True
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def begin_reading(connection: sqlite3.Connection) -> None:
    """Begin a reading transaction, unless one is open: its statements all read one snapshot."""
    if not connection.in_transaction:
        connection.execute("BEGIN")


def _execute(connection: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> Outcome:
    """The statement, its rows and what SQLAlchemy reads from the cursor."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(connection: sqlite3.Connection, sql: str, parameters: Sequence[Sequence[Any]]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class InlineCursor:
    """The async cursor SQLAlchemy's aiosqlite adapter expects."""

    arraysize = 1

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        handle = self._connection.sqlite
        if sql.startswith(WAITS_FOR_THE_LOCK):  # only when another process holds it (lock_if_free)
            self._take(await self._connection.in_thread(_execute, handle, sql, parameters))
        else:
            self._take(_execute(handle, sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> InlineCursor:
        self._take(_execute_many(self._connection.sqlite, sql, parameters))
        return self

    def _take(self, outcome: Outcome) -> None:
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class InlineConnection:
    """aiosqlite's connection, whose cursors run here; commit, rollback and the rest are aiosqlite's."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._inner = connection

    @property
    def sqlite(self) -> sqlite3.Connection:
        return self._inner._conn

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in aiosqlite's thread, after whatever is queued there before it (aiosqlite's
        own way in, which SQLAlchemy's adapter uses too)."""
        run: Callable[..., Awaitable[T]] = self._inner._execute
        return await run(function, *args)

    async def rollback(self) -> None:
        # Nothing to wait for: it only drops what this connection wrote. It ends every read
        # (Database.read), so a trip to the thread each time would cost more than the read.
        self.sqlite.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def connect(path: str) -> InlineConnection:
    # Used from the loop's thread as well as aiosqlite's, never from both at once (see above).
    connection = aiosqlite.connect(path, check_same_thread=False)
    # As SQLAlchemy does for its own aiosqlite connections: a connection left open never keeps the
    # process from exiting.
    connection._thread.daemon = True
    return InlineConnection(await connection)


async def begin_writing(conn: AsyncConnection) -> None:
    """BEGIN IMMEDIATE on `conn`'s SQLite connection: here if the write lock is free, else in the
    thread, waiting up to busy_timeout for the other process holding it."""
    driver = _driver(conn)
    try:
        if not lock_if_free(driver.sqlite):
            await driver.in_thread(driver.sqlite.execute, WAITS_FOR_THE_LOCK)
    except sqlite3.Error as error:
        raise database_error(WAITS_FOR_THE_LOCK, error) from error


async def commit(conn: AsyncConnection) -> None:
    """COMMIT in aiosqlite's thread: it waits for the disk (fsync), and the loop goes on meanwhile."""
    driver = _driver(conn)
    try:
        await driver.in_thread(driver.sqlite.commit)
    except sqlite3.Error as error:
        raise database_error("COMMIT", error) from error


def database_error(sql: str, error: sqlite3.Error, parameters: Any = ()) -> sa.exc.StatementError:
    """The error as SQLAlchemy raises it (OperationalError, IntegrityError ...): callers catch those,
    e.g. the intake, which keeps an update to try again when the database fails."""
    return sa.exc.DBAPIError.instance(sql, parameters, error, sqlite3.Error, hide_parameters=True)


def sqlite_handle(conn: AsyncConnection) -> sqlite3.Connection:
    """The SQLite connection under `conn`, for statements run without SQLAlchemy (storage/prepared.py).

    A decision's connection is always inside its transaction (Database.begin). A reader's begins here
    at its first statement, as SQLAlchemy's would; Database.read ends it, and SQLAlchemy, finding the
    transaction open at its own first statement, joins it (storage/database.py, _begin)."""
    handle = sqlite_of(conn)
    begin_reading(handle)
    return handle


def sqlite_of(conn: AsyncConnection) -> sqlite3.Connection:
    return _driver(conn).sqlite


# Each connection's driver, looked up once: SQLAlchemy's way down to it is four properties deep, and
# every prepared statement needs it. Keyed by the sync Connection under the AsyncConnection, which hashes
# and compares as a plain object. Database never lets a connection reconnect under the same Connection
# (a failed one is closed and dropped), so what is kept here stays right.
_drivers: weakref.WeakKeyDictionary[sa.Connection, InlineConnection] = weakref.WeakKeyDictionary()


def _driver(conn: AsyncConnection) -> InlineConnection:
    sync = conn.sync_connection
    assert sync is not None, "the connection was not opened"
    driver = _drivers.get(sync)
    if driver is None:
        found = sync.connection.driver_connection
        assert isinstance(found, InlineConnection), "the engine was not opened by Database.open"
        driver = _drivers[sync] = found
    return driver
