"""Prepared statements: the queries every message runs, built and compiled once, then run on SQLite itself.

Building a SQLAlchemy statement costs about 140 µs of Python and running it through the async engine
another 70; SQLite answers an indexed query in 3. A resident's request runs a few dozen statements,
so under load the bot spent most of its time in SQLAlchemy (`guanjia bench --profile`). A statement
here is still written with SQLAlchemy, next to the others, but only once: at import it is compiled for
SQLite, and each call binds its values with the columns' own type processing (UTC datetimes, JSON,
booleans) and runs on the connection's SQLite handle, inside the transaction the caller's AsyncConnection
already holds. Rows come back as named tuples (`row.chat_id`), read through the same types.

Only statements with a fixed shape can be prepared: `IN` only over a list written into the statement,
no Python-side defaults. Everything else goes through SQLAlchemy as before.
"""

from __future__ import annotations

import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.inline import database_error, sqlite_handle

DIALECT = sqlite.dialect(paramstyle="qmark")
# Where a compiled statement takes a value: "?", or for IN over a list SQLAlchemy's "__[POSTCOMPILE_x]".
_PLACES = re.compile(r"\?|__\[POSTCOMPILE_\w+\]")

Processor = Callable[[Any], Any] | None


class Record(Protocol):
    """A row of a prepared query: its columns by name."""

    def __getattr__(self, name: str) -> Any: ...


class Prepared:
    """One statement, compiled once for SQLite; run with `await QUERY.first(conn, name=value)`."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement  # to build a variant from
        compiled = statement.compile(dialect=DIALECT)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a prepared statement cannot fill in Python-side defaults")
        names = list(compiled.positiontup or ())
        pieces = _PLACES.split(compiled.string)
        if len(pieces) != len(names) + 1:
            raise ValueError(f"cannot tell the statement's parameters apart: {compiled.string}")
        # The statement's own constants (a state, a kind, a LIMIT) are written into the SQL, so that
        # SQLite plans with them: a partial index (WHERE status = 'pending') is only used when the
        # query itself says status = 'pending'. Only the values given at each call stay parameters.
        sql = pieces[0]
        self._binds: list[tuple[str, Processor]] = []
        for name, after in zip(names, pieces[1:], strict=True):
            bind = compiled.binds[name]
            if bind.callable is not None:
                raise ValueError("a prepared statement cannot take a value computed per call")
            if bind.expanding and (bind.required or not bind.value):
                raise ValueError(
                    "IN can only be prepared over a fixed list; use SQLAlchemy for a list per call"
                )
            if bind.required:
                self._binds.append((bind.key, bind.type.dialect_impl(DIALECT).bind_processor(DIALECT)))
                sql += "?" + after
            else:
                constants = bind.value if bind.expanding else [bind.value]
                sql += ", ".join(_literal(bind.type, value) for value in constants) + after
        self.sql = sql
        self._readers: list[Processor] = []
        self._row: Callable[[Sequence[Any]], Any] | None = None
        selected = getattr(statement, "selected_columns", None)
        if selected is not None:
            columns = list(selected)
            self._readers = [c.type.dialect_impl(DIALECT).result_processor(DIALECT, None) for c in columns]
            row_type: Any = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]
            self._row = row_type._make

    def _values(self, params: dict[str, Any]) -> list[Any]:
        try:
            return [
                processor(params[name]) if processor is not None else params[name]
                for name, processor in self._binds
            ]
        except KeyError as missing:
            raise TypeError(f"the prepared statement needs a value for {missing}: {self.sql}") from None

    async def _cursor(self, conn: AsyncConnection, params: dict[str, Any]) -> sqlite3.Cursor:
        values = self._values(params)
        try:
            return sqlite_handle(conn).execute(self.sql, values)
        except sqlite3.Error as error:
            raise database_error(self.sql, error, values) from error

    def _read(self, raw: Sequence[Any]) -> Record:
        assert self._row is not None, "only a query returns rows"
        values = [r(v) if r is not None else v for r, v in zip(self._readers, raw, strict=True)]
        row: Record = self._row(values)
        return row

    async def all(self, conn: AsyncConnection, **params: Any) -> list[Record]:
        cursor = await self._cursor(conn, params)
        try:
            return [self._read(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    async def first(self, conn: AsyncConnection, **params: Any) -> Record | None:
        cursor = await self._cursor(conn, params)
        try:
            raw = cursor.fetchone()
            return self._read(raw) if raw is not None else None
        finally:
            cursor.close()

    async def scalar(self, conn: AsyncConnection, **params: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.first(conn, **params)
        return row[0] if row is not None else None  # type: ignore[index]

    async def run(self, conn: AsyncConnection, **params: Any) -> int:
        """An UPDATE or DELETE; returns how many rows it changed."""
        cursor = await self._cursor(conn, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    async def insert(self, conn: AsyncConnection, **params: Any) -> int:
        """An INSERT; returns the new row's id."""
        cursor = await self._cursor(conn, params)
        try:
            row_id = cursor.lastrowid
            assert row_id is not None
            return row_id
        finally:
            cursor.close()

    async def run_many(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        values = [self._values(params) for params in rows]
        try:
            sqlite_handle(conn).executemany(self.sql, values).close()
        except sqlite3.Error as error:
            raise database_error(self.sql, error, values) from error


def insert_into(table: sa.Table, columns: Sequence[str]) -> Prepared:
    """An INSERT of these columns, each given by its name at every call; the others take their defaults."""
    return Prepared(table.insert().values({name: sa.bindparam(name) for name in columns}))


def _literal(type_: Any, value: Any) -> str:
    if value is None:
        return "NULL"
    render = type_.dialect_impl(DIALECT).literal_processor(DIALECT)
    if render is None:
        raise ValueError(f"cannot write a {type_!r} constant into a prepared statement")
    return str(render(value))
