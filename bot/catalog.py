"""The price list of paid special services (特约服务, 明码标价): the file a manager keeps, and its import.

Each service has a stable code, a name, a description and a unit in both languages, a price and whether
it is offered. The file is TOML (one ``[[service]]`` table each, see catalog.example.toml) or CSV (one
row each, columns code,name_zh,name_en,description_zh,description_en,price,unit_zh,unit_en,active), as
a spreadsheet saves it; the extension says which.

The import is all or nothing: every service is checked first and any error, each named by where it is in
the file, imports nothing. It is idempotent by code: importing the same file again changes nothing, and
a changed price or name updates the service in place. A service no longer in the file is withdrawn
(inactive), never deleted: orders name it, and listing it again offers it again. What was already
ordered keeps the price it was ordered at (storage/service_orders.py copies it).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import SystemClock
from bot.money import read_amount, to_cents
from storage import catalog as catalog_queries
from storage import people as people_queries
from storage.database import Database
from storage.people import UnknownEstate

FORMATS = (".toml", ".csv")
COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "price",
    "unit_zh",
    "unit_en",
    "active",
)
REQUIRED = ("code", "name_zh", "name_en", "price", "unit_zh", "unit_en")
# A code is how a re-import recognises a service and how logs name it: short, plain ASCII.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
# Names are button labels and units follow a price on one line; a description must fit one message.
LONGEST = {"name": 60, "unit": 20, "description": 1000}
_YES = {"yes", "y", "true", "1", "是", ""}
_NO = {"no", "n", "false", "0", "否"}


class CatalogRefused(Exception):
    """The import cannot be run as asked (no such database or estate); the message says why."""


@dataclass(frozen=True)
class CatalogEntry:
    """One service as the file lists it, checked."""

    where: str  # "row 3" or "service 2": where the person editing the file finds it
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    unit_zh: str
    unit_en: str
    price_cents: int
    active: bool

    def values(self, position: int) -> dict[str, Any]:
        return {
            "position": position,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
            "unit_zh": self.unit_zh,
            "unit_en": self.unit_en,
            "price_cents": self.price_cents,
            "active": self.active,
        }


@dataclass
class CatalogReport:
    estate: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0  # offered before, not any more (left out of the file, or marked inactive)
    offered: int = 0


@dataclass
class ReadCatalog:
    entries: list[CatalogEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_catalog(text: str, suffix: str) -> ReadCatalog:
    """Check every service of a catalog file's text (`suffix` .toml or .csv); errors name where they are."""
    result = ReadCatalog()
    records = _toml_records(text, result.errors) if suffix == ".toml" else _csv_records(text, result.errors)
    first_seen: dict[str, str] = {}
    for where, record in records:
        entry = _entry(where, record, result.errors)
        if entry is None:
            continue
        if entry.code in first_seen:
            result.errors.append(
                f"{where}: code {entry.code!r} is listed twice (first at {first_seen[entry.code]})"
            )
            continue
        first_seen[entry.code] = where
        result.entries.append(entry)
    if not records and not result.errors:
        result.errors.append("the file lists no services")
    return result


def read_catalog_file(path: Path) -> ReadCatalog:
    """Read a .toml or .csv catalog file (UTF-8, with or without Excel's BOM); OSError or
    UnicodeDecodeError if it cannot be read."""
    return read_catalog(path.read_text(encoding="utf-8-sig"), path.suffix.lower())


def _toml_records(text: str, errors: list[str]) -> list[tuple[str, dict[str, object]]]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        errors.append(f"not valid TOML: {error}")
        return []
    unknown = set(raw) - {"service"}
    if unknown:
        errors.append(f"unknown top-level key(s) {', '.join(sorted(unknown))}; list services as [[service]]")
    services = raw.get("service", [])
    if not isinstance(services, list):
        errors.append("service must be a list of [[service]] tables")
        return []
    records = []
    for number, service in enumerate(services, start=1):
        where = f"service {number}"
        if not isinstance(service, dict):
            errors.append(f"{where}: not a table")
            continue
        # name = {zh = ..., en = ...} (or name.zh = ...) reads as name_zh and name_en, the CSV's columns.
        flat: dict[str, object] = {}
        for key, value in service.items():
            if isinstance(value, dict):
                flat.update({f"{key}_{language}": text for language, text in value.items()})
            else:
                flat[key] = value
        code = flat.get("code")
        records.append((f"{where} ({code})" if isinstance(code, str) and code else where, flat))
    return records


