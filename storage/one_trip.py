"""aiosqlite, with one trip to its thread per statement.

aiosqlite runs SQLite in a thread of its own and hands every call over to it: SQLAlchemy's adapter
makes four such trips for one statement (open a cursor, execute, fetch the rows, close the cursor),
and each trip costs two thread wake-ups. Profiling the bot under load (`guanjia bench --profile`)
showed the event loop idle most of the time, waiting on those trips: a ticket took ~120 of them.

The cursor here does the whole statement in one trip, rows and all, and gives SQLAlchemy the answers
it asks for afterwards from memory. Results are small here (the export, the largest, is read whole
anyway), so nothing is lost by fetching every row at once. The connection is otherwise aiosqlite's
own; SQLAlchemy gets it through `create_async_engine(..., async_creator=connect)`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiosqlite

Description = tuple[tuple[Any, ...], ...] | None
Outcome = tuple[Description, list[Any], int, int | None]


def _execute(connection: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> Outcome:
    """In aiosqlite's thread: the statement, its rows and what SQLAlchemy reads from the cursor."""
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


class OneTripCursor:
    """The async cursor SQLAlchemy's aiosqlite adapter expects, one thread trip per execute."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> OneTripCursor:
        self._take(await self._in_thread(_execute, sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> OneTripCursor:
        self._take(await self._in_thread(_execute_many, sql, parameters))
        return self

    async def _in_thread(self, statement: Callable[..., Outcome], sql: str, parameters: Any) -> Outcome:
        # aiosqlite's own way into its thread (SQLAlchemy's adapter uses its internals too).
        run: Callable[..., Awaitable[Outcome]] = self._connection._execute
        return await run(statement, self._connection._conn, sql, parameters)

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


class OneTripConnection:
    """aiosqlite's connection, whose cursors make one trip per statement; the rest is aiosqlite's."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._inner = connection

    def cursor(self) -> OneTripCursor:
        return OneTripCursor(self._inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def connect(path: str) -> OneTripConnection:
    connection = aiosqlite.connect(path)
    # As SQLAlchemy does for its own aiosqlite connections: a connection left open never keeps the
    # process from exiting.
    connection._thread.daemon = True
    return OneTripConnection(await connection)