def _csv_records(text: str, errors: list[str]) -> list[tuple[str, dict[str, object]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        errors.append(f"row 1 (the header): {'; '.join(problems)}; the columns are {','.join(COLUMNS)}")
        return []
    reader.fieldnames = header
    records: list[tuple[str, dict[str, object]]] = []
    for row in reader:
        if None in row:
            errors.append(f"row {reader.line_num}: more cells than columns")
            continue
        if not any((value or "").strip() for value in row.values()):
            continue  # a blank line a spreadsheet left
        code = (row.get("code") or "").strip()
        where = f"row {reader.line_num}" + (f" ({code})" if code else "")
        records.append((where, {key: value for key, value in row.items() if value is not None}))
    return records


def _entry(where: str, record: dict[str, object], errors: list[str]) -> CatalogEntry | None:
    problems = [f"unknown key {key!r}" for key in record if key not in COLUMNS]
    texts: dict[str, str] = {}
    for key in COLUMNS:
        if key in ("price", "active"):
            continue
        value = record.get(key, "")
        if not isinstance(value, str):
            problems.append(f"{key} must be text")
            continue
        texts[key] = value.strip()
        kind = key.rsplit("_", 1)[0]
        if key in REQUIRED and not texts[key]:
            problems.append(f"{key} is missing")
        elif kind in LONGEST and len(texts[key]) > LONGEST[kind]:
            problems.append(f"{key} is longer than {LONGEST[kind]} characters")
        elif kind in ("name", "unit") and "\n" in texts[key]:
            problems.append(f"{key} must be on one line")
    code = texts.get("code", "")
    if code and not CODE.fullmatch(code):
        problems.append(
            f"code {code!r} is not 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    price = _price(record.get("price"))
    if price is None:
        problems.append(f"price {record.get('price', '')!r} is not an amount above 0 like 120 or 120.50")
    active = _active(record.get("active", True))
    if active is None:
        problems.append(f"active {record.get('active')!r} is not yes or no")
    if problems:
        errors.extend(f"{where}: {problem}" for problem in problems)
        return None
    assert price is not None and active is not None
    return CatalogEntry(
        where=where,
        code=code,
        name_zh=texts["name_zh"],
        name_en=texts["name_en"],
        description_zh=texts["description_zh"],
        description_en=texts["description_en"],
        unit_zh=texts["unit_zh"],
        unit_en=texts["unit_en"],
        price_cents=price,
        active=active,
    )


def _price(value: object) -> int | None:
    """Cents, read as people write a price ("120", "¥1,280.00", 120 or 120.5 in TOML); never a float sum."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    amount = read_amount(str(value))  # a TOML float's str() is its shortest exact decimal form: 19.99
    return to_cents(amount) if amount is not None else None


def _active(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in _YES else False if word in _NO else None
    return None


async def import_catalog(
    conn: AsyncConnection, estate_id: int, entries: list[CatalogEntry], now: datetime
) -> CatalogReport:
    """Make the estate's catalog what the (already checked) entries say, in their order."""
    report = CatalogReport()
    stored = {
        item.code: item for item in await catalog_queries.items_of_estate(conn, estate_id, active_only=False)
    }
    for position, entry in enumerate(entries, start=1):
        values = entry.values(position)
        item = stored.pop(entry.code, None)
        if item is None:
            await catalog_queries.add_item(conn, estate_id, entry.code, values, now)
            report.added += 1
            continue
        if all(getattr(item, key) == value for key, value in values.items()):
            report.unchanged += 1
            continue
        await catalog_queries.update_item(conn, item.id, values, now)
        if item.active and not entry.active:
            report.withdrawn += 1
        else:
            report.updated += 1
    for item in stored.values():  # no longer in the file: withdrawn, kept for the orders that name it
        if item.active:
            await catalog_queries.update_item(conn, item.id, {"active": False}, now)
            report.withdrawn += 1
    report.offered = sum(entry.active for entry in entries)
    return report


def catalog_command(path: Path, db_path: Path, estate: str | None) -> int:
    """`guanjia catalog import FILE --db PATH [--estate NAME]`. Exit 0 imported; 1 the file cannot be
    read or has errors, and nothing was imported; 2 it cannot be run as asked (not a .toml or .csv file,
    no such database, which is never created, or no such estate)."""
    command = "guanjia catalog import"
    if path.suffix.lower() not in FORMATS:
        print(f"{command}: {path}: a catalog is a .toml or a .csv file", file=sys.stderr)
        return 2
    try:
        read = read_catalog_file(path)
    except (OSError, UnicodeDecodeError) as error:
        print(f"{command}: cannot read {path}: {error}", file=sys.stderr)
        return 1
    if read.errors:
        for problem in read.errors:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{path}: {len(read.errors)} error(s); nothing was imported", file=sys.stderr)
        return 1
    if not db_path.is_file():
        print(f"{command}: {db_path}: no such database file; import the roster first", file=sys.stderr)
        return 2
    try:
        name, report = asyncio.run(_import_into(db_path, estate, read.entries))
    except (CatalogRefused, UnknownEstate) as error:
        print(f"{command}: {error}; nothing was imported", file=sys.stderr)
        return 2
    print(
        f"{path}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.withdrawn} withdrawn; estate {name!r} now offers {report.offered} service(s)"
    )
    return 0


async def _import_into(
    db_path: Path, estate: str | None, entries: list[CatalogEntry]
) -> tuple[str, CatalogReport]:
    db = await Database.open(db_path)
    try:
        async with db.begin() as conn:
            chosen = await people_queries.estate_named(conn, estate)
            return chosen.name, await import_catalog(conn, chosen.id, entries, SystemClock().now())
    finally:
        await db.close()
